import {
  DescribeKeyCommand,
  GetKeyRotationStatusCommand,
  ListResourceTagsCommand,
  paginateListKeys,
  type DescribeKeyCommandOutput,
  type GetKeyRotationStatusCommandOutput,
  type KeyMetadata,
  type ListResourceTagsCommandOutput,
} from '@aws-sdk/client-kms';
import { KEY, RESOURCE_TYPES } from '../../../../shared/rules/aws/posture/kinds';
import { rotationApplies } from '../../../../shared/rules/aws/posture/rules/kms-key-rotation-off';
import type { KmsKeyShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, errorName, mapLimit, pages } from '../calls';
import { detail, withErrors, type CollectedResource, type CollectorContext, type ServiceCollector } from './types';

/**
 * KMS: every key of a region (ListKeys, DescribeKey). Rotation status and tags are asked for customer
 * managed keys only, and rotation only where it can apply (symmetric, AWS_KMS key material).
 */

async function readKey(ctx: CollectorContext, keyId: string): Promise<CollectedResource | undefined> {
  const kms = ctx.clients.get('kms', ctx.account, ctx.region);
  const c = ctx.counter;
  let metadata: KeyMetadata | undefined;
  try {
    metadata = (await call<DescribeKeyCommandOutput>(c, 'DescribeKey', kms, new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata;
  } catch (error) {
    if (errorName(error) === 'NotFoundException') return undefined;
    throw error;
  }
  if (!metadata?.Arn || !metadata.KeyId) return undefined;
  const errors: Record<string, string> = {};
  const config: KmsKeyShape = {
    KeyId: metadata.KeyId,
    Arn: metadata.Arn,
    KeyManager: metadata.KeyManager,
    KeyState: metadata.KeyState,
    KeySpec: metadata.KeySpec,
    KeyUsage: metadata.KeyUsage,
    Origin: metadata.Origin,
    Description: metadata.Description,
    KeyRotationEnabled: null,
    Tags: [],
  };
  if (config.KeyManager === 'CUSTOMER') {
    const [tags, rotation] = await Promise.all([
      detail(errors, 'ListResourceTags', () => call<ListResourceTagsCommandOutput>(c, 'ListResourceTags', kms, new ListResourceTagsCommand({ KeyId: config.KeyId, Limit: 50 })), undefined),
      rotationApplies(config) === undefined
        ? detail(errors, 'GetKeyRotationStatus', () => call<GetKeyRotationStatusCommandOutput>(c, 'GetKeyRotationStatus', kms, new GetKeyRotationStatusCommand({ KeyId: config.KeyId })), undefined)
        : Promise.resolve(undefined),
    ]);
    config.Tags = (tags?.Tags ?? []).map((t) => ({ TagKey: t.TagKey, TagValue: t.TagValue }));
    if (rotation) config.KeyRotationEnabled = rotation.KeyRotationEnabled ?? false;
  }
  return withErrors({ account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.key, arn: config.Arn, name: KEY.nameOf(config), tags: KEY.tagsOf(config), config }, errors);
}

export const kmsCollector: ServiceCollector = {
  service: 'kms',
  scope: 'region',
  async collect(ctx) {
    const kms = ctx.clients.get('kms', ctx.account, ctx.region);
    const keyIds: string[] = [];
    for await (const page of pages(ctx.counter, 'ListKeys', paginateListKeys({ client: kms, pageSize: 1000 }, {}))) {
      for (const key of page.Keys ?? []) if (key.KeyId) keyIds.push(key.KeyId);
    }
    const keys = await mapLimit(keyIds, ctx.concurrency, (id) => readKey(ctx, id));
    return keys.filter((k): k is CollectedResource => k !== undefined);
  },
  async describe(ctx, resource) {
    return readKey(ctx, resource.arn);
  },
};
