import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { DB_INSTANCE } from '../kinds';
import type { RdsInstanceShape } from '../shapes';
import { failing, failure } from './common';

export const rdsStorageUnencrypted: AwsPostureRule<RdsInstanceShape> = {
  id: 'aws.rds.storage-unencrypted',
  title: 'RDS instance storage not encrypted',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 'rds',
  risk: 'Unencrypted storage leaves the data, its automated backups, snapshots and read replicas readable to whoever gets the underlying volumes or a shared snapshot.',
  remediation: {
    text: 'Encryption cannot be switched on in place: copy a snapshot with encryption (aws rds copy-db-snapshot --kms-key-id ...), restore it, and move clients to the new instance.',
    url: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html',
  },
  resourceType: DB_INSTANCE.type,
  triggers: DB_INSTANCE.triggers,
  evaluate(config) {
    if (config.StorageEncrypted === true) return passes();
    return failing([failure('storage-encryption', { storageEncrypted: config.StorageEncrypted ?? null }, { title: `RDS instance ${config.DBInstanceIdentifier} storage is not encrypted` })]);
  },
};
