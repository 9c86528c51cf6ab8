import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsContext } from './context';
import { denyInsecureTransport, policyDocument, policyJson, type PolicyStatement } from './policy';

export interface SecureBucketOptions {
  key: aws.kms.Key;
  /** Expire current objects after this many days (noncurrent versions after 30). */
  expireAfterDays?: number;
  /** Statements added to the bucket policy besides the TLS-only deny. */
  statements?: (bucket: aws.s3.Bucket) => PolicyStatement[];
  /** Let `pulumi destroy` delete a bucket that still holds objects (default false: results are kept). */
  forceDestroy?: boolean;
}

export interface SecureBucket {
  bucket: aws.s3.Bucket;
  policy: aws.s3.BucketPolicy;
}

/**
 * An S3 bucket that is private (all four public access blocks, ACLs disabled), encrypted with the
 * stack's KMS key (bucket key on, which cuts KMS calls), versioned, and reachable only over TLS.
 */
export function secureBucket(name: string, ctx: AwsContext, options: SecureBucketOptions, parent: pulumi.Resource): SecureBucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(name, { forceDestroy: options.forceDestroy ?? false, tags: ctx.tags }, opts);
  new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, opts);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: options.key.arn }, bucketKeyEnabled: true }],
    },
    opts,
  );
  const versioning = new aws.s3.BucketVersioning(name, { bucket: bucket.id, versioningConfiguration: { status: 'Enabled' } }, opts);
  new aws.s3.BucketLifecycleConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [
        {
          id: 'expire-old-objects',
          status: 'Enabled',
          filter: {},
          ...(options.expireAfterDays ? { expiration: { days: options.expireAfterDays } } : {}),
          noncurrentVersionExpiration: { noncurrentDays: 30 },
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
      ],
    },
    { parent, dependsOn: [versioning] },
  );
  const policy = new aws.s3.BucketPolicy(
    name,
    {
      bucket: bucket.id,
      policy: policyJson(
        policyDocument([denyInsecureTransport([bucket.arn, pulumi.interpolate`${bucket.arn}/*`], 's3:*'), ...(options.statements?.(bucket) ?? [])]),
      ),
    },
    // S3 rejects policies while the public access block is being applied.
    { parent, dependsOn: [publicAccess] },
  );
  return { bucket, policy };
}
