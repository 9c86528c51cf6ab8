import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { BUCKET } from '../kinds';
import type { S3BucketShape } from '../shapes';
import { failing, failure } from './common';

export const s3BucketVersioning: AwsPostureRule<S3BucketShape> = {
  id: 'aws.s3.bucket-versioning-off',
  title: 'S3 bucket versioning off',
  severity: 'LOW',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'Without versioning an overwritten or deleted object is gone: an accident or a ransomware-style overwrite cannot be rolled back.',
  remediation: {
    text: 'Enable versioning (aws s3api put-bucket-versioning --versioning-configuration Status=Enabled) and expire old versions with a lifecycle rule.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/Versioning.html',
  },
  resourceType: BUCKET.type,
  triggers: BUCKET.triggers,
  evaluate(config) {
    const status = config.Versioning.Status;
    if (status === 'Enabled') return passes();
    return failing([failure('versioning', { status: status ?? 'never enabled' }, { title: `S3 bucket ${config.Name} versioning is ${status === 'Suspended' ? 'suspended' : 'off'}` })]);
  },
};
