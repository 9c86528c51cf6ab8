import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { BUCKET } from '../kinds';
import type { S3BucketShape } from '../shapes';
import { blockPublicAccessOff, failing, failure } from './common';

export const s3BucketBlockPublicAccess: AwsPostureRule<S3BucketShape> = {
  id: 'aws.s3.bucket-block-public-access-disabled',
  title: 'S3 bucket without Block Public Access',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'Without all four Block Public Access settings on the bucket, a public ACL or bucket policy written later takes effect unless the account-wide setting stops it.',
  remediation: {
    text: 'Turn on all four Block Public Access settings of the bucket (aws s3api put-public-access-block); grant the access a workload needs through a limited bucket policy or CloudFront.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-bucket.html',
  },
  resourceType: BUCKET.type,
  triggers: BUCKET.triggers,
  evaluate(config) {
    const off = blockPublicAccessOff(config.PublicAccessBlock);
    if (off.length === 0) return passes();
    return failing([
      failure(
        'public-access-block',
        { configured: config.PublicAccessBlock !== null, settingsOff: off },
        { title: `S3 bucket ${config.Name} ${config.PublicAccessBlock === null ? 'has no Block Public Access configuration' : `has Block Public Access off (${off.join(', ')})`}` },
      ),
    ]);
  },
};
