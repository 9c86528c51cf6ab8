import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  paginateListBuckets,
  type GetBucketEncryptionCommandOutput,
  type GetBucketLocationCommandOutput,
  type GetBucketLoggingCommandOutput,
  type GetBucketPolicyCommandOutput,
  type GetBucketTaggingCommandOutput,
  type GetBucketVersioningCommandOutput,
  type GetPublicAccessBlockCommandOutput,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand, type GetPublicAccessBlockCommandOutput as GetAccountPublicAccessBlockOutput } from '@aws-sdk/client-s3-control';
import { BUCKET, ids, RESOURCE_TYPES, S3_ACCOUNT } from '../../../../shared/rules/aws/posture/kinds';
import type { PublicAccessBlockShape, S3AccountShape, S3BucketShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, iso, mapLimit, orAbsent, pages } from '../calls';
import { detail, withErrors, type CollectedResource, type CollectorContext, type ServiceCollector } from './types';

/**
 * S3: every bucket of the account (ListBuckets, once per account: the list is global), each read in its
 * own region, plus the account-level Block Public Access (S3 Control). "None configured" answers
 * (NoSuchBucketPolicy, NoSuchPublicAccessBlockConfiguration...) are stored as null, as shapes.ts says.
 */

const NO_BUCKET = ['NoSuchBucket'];

/** GetBucketLocation's LocationConstraint: empty for us-east-1, `EU` for the oldest eu-west-1 buckets. */
export function regionOfLocation(constraint: string | undefined | null): string {
  if (!constraint) return 'us-east-1';
  return constraint === 'EU' ? 'eu-west-1' : constraint;
}

function pab(config: { BlockPublicAcls?: boolean; IgnorePublicAcls?: boolean; BlockPublicPolicy?: boolean; RestrictPublicBuckets?: boolean } | undefined): PublicAccessBlockShape | null {
  if (!config) return null;
  return { BlockPublicAcls: config.BlockPublicAcls, IgnorePublicAcls: config.IgnorePublicAcls, BlockPublicPolicy: config.BlockPublicPolicy, RestrictPublicBuckets: config.RestrictPublicBuckets };
}

/** Reads one bucket; undefined when it no longer exists. */
async function readBucket(ctx: CollectorContext, name: string, region: string, creationDate?: string): Promise<CollectedResource | undefined> {
  const s3 = ctx.clients.get('s3', ctx.account, region);
  const errors: Record<string, string> = {};
  const c = ctx.counter;
  const input = { Bucket: name, ExpectedBucketOwner: ctx.account };
  try {
    const [block, policy, encryption, versioning, logging, tagging] = await Promise.all([
      detail(errors, 'GetBucketPublicAccessBlock', () => orAbsent(() => call<GetPublicAccessBlockCommandOutput>(c, 'GetBucketPublicAccessBlock', s3, new GetPublicAccessBlockCommand(input)), ['NoSuchPublicAccessBlockConfiguration'], undefined), undefined),
      detail(errors, 'GetBucketPolicy', () => orAbsent(() => call<GetBucketPolicyCommandOutput>(c, 'GetBucketPolicy', s3, new GetBucketPolicyCommand(input)), ['NoSuchBucketPolicy'], undefined), undefined),
      detail(errors, 'GetBucketEncryption', () => orAbsent(() => call<GetBucketEncryptionCommandOutput>(c, 'GetBucketEncryption', s3, new GetBucketEncryptionCommand(input)), ['ServerSideEncryptionConfigurationNotFoundError'], undefined), undefined),
      detail(errors, 'GetBucketVersioning', () => call<GetBucketVersioningCommandOutput>(c, 'GetBucketVersioning', s3, new GetBucketVersioningCommand(input)), undefined),
      detail(errors, 'GetBucketLogging', () => call<GetBucketLoggingCommandOutput>(c, 'GetBucketLogging', s3, new GetBucketLoggingCommand(input)), undefined),
      detail(errors, 'GetBucketTagging', () => orAbsent(() => call<GetBucketTaggingCommandOutput>(c, 'GetBucketTagging', s3, new GetBucketTaggingCommand(input)), ['NoSuchTagSet'], undefined), undefined),
    ]);
    const config: S3BucketShape = {
      Name: name,
      ...(creationDate ? { CreationDate: creationDate } : {}),
      BucketRegion: region,
      PublicAccessBlock: pab(block?.PublicAccessBlockConfiguration),
      Policy: policy?.Policy ?? null,
      Encryption: encryption?.ServerSideEncryptionConfiguration
        ? {
            Rules: (encryption.ServerSideEncryptionConfiguration.Rules ?? []).map((rule) => ({
              ApplyServerSideEncryptionByDefault: rule.ApplyServerSideEncryptionByDefault
                ? { SSEAlgorithm: rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm, KMSMasterKeyID: rule.ApplyServerSideEncryptionByDefault.KMSMasterKeyID }
                : undefined,
              BucketKeyEnabled: rule.BucketKeyEnabled,
            })),
          }
        : null,
      Versioning: { Status: versioning?.Status, MFADelete: versioning?.MFADelete },
      Logging: logging?.LoggingEnabled ? { LoggingEnabled: { TargetBucket: logging.LoggingEnabled.TargetBucket, TargetPrefix: logging.LoggingEnabled.TargetPrefix } } : {},
      TagSet: (tagging?.TagSet ?? []).map((t) => ({ Key: t.Key, Value: t.Value })),
    };
    return withErrors({ account: ctx.account, region, type: RESOURCE_TYPES.bucket, arn: ids.bucket(ctx, name), name, tags: BUCKET.tagsOf(config), config }, errors);
  } catch (error) {
    if (NO_BUCKET.includes(errorName(error))) return undefined;
    throw error;
  }
}

