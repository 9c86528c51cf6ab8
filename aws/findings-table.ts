import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsContext } from './context';
import { findingsTableSchema } from '../shared/findings/tables';

export interface FindingsTableOptions {
  /**
   * Findings are the stack's security history (what was open, when, who was told), which no rescan brings
   * back: the table refuses deletion until this is turned off, so a `pulumi destroy` or a replacement stops
   * instead of dropping it. Point-in-time recovery covers mistakes inside the table.
   */
  deletionProtection?: boolean;
}

/**
 * The DynamoDB `findings` table (runtime: functions/aws/findings-store.ts). Keys and indexes come from the
 * one definition the store uses (shared/findings/tables.ts); on demand, encrypted with the stack key,
 * point-in-time recovery on, no TTL (a resolved finding is history, not cache).
 */
export function findingsTable(name: string, ctx: AwsContext, key: aws.kms.Key, parent: pulumi.Resource, options: FindingsTableOptions = {}): aws.dynamodb.Table {
  const schema = findingsTableSchema();
  const keyOf = (elements: typeof schema.KeySchema, type: 'HASH' | 'RANGE'): string => {
    const found = elements.find((e) => e.KeyType === type);
    if (!found) throw new Error(`findings table schema has no ${type} key`);
    return found.AttributeName;
  };
  return new aws.dynamodb.Table(
    name,
    {
      billingMode: schema.BillingMode,
      hashKey: keyOf(schema.KeySchema, 'HASH'),
      rangeKey: keyOf(schema.KeySchema, 'RANGE'),
      attributes: schema.AttributeDefinitions.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
      globalSecondaryIndexes: schema.GlobalSecondaryIndexes.map((index) => ({
        name: index.IndexName,
        keySchemas: index.KeySchema.map((k) => ({ attributeName: k.AttributeName, keyType: k.KeyType })),
        projectionType: index.Projection.ProjectionType,
      })),
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
      deletionProtectionEnabled: options.deletionProtection ?? true,
      tags: ctx.tags,
    },
    { parent },
  );
}
