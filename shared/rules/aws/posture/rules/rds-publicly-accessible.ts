import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { DB_INSTANCE } from '../kinds';
import type { RdsInstanceShape } from '../shapes';
import { failing, failure } from './common';

export const rdsPubliclyAccessible: AwsPostureRule<RdsInstanceShape> = {
  id: 'aws.rds.instance-publicly-accessible',
  title: 'RDS instance publicly accessible',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'rds',
  risk: 'A publicly accessible instance has a public DNS name and address; only its security group stands between the database port and the internet.',
  remediation: {
    text: 'Turn public accessibility off (aws rds modify-db-instance --no-publicly-accessible) and reach the database through the VPC (VPN, bastion, PrivateLink).',
    url: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_VPC.WorkingWithRDSInstanceinaVPC.html#USER_VPC.Hiding',
  },
  resourceType: DB_INSTANCE.type,
  triggers: DB_INSTANCE.triggers,
  evaluate(config) {
    if (config.PubliclyAccessible !== true) return passes();
    return failing([failure('publicly-accessible', { publiclyAccessible: true, engine: config.Engine ?? null }, { title: `RDS instance ${config.DBInstanceIdentifier} is publicly accessible` })]);
  },
};
