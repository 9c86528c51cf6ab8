import type { InventoryService } from '../../../../shared/rules/aws/posture/types';
import { cloudTrailCollector } from './cloudtrail';
import { ec2Collector } from './ec2';
import { elbv2Collector } from './elbv2';
import { iamCollector } from './iam';
import { kmsCollector } from './kms';
import { lambdaCollector } from './lambda';
import { rdsCollector } from './rds';
import { s3Collector } from './s3';
import type { ServiceCollector } from './types';

export const COLLECTORS: { [S in InventoryService]: ServiceCollector } = {
  s3: s3Collector,
  ec2: ec2Collector,
  iam: iamCollector,
  lambda: lambdaCollector,
  rds: rdsCollector,
  elbv2: elbv2Collector,
  cloudtrail: cloudTrailCollector,
  kms: kmsCollector,
};

export type { CollectedResource, CollectorContext, ServiceCollector } from './types';
