import type { ActivityDetector } from '../types';
import { arn, bool, fail, field, pass, request, resource, response, str } from './record';

/**
 * A database instance or cluster made reachable from the internet (seed 002's rds_handler). On Modify,
 * `requestParameters.publiclyAccessible` is the change (absent = unchanged; false resolves). On Create the
 * response holds the effective value (the default depends on the subnet group), so it wins over the request.
 */

const CLUSTER_EVENTS = new Set(['CreateDBCluster', 'ModifyDBCluster', 'DeleteDBCluster']);

export const rdsPubliclyAccessible: ActivityDetector = {
  id: 'aws.rds.publicly-accessible',
  title: 'RDS database made publicly accessible',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'rds',
  risk: 'A publicly accessible database gets a public DNS name and address; with a permissive security group, anyone can try its credentials or exploit its engine.',
  remediation: {
    text: 'Set PubliclyAccessible to false and reach the database from inside the VPC (bastion, VPN, RDS Proxy); keep its security group closed to the internet.',
    url: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html',
  },
  eventSource: 'rds.amazonaws.com',
  eventNames: ['CreateDBInstance', 'ModifyDBInstance', 'DeleteDBInstance', 'CreateDBCluster', 'ModifyDBCluster', 'DeleteDBCluster'],
  match(record, ctx) {
    const req = request(record);
    const resp = response(record);
    const cluster = CLUSTER_EVENTS.has(record.eventName);
    const idField = cluster ? ['dBClusterIdentifier', 'dbClusterIdentifier', 'DBClusterIdentifier'] : ['dBInstanceIdentifier', 'dbInstanceIdentifier', 'DBInstanceIdentifier'];
    const given = str(field(req, ...idField)) ?? str(field(resp, ...idField));
    if (!given) return [];
    // RDS stores identifiers in lower case whatever the caller typed: one database, one resource id.
    const id = given.toLowerCase();
    const database = resource(cluster ? 'AWS::RDS::DBCluster' : 'AWS::RDS::DBInstance', arn(ctx, 'rds', `${cluster ? 'cluster' : 'db'}:${id}`), id);
    if (record.eventName.startsWith('Delete')) return [pass(database, '', 'database deleted')];
    const publicly = record.eventName.startsWith('Create') ? bool(resp.publiclyAccessible) ?? bool(req.publiclyAccessible) : bool(req.publiclyAccessible);
    if (publicly === undefined) return [];
    if (!publicly) return [pass(database, '', 'no longer publicly accessible')];
    return [
      fail(
        database,
        '',
        { publiclyAccessible: true, engine: str(field(req, 'engine')) ?? str(field(resp, 'engine')) ?? 'unknown' },
        { title: `RDS ${cluster ? 'cluster' : 'instance'} ${id} made publicly accessible` },
      ),
    ];
  },
};
