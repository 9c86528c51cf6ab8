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

type DefaultEncryption = aws.types.input.s3.BucketServerSideEncryptionConfigurationRule;

/**
 * The parts every bucket of the stack shares: private (all four public access blocks, ACLs
 * disabled), default encryption, versioned, expiring, and reachable only over TLS.
 */
function privateBucket(
  name: string,
  ctx: AwsContext,
  options: { encryption: DefaultEncryption; expireAfterDays?: number; forceDestroy?: boolean; statements: (bucket: aws.s3.Bucket) => PolicyStatement[] },
  parent: pulumi.Resource,
): SecureBucket {
  const opts = { parent };
  const bucket = new aws.s3.Bucket(name, { forceDestroy: options.forceDestroy ?? false, tags: ctx.tags }, opts);
  new aws.s3.BucketOwnershipControls(name, { bucket: bucket.id, rule: { objectOwnership: 'BucketOwnerEnforced' } }, opts);
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
    { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
    opts,
  );
  new aws.s3.BucketServerSideEncryptionConfiguration(name, { bucket: bucket.id, rules: [options.encryption] }, opts);
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
      policy: policyJson(policyDocument([denyInsecureTransport([bucket.arn, pulumi.interpolate`${bucket.arn}/*`], 's3:*'), ...options.statements(bucket)])),
    },
    // S3 rejects policies while the public access block is being applied.
    { parent, dependsOn: [publicAccess] },
  );
  return { bucket, policy };
}

/**
 * An S3 bucket that is private (all four public access blocks, ACLs disabled), encrypted with the
 * stack's KMS key (bucket key on, which cuts KMS calls), versioned, and reachable only over TLS.
 */
export function secureBucket(name: string, ctx: AwsContext, options: SecureBucketOptions, parent: pulumi.Resource): SecureBucket {
  return privateBucket(
    name,
    ctx,
    {
      encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms', kmsMasterKeyId: options.key.arn }, bucketKeyEnabled: true },
      ...(options.expireAfterDays ? { expireAfterDays: options.expireAfterDays } : {}),
      ...(options.forceDestroy !== undefined ? { forceDestroy: options.forceDestroy } : {}),
      statements: options.statements ?? (() => []),
    },
    parent,
  );
}

/** A bucket whose S3 server access logs are kept (FSBP S3.9, CIS). */
export interface AccessLogSource {
  /** Logical name of the source bucket; its logging configuration takes the same name. */
  name: string;
  /** Key prefix of its logs in the log bucket, also the policy's scope for it: `results`, `trail`. */
  prefix: string;
  bucket: aws.s3.Bucket;
}

export interface AccessLogs extends SecureBucket {
  loggings: aws.s3.BucketLogging[];
}

/**
 * S3 server access logging for `sources` into a log bucket of their own, which meets the same
 * invariants except one: S3 log delivery cannot write to a bucket whose default encryption is
 * SSE-KMS, so this bucket (and only this one) is encrypted with SSE-S3. Delivery is granted by
 * bucket policy (ACLs are disabled): `logging.s3.amazonaws.com` may put objects under each source's
 * prefix, only for that source bucket (aws:SourceArn) in this account (aws:SourceAccount). The log
 * bucket does not log itself (that would log its own deliveries, endlessly).
 */
export function accessLogging(name: string, ctx: AwsContext, options: { expireAfterDays: number; sources: readonly AccessLogSource[] }, parent: pulumi.Resource): AccessLogs {
  const logs = privateBucket(
    name,
    ctx,
    {
      encryption: { applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } },
      expireAfterDays: options.expireAfterDays,
      statements: (b) =>
        options.sources.map(
          (source): PolicyStatement => ({
            Sid: `AccessLogsFrom${source.prefix.charAt(0).toUpperCase()}${source.prefix.slice(1).replace(/[^A-Za-z0-9]/g, '')}`,
            Effect: 'Allow',
            Principal: { Service: 'logging.s3.amazonaws.com' },
            Action: 's3:PutObject',
            Resource: pulumi.interpolate`${b.arn}/${source.prefix}/*`,
            Condition: { ArnEquals: { 'aws:SourceArn': source.bucket.arn }, StringEquals: { 'aws:SourceAccount': ctx.accountId } },
          }),
        ),
    },
    parent,
  );
  const loggings = options.sources.map(
    (source) =>
      new aws.s3.BucketLogging(
        source.name,
        {
          bucket: source.bucket.id,
          targetBucket: logs.bucket.id,
          targetPrefix: `${source.prefix}/`,
          // <prefix>/<account>/<region>/<bucket>/YYYY/MM/DD/...: queryable by date with Athena.
          targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } },
        },
        // Delivery is allowed before logging is switched on.
        { parent, dependsOn: [logs.policy] },
      ),
  );
  return { ...logs, loggings };
}