async function readAccount(ctx: CollectorContext): Promise<CollectedResource> {
  const control = ctx.clients.get('s3control', ctx.account, ctx.region);
  const errors: Record<string, string> = {};
  const answer = await detail(
    errors,
    'GetAccountPublicAccessBlock',
    () => orAbsent(() => call<GetAccountPublicAccessBlockOutput>(ctx.counter, 'GetAccountPublicAccessBlock', control, new GetAccountPublicAccessBlockCommand({ AccountId: ctx.account })), ['NoSuchPublicAccessBlockConfiguration'], undefined),
    undefined,
  );
  const config: S3AccountShape = { AccountId: ctx.account, PublicAccessBlock: pab(answer?.PublicAccessBlockConfiguration) };
  return withErrors({ account: ctx.account, region: '', type: RESOURCE_TYPES.s3Account, arn: ids.s3Account(ctx), name: S3_ACCOUNT.nameOf(config), tags: {}, config }, errors);
}

async function bucketRegion(ctx: CollectorContext, name: string, listed: string | undefined): Promise<string | undefined> {
  if (listed) return listed;
  const s3 = ctx.clients.get('s3', ctx.account, ctx.region);
  try {
    const location = await call<GetBucketLocationCommandOutput>(ctx.counter, 'GetBucketLocation', s3, new GetBucketLocationCommand({ Bucket: name, ExpectedBucketOwner: ctx.account }));
    return regionOfLocation(location.LocationConstraint);
  } catch (error) {
    if (NO_BUCKET.includes(errorName(error))) return undefined;
    throw error;
  }
}

export const s3Collector: ServiceCollector = {
  service: 's3',
  scope: 'account',
  async collect(ctx) {
    const s3 = ctx.clients.get('s3', ctx.account, ctx.region);
    const listed: { name: string; region?: string; created?: string }[] = [];
    for await (const page of pages(ctx.counter, 'ListBuckets', paginateListBuckets({ client: s3, pageSize: 1000 }, {}))) {
      for (const bucket of page.Buckets ?? []) if (bucket.Name) listed.push({ name: bucket.Name, region: bucket.BucketRegion, created: iso(bucket.CreationDate) });
    }
    const buckets = await mapLimit(listed, ctx.concurrency, async (b) => {
      const region = await bucketRegion(ctx, b.name, b.region);
      return region ? readBucket(ctx, b.name, region, b.created) : undefined;
    });
    return [...buckets.filter((b): b is CollectedResource => b !== undefined), await readAccount(ctx)];
  },
  async describe(ctx, resource) {
    if (resource.type === RESOURCE_TYPES.s3Account) return readAccount(ctx);
    const name = resource.arn.slice(resource.arn.lastIndexOf(':') + 1);
    return readBucket(ctx, name, resource.region || ctx.region);
  },
};
