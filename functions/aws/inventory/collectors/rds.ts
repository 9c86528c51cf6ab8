import { DescribeDBInstancesCommand, paginateDescribeDBInstances, type DBInstance, type DescribeDBInstancesCommandOutput } from '@aws-sdk/client-rds';
import { DB_INSTANCE, RESOURCE_TYPES } from '../../../../shared/rules/aws/posture/kinds';
import type { RdsInstanceShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, pages } from '../calls';
import type { CollectedResource, CollectorContext, ServiceCollector } from './types';

/** RDS: every DB instance of a region (DescribeDBInstances carries its tags). */

function resourceOf(ctx: CollectorContext, db: DBInstance): CollectedResource {
  const config: RdsInstanceShape = {
    DBInstanceIdentifier: db.DBInstanceIdentifier!,
    DBInstanceArn: db.DBInstanceArn!,
    Engine: db.Engine,
    DBInstanceStatus: db.DBInstanceStatus,
    PubliclyAccessible: db.PubliclyAccessible,
    StorageEncrypted: db.StorageEncrypted,
    KmsKeyId: db.KmsKeyId,
    DBClusterIdentifier: db.DBClusterIdentifier,
    TagList: (db.TagList ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
  };
  return { account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.dbInstance, arn: config.DBInstanceArn, name: config.DBInstanceIdentifier, tags: DB_INSTANCE.tagsOf(config), config };
}

export const rdsCollector: ServiceCollector = {
  service: 'rds',
  scope: 'region',
  async collect(ctx) {
    const rds = ctx.clients.get('rds', ctx.account, ctx.region);
    const out: CollectedResource[] = [];
    for await (const page of pages(ctx.counter, 'DescribeDBInstances', paginateDescribeDBInstances({ client: rds, pageSize: 100 }, {}))) {
      for (const db of page.DBInstances ?? []) if (db.DBInstanceArn && db.DBInstanceIdentifier) out.push(resourceOf(ctx, db));
    }
    return out;
  },
  async describe(ctx, resource) {
    const rds = ctx.clients.get('rds', ctx.account, ctx.region);
    const identifier = resource.arn.slice(resource.arn.lastIndexOf(':') + 1);
    try {
      const answer = await call<DescribeDBInstancesCommandOutput>(ctx.counter, 'DescribeDBInstances', rds, new DescribeDBInstancesCommand({ DBInstanceIdentifier: identifier }));
      const db = answer.DBInstances?.find((d) => d.DBInstanceArn);
      return db ? resourceOf(ctx, db) : undefined;
    } catch (error) {
      if (/^DBInstanceNotFound(Fault)?$/.test(errorName(error))) return undefined;
      throw error;
    }
  },
};
