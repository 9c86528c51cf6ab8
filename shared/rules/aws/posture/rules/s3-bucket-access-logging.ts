import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { BUCKET } from '../kinds';
import type { S3BucketShape } from '../shapes';
import { failing, failure } from './common';

export const s3BucketAccessLogging: AwsPostureRule<S3BucketShape> = {
  id: 'aws.s3.bucket-access-logging-off',
  title: 'S3 bucket server access logging off',
  severity: 'LOW',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'Without server access logs there is no record of who read or wrote which object (CloudTrail logs object calls only with data events on).',
  remediation: {
    text: 'Turn on server access logging into a dedicated log bucket (aws s3api put-bucket-logging), or S3 data events in CloudTrail.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/ServerLogs.html',
  },
  resourceType: BUCKET.type,
  triggers: BUCKET.triggers,
  evaluate(config) {
    if (config.Logging.LoggingEnabled?.TargetBucket) return passes();
    return failing([failure('access-logging', { loggingEnabled: false }, { title: `S3 bucket ${config.Name} has server access logging off` })]);
  },
};
