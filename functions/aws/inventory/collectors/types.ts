import type { ChangedResource, InventoryService, PostureResource } from '../../../../shared/rules/aws/posture/types';
import { errorName, isAccessDenied, type CallCounter } from '../calls';
import type { ClientFactory } from '../clients';

/**
 * One collector per service. `collect` lists and describes everything of its service in one account and
 * region (account-wide services once per account, in the account's home region); `describe` reads one
 * resource again for the real-time path. Both return resources in the stored shapes the rules read.
 */

export interface CollectorContext {
  account: string;
  /** The region of the shard (for account-wide services: the home region). */
  region: string;
  partition: string;
  /** The account's first inventory region: account-wide settings (CloudTrail coverage) are read there only. */
  homeRegion: string;
  clients: ClientFactory;
  counter: CallCounter;
  /** Resources described at once within the shard (per-resource detail calls). */
  concurrency: number;
}

/** A resource as collected: the stored shape plus the detail calls that were refused (AccessDenied). */
export interface CollectedResource extends PostureResource {
  /**
   * `{ <operation>: <error name> }` for detail calls the account refused (a bucket policy that denies even
   * auditors). Such a resource is stored but not evaluated: a missing answer must not read as "not configured".
   */
  readErrors?: Record<string, string>;
}

export interface ServiceCollector {
  service: InventoryService;
  scope: 'account' | 'region';
  collect(ctx: CollectorContext): Promise<CollectedResource[]>;
  /** The resource as it is now, or undefined when it no longer exists. */
  describe(ctx: CollectorContext, resource: ChangedResource): Promise<CollectedResource | undefined>;
}

/** Records a refused detail call and answers `fallback`; any other error propagates (the shard is retried). */
export async function detail<T, F>(errors: Record<string, string>, operation: string, fn: () => Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await fn();
  } catch (error) {
    if (!isAccessDenied(error)) throw error;
    errors[operation] = errorName(error);
    return fallback;
  }
}

export function withErrors(resource: CollectedResource, errors: Record<string, string>): CollectedResource {
  return Object.keys(errors).length > 0 ? { ...resource, readErrors: errors } : resource;
}
