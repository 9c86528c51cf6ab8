import {
  DescribeTrailsCommand,
  GetEventSelectorsCommand,
  GetTrailStatusCommand,
  type DescribeTrailsCommandOutput,
  type GetEventSelectorsCommandOutput,
  type GetTrailStatusCommandOutput,
  type Trail,
} from '@aws-sdk/client-cloudtrail';
import { ACCOUNT_TRAILS, ids, RESOURCE_TYPES } from '../../../../shared/rules/aws/posture/kinds';
import type { AccountTrailsShape, TrailShape } from '../../../../shared/rules/aws/posture/shapes';
import { call, iso, mapLimit } from '../calls';
import { detail, withErrors, type CollectedResource, type CollectorContext, type ServiceCollector } from './types';

/**
 * CloudTrail: the trails homed in a region (one resource each, with status and event selectors) and, in the
 * account's home region only, the multi-region trails that cover the account (DescribeTrails with shadow
 * trails: a multi-region trail shows in every region), as one account-wide resource.
 */

async function readTrail(ctx: CollectorContext, trail: Trail, errors: Record<string, string>): Promise<TrailShape> {
  const cloudtrail = ctx.clients.get('cloudtrail', ctx.account, ctx.region);
  const arn = trail.TrailARN!;
  const [status, selectors] = await Promise.all([
    detail(errors, 'GetTrailStatus', () => call<GetTrailStatusCommandOutput>(ctx.counter, 'GetTrailStatus', cloudtrail, new GetTrailStatusCommand({ Name: arn })), undefined),
    detail(errors, 'GetEventSelectors', () => call<GetEventSelectorsCommandOutput>(ctx.counter, 'GetEventSelectors', cloudtrail, new GetEventSelectorsCommand({ TrailName: arn })), undefined),
  ]);
  return {
    Name: trail.Name!,
    TrailARN: arn,
    HomeRegion: trail.HomeRegion,
    IsMultiRegionTrail: trail.IsMultiRegionTrail,
    IsOrganizationTrail: trail.IsOrganizationTrail,
    LogFileValidationEnabled: trail.LogFileValidationEnabled,
    S3BucketName: trail.S3BucketName,
    KmsKeyId: trail.KmsKeyId,
    IncludeGlobalServiceEvents: trail.IncludeGlobalServiceEvents,
    Status: { IsLogging: status?.IsLogging, LatestDeliveryError: status?.LatestDeliveryError, LatestDeliveryTime: iso(status?.LatestDeliveryTime) },
    EventSelectors: {
      ...(selectors?.EventSelectors ? { EventSelectors: selectors.EventSelectors.map((s) => ({ ReadWriteType: s.ReadWriteType, IncludeManagementEvents: s.IncludeManagementEvents })) } : {}),
      ...(selectors?.AdvancedEventSelectors
        ? {
            AdvancedEventSelectors: selectors.AdvancedEventSelectors.map((s) => ({
              Name: s.Name,
              FieldSelectors: (s.FieldSelectors ?? []).map((f) => ({ Field: f.Field, Equals: f.Equals, NotEquals: f.NotEquals })),
            })),
          }
        : {}),
    },
  };
}

/** Trails of this account homed in the shard's region (an organization trail belongs to the management account). */
function ownHomeTrail(ctx: CollectorContext, trail: Trail): boolean {
  return trail.HomeRegion === ctx.region && trail.TrailARN?.split(':')[4] === ctx.account;
}

async function accountTrails(ctx: CollectorContext, trails: Trail[], read: Map<string, TrailShape>): Promise<CollectedResource> {
  const errors: Record<string, string> = {};
  const multi = trails.filter((t) => t.IsMultiRegionTrail === true && t.TrailARN);
  const shapes = await mapLimit(multi, ctx.concurrency, async (t) => read.get(t.TrailARN!) ?? readTrail(ctx, t, errors));
  const config: AccountTrailsShape = { ListedIn: ctx.region, MultiRegionTrails: shapes };
  return withErrors({ account: ctx.account, region: '', type: RESOURCE_TYPES.accountTrails, arn: ids.accountTrails(ctx), name: ACCOUNT_TRAILS.nameOf(config), tags: {}, config }, errors);
}

async function describeTrails(ctx: CollectorContext, names?: string[]): Promise<Trail[]> {
  const cloudtrail = ctx.clients.get('cloudtrail', ctx.account, ctx.region);
  // Not paginated: DescribeTrails answers with every trail at once.
  const answer = await call<DescribeTrailsCommandOutput>(ctx.counter, 'DescribeTrails', cloudtrail, new DescribeTrailsCommand({ includeShadowTrails: true, ...(names ? { trailNameList: names } : {}) }));
  return (answer.trailList ?? []).filter((t) => t.TrailARN && t.Name);
}

export const cloudTrailCollector: ServiceCollector = {
  service: 'cloudtrail',
  scope: 'region',
  async collect(ctx) {
    const trails = await describeTrails(ctx);
    const read = new Map<string, TrailShape>();
    const own = await mapLimit(
      trails.filter((t) => ownHomeTrail(ctx, t)),
      ctx.concurrency,
      async (t) => {
        const errors: Record<string, string> = {};
        const config = await readTrail(ctx, t, errors);
        read.set(config.TrailARN, config);
        return withErrors({ account: ctx.account, region: ctx.region, type: RESOURCE_TYPES.trail, arn: config.TrailARN, name: config.Name, tags: {}, config }, errors);
      },
    );
    return ctx.region === ctx.homeRegion ? [...own, await accountTrails(ctx, trails, read)] : own;
  },
  async describe(ctx, resource) {
    if (resource.type === RESOURCE_TYPES.accountTrails) return accountTrails(ctx, await describeTrails(ctx), new Map());
    const trail = (await describeTrails(ctx, [resource.arn])).find((t) => t.TrailARN === resource.arn);
    if (!trail || !ownHomeTrail({ ...ctx, region: trail.HomeRegion ?? ctx.region }, trail)) return undefined;
    const errors: Record<string, string> = {};
    const config = await readTrail(ctx, trail, errors);
    return withErrors({ account: ctx.account, region: trail.HomeRegion ?? ctx.region, type: RESOURCE_TYPES.trail, arn: config.TrailARN, name: config.Name, tags: {}, config }, errors);
  },
};
