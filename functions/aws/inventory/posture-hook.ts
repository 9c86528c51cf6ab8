import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import { kindOf } from '../../../shared/rules/aws/posture/kinds';
import { postureObservation, postureResourceRef, type PostureOrigin } from '../../../shared/rules/aws/posture/observation';
import { changedResources, type PostureRegistry } from '../../../shared/rules/aws/posture/registry';
import type { RuleScope } from '../../../shared/rules/aws/posture/scope';
import type { AwsPostureContext, ChangedResource } from '../../../shared/rules/aws/posture/types';
import type { AwsEventContext, CloudTrailRecord } from '../../../shared/rules/types';
import { callCounter } from './calls';
import type { ClientFactory } from './clients';
import { COLLECTORS } from './collectors';
import { evaluateResource } from './evaluate';
import { ownerShard } from './inventory';
import { hashOf, type ResourceStore } from './resource-store';

/**
 * The real-time posture path, for the security-events handler (its `postureHook(record, ctx)` dependency):
 * for a successful CloudTrail call that changes a resource some posture rule reads, describe the resource
 * (in the spoke, with its role and ExternalId, through the same collectors as the inventory), upsert the
 * resources table, evaluate the resource's rules and reconcile its findings, so a fix resolves its finding
 * within seconds rather than at the next scheduled evaluation. A resource the describe no longer finds is
 * deleted from the table and its findings resolved ("resource deleted").
 */

export interface PostureHookDeps {
  store: ResourceStore;
  /** Immediate notices (as for every event), persistTouches off (an unchanged failure writes nothing). */
  recorder: FindingRecorder;
  /** Clients for an account (spoke role + ExternalId for spokes); a fresh factory per event keeps retry state per event. */
  clients: () => ClientFactory;
  registry: PostureRegistry;
  context: Omit<AwsPostureContext, 'now'>;
  scopes: Readonly<Record<string, RuleScope>>;
  /** The inventory's home region (its first region): where account-wide settings live. */
  homeRegion: string;
  /** Accounts the hook may read: the own account and the spokes. Others are skipped (they cannot be read). */
  accounts: () => readonly string[];
}

export type PostureResourceOutcome =
  | { resource: ChangedResource; outcome: 'evaluated'; written: boolean; failures: number }
  | { resource: ChangedResource; outcome: 'deleted' }
  | { resource: ChangedResource; outcome: 'unreadable'; readErrors: Record<string, string> }
  | { resource: ChangedResource; outcome: 'skipped'; reason: string };

export interface PostureHookResult {
  resources: PostureResourceOutcome[];
  transitions: RecordedTransition[];
  apiCalls: number;
}

export type PostureHook = (record: CloudTrailRecord, ctx: AwsEventContext) => Promise<PostureHookResult>;

function eventTime(record: CloudTrailRecord): string {
  const ms = Date.parse(record.eventTime);
  return Number.isNaN(ms) ? new Date().toISOString() : new Date(ms).toISOString();
}

export function createPostureHook(deps: PostureHookDeps): PostureHook {
  return async (record, ctx) => {
    const changed = changedResources(record, ctx, deps.registry);
    const result: PostureHookResult = { resources: [], transitions: [], apiCalls: 0 };
    if (changed.length === 0) return result;
    const clients = deps.clients();
    try {
      return await reconcileChanged(changed, record, ctx, clients, deps, result);
    } finally {
      clients.destroy?.();
    }
  };
}

async function reconcileChanged(changed: readonly ChangedResource[], record: CloudTrailRecord, ctx: AwsEventContext, clients: ClientFactory, deps: PostureHookDeps, result: PostureHookResult): Promise<PostureHookResult> {
  const counter = callCounter();
  const at = eventTime(record);
  const origin: PostureOrigin = { trigger: 'event', record, observedAt: at };
  for (const resource of changed) {
    const kind = kindOf(resource.type);
    if (!kind) continue;
    if (!deps.accounts().includes(ctx.account)) {
      result.resources.push({ resource, outcome: 'skipped', reason: `account ${ctx.account} is neither this account nor a configured spoke` });
      continue;
    }
    const region = resource.region || deps.homeRegion;
    const described = await COLLECTORS[kind.service].describe(
      { account: ctx.account, region, partition: ctx.partition, homeRegion: deps.homeRegion, clients, counter, concurrency: 4 },
      resource,
    );
    if (!described) {
      // Gone: its findings resolve, under the scope they were recorded with (the stored item's region).
      const stored = await deps.store.get(ctx.account, kind.service, resource.arn);
      const ref = postureResourceRef(stored ?? { account: ctx.account, region: kind.scope === 'account' ? '' : resource.region, arn: resource.arn });
      if (stored) await deps.store.deleteIfUnseenSince(ctx.account, kind.service, resource.arn, new Date(Date.parse(at) + 1).toISOString());
      result.transitions.push(...(await deps.recorder.resolveResource(ref, at, 'resource deleted')));
      result.resources.push({ resource, outcome: 'deleted' });
      continue;
    }
    const stored = await deps.store.get(ctx.account, kind.service, described.arn);
    const hash = hashOf(described);
    const owner = ownerShard(kind.service, described.type, described.region, deps.homeRegion);
    const written = stored?.configHash === hash ? false : await deps.store.put(described, kind.service, owner, { seenAt: new Date().toISOString(), ...(record.eventID ? { eventId: record.eventID } : {}) }, stored);
    if (described.readErrors) {
      result.resources.push({ resource, outcome: 'unreadable', readErrors: described.readErrors });
      continue;
    }
    const evaluation = evaluateResource(described, { registry: deps.registry, scopes: deps.scopes, context: { ...deps.context, now: new Date(at) } });
    const failures = evaluation.decisions.flatMap((d) => d.failures.map((failure) => postureObservation(d.rule, failure, described, origin)));
    // One reconcile per reason, so a rule now out of scope resolves with that reason and a fix with `fixed`.
    const reasons = new Set(evaluation.decisions.map((d) => d.resolvedReason));
    for (const reason of reasons) {
      const rules = new Set(evaluation.decisions.filter((d) => d.resolvedReason === reason).map((d) => d.rule.id));
      result.transitions.push(
        ...(await deps.recorder.reconcile({
          resource: postureResourceRef(described),
          covers: (finding) => finding.category === 'posture' && rules.has(finding.ruleId),
          failures: failures.filter((o) => rules.has(o.ruleId)),
          observedAt: at,
          resolvedReason: reason,
          source: failures[0]?.source ?? { trigger: 'event', eventName: record.eventName, ...(record.eventID ? { eventId: record.eventID } : {}) },
        })),
      );
    }
    result.resources.push({ resource, outcome: 'evaluated', written, failures: failures.length });
  }
  result.apiCalls = counter.total();
  return result;
}
