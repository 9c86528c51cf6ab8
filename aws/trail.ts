import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { arn, type AwsContext } from './context';
import { secureBucket } from './buckets';
import type { PolicyStatement } from './policy';

/**
 * A multi-region trail of write management events (what EventBridge needs to see Lambda API calls)
 * into its own private, KMS-encrypted bucket, with log file validation. The bucket policy is the
 * one CloudTrail documents (ACL check + writes under AWSLogs/<account>/ with
 * bucket-owner-full-control), both scoped to this trail by aws:SourceArn.
 */
export interface TrailResources {
  trail: aws.cloudtrail.Trail;
  bucket: aws.s3.Bucket;
  /** Logical name of the bucket (its access logging takes the same name). */
  bucketName: string;
}

/**
 * An organisation trail of S3 object writes only (artifacts.createOrgTrail): data events through advanced event
 * selectors, no management events (the account's own trail, or createTrail, records those). Log files of member
 * accounts land under AWSLogs/<organisation id>/, which the bucket policy allows as well.
 */
export interface OrgDataTrailOptions {
  organizationId: string;
  /** `arn:aws:s3:::<bucket>/` per read bucket; empty: every bucket. */
  objectArnPrefixes: string[];
}

export function objectWriteSelectors(objectArnPrefixes: readonly string[]) {
  return [
    {
      name: 'shipscan S3 object writes',
      fieldSelectors: [
        { field: 'eventCategory', equals: ['Data'] },
        { field: 'resources.type', equals: ['AWS::S3::Object'] },
        { field: 'readOnly', equals: ['false'] },
        { field: 'eventName', equals: ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] },
        ...(objectArnPrefixes.length > 0 ? [{ field: 'resources.ARN', startsWiths: [...objectArnPrefixes] }] : []),
      ],
    },
  ];
}

export function createTrail(
  name: string,
  ctx: AwsContext,
  key: aws.kms.Key,
  trailName: string,
  logRetentionDays: number,
  parent: pulumi.Resource,
  org?: OrgDataTrailOptions,
): TrailResources {
  const trailArn = arn(ctx, 'cloudtrail', `trail/${trailName}`);
  const bucketName = `${name}-bucket`;
  const { bucket, policy } = secureBucket(
    bucketName,
    ctx,
    {
      key,
      expireAfterDays: logRetentionDays,
      statements: (b): PolicyStatement[] => [
        {
          Sid: 'AWSCloudTrailAclCheck',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 's3:GetBucketAcl',
          Resource: b.arn,
          Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
        },
        {
          Sid: 'AWSCloudTrailWrite',
          Effect: 'Allow',
          Principal: { Service: 'cloudtrail.amazonaws.com' },
          Action: 's3:PutObject',
          Resource: org ? [pulumi.interpolate`${b.arn}/AWSLogs/${ctx.accountId}/*`, pulumi.interpolate`${b.arn}/AWSLogs/${org.organizationId}/*`] : pulumi.interpolate`${b.arn}/AWSLogs/${ctx.accountId}/*`,
          Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
        },
      ],
    },
    parent,
  );
  const trail = new aws.cloudtrail.Trail(
    name,
    {
      name: trailName,
      s3BucketName: bucket.id,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      kmsKeyId: key.arn,
      ...(org
        ? { isOrganizationTrail: true, advancedEventSelectors: objectWriteSelectors(org.objectArnPrefixes) }
        : { eventSelectors: [{ readWriteType: 'WriteOnly', includeManagementEvents: true }] }),
      tags: ctx.tags,
    },
    // CloudTrail checks the bucket policy when the trail is created.
    { parent, dependsOn: [policy] },
  );
  return { trail, bucket, bucketName };
}
