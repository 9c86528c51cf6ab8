import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { S3_ACCOUNT } from '../kinds';
import type { S3AccountShape } from '../shapes';
import { blockPublicAccessOff, failing, failure } from './common';

export const s3AccountBlockPublicAccess: AwsPostureRule<S3AccountShape> = {
  id: 'aws.s3.account-block-public-access-disabled',
  title: 'S3 Block Public Access off for the account',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'The account-wide setting protects every bucket, including those created later; without it each bucket is only as safe as its own settings.',
  remediation: {
    text: 'Turn on all four account-level Block Public Access settings (aws s3control put-public-access-block --account-id <id>).',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/configuring-block-public-access-account.html',
  },
  resourceType: S3_ACCOUNT.type,
  triggers: S3_ACCOUNT.triggers,
  evaluate(config) {
    const off = blockPublicAccessOff(config.PublicAccessBlock);
    if (off.length === 0) return passes();
    return failing([
      failure('public-access-block', { configured: config.PublicAccessBlock !== null, settingsOff: off }, { title: `S3 Block Public Access is not fully on for account ${config.AccountId}` }),
    ]);
  },
};
