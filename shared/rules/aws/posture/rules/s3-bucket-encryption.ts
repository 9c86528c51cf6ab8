import type { AwsPostureRule } from '../types';
import { passes } from '../types';
import { BUCKET } from '../kinds';
import type { S3BucketShape } from '../shapes';
import { failing, failure } from './common';

export const s3BucketEncryption: AwsPostureRule<S3BucketShape> = {
  id: 'aws.s3.bucket-default-encryption-missing',
  title: 'S3 bucket without default encryption',
  severity: 'MEDIUM',
  cloud: 'aws',
  category: 'posture',
  service: 's3',
  risk: 'Objects written without an encryption header are stored as the client sent them; default encryption makes every new object encrypted at rest (SSE-S3 or SSE-KMS).',
  remediation: {
    text: 'Set default encryption on the bucket (aws s3api put-bucket-encryption), SSE-KMS with a customer managed key where key policies should decide who reads.',
    url: 'https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html',
  },
  resourceType: BUCKET.type,
  triggers: BUCKET.triggers,
  evaluate(config) {
    const algorithms = (config.Encryption?.Rules ?? []).map((r) => r.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).filter((a): a is string => typeof a === 'string' && a.length > 0);
    if (algorithms.length > 0) return passes();
    return failing([failure('default-encryption', { configured: config.Encryption !== null }, { title: `S3 bucket ${config.Name} has no default encryption` })]);
  },
};
