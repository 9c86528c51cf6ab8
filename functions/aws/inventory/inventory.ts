import { z } from 'zod';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import { partitionOf } from '../../../shared/rules/aws/parse';
import { kindOf, RESOURCE_TYPES } from '../../../shared/rules/aws/posture/kinds';
import { postureResourceRef } from '../../../shared/rules/aws/posture/observation';
import { INVENTORY_SERVICES, type InventoryService } from '../../../shared/rules/aws/posture/types';
import { callCounter, errorName, mapLimit } from './calls';
import type { ClientFactory } from './clients';
import { COLLECTORS } from './collectors';
import type { CollectedResource } from './collectors/types';
import { sendRunDigest, type DigestOutcome } from './digest';
import { hashOf, type ResourceStore } from './resource-store';
import { shardId, type RunRecord, type RunStore } from './runs';

/**
 * The inventory fan-out. The planner turns a request (`{"service":"all"}`, `{"service":"s3","accountId":
 * "..."}`) into one shard per account x region x service (services listed once per account, IAM and S3, get
 * one shard per account), records the run with the number of shards it expects, and enqueues them. Each
 * collector invocation takes a shard: it lists and describes, writes what changed, keeps what it no longer
 * saw as deletion candidates, and reports. The report that completes a run with no failure deletes the
 * candidates that were not written again since, and resolves their findings ("resource deleted").
 */

const accountId = z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id');

export const InventoryRequestSchema = z
  .object({
    service: z.union([z.literal('all'), z.enum(INVENTORY_SERVICES)]).default('all'),
    accountId: accountId.optional(),
    account_id: accountId.optional(),
    region: z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/, 'an AWS region').optional(),
    trigger: z.enum(['schedule', 'manual']).optional(),
  })
  .transform((r) => ({
    service: r.service,
    ...(r.accountId ?? r.account_id ? { accountId: (r.accountId ?? r.account_id)! } : {}),
    ...(r.region ? { region: r.region } : {}),
    trigger: r.trigger ?? 'manual',
  }));

export type InventoryRequest = z.infer<typeof InventoryRequestSchema>;

export class InventoryRequestError extends Error {
  override readonly name = 'InventoryRequestError';
}

/** Where the inventory looks: the own account first, then the spokes; the home region first. */
export interface InventoryTopology {
  accounts: readonly string[];
  regions: readonly string[];
  services: readonly InventoryService[];
}

export interface ShardMessage {
  v: 1;
  runId: string;
  account: string;
  /** The region the collector's clients use (for account-wide services: the home region). */
  region: string;
  homeRegion: string;
  service: InventoryService;
  /** The items the shard owns: its region, or `global`. */
  shard: string;
}

export const ShardMessageSchema = z.strictObject({
  v: z.literal(1),
  runId: z.string().min(1).max(100),
  account: accountId,
  region: z.string().min(1).max(30),
  homeRegion: z.string().min(1).max(30),
  service: z.enum(INVENTORY_SERVICES),
  shard: z.string().min(1).max(30),
});

export const GLOBAL_SHARD = 'global';

/** The shard owning a resource kind's items (the real-time path writes them under the same owner). */
export function ownerShard(service: InventoryService, type: string, region: string, homeRegion: string): string {
  if (COLLECTORS[service].scope === 'account') return GLOBAL_SHARD;
  // The account-wide trail coverage is read by the home region's CloudTrail shard.
  if (type === RESOURCE_TYPES.accountTrails) return homeRegion;
  return region;
}

export function planShards(request: InventoryRequest, topology: InventoryTopology): Omit<ShardMessage, 'runId'>[] {
  const homeRegion = topology.regions[0];
  if (!homeRegion) throw new InventoryRequestError('no inventory region configured');
  if (request.accountId && !topology.accounts.includes(request.accountId)) {
    throw new InventoryRequestError(`account ${request.accountId} is neither this account nor a configured spoke (${topology.accounts.join(', ')}): add it to shipscan:aws.spokes`);
  }
  if (request.region && !topology.regions.includes(request.region)) throw new InventoryRequestError(`region ${request.region} is not an inventory region (${topology.regions.join(', ')})`);
  if (request.service !== 'all' && !topology.services.includes(request.service)) {
    throw new InventoryRequestError(`service ${request.service} is not inventoried (shipscan:aws.inventory.services is ${topology.services.join(', ')})`);
  }
  const services = request.service === 'all' ? topology.services : [request.service];
  const accounts = request.accountId ? [request.accountId] : topology.accounts;
  const out: Omit<ShardMessage, 'runId'>[] = [];
  for (const account of accounts) {
    for (const service of services) {
      if (COLLECTORS[service].scope === 'account') {
        if (!request.region || request.region === homeRegion) out.push({ v: 1, account, region: homeRegion, homeRegion, service, shard: GLOBAL_SHARD });
        continue;
      }
      for (const region of request.region ? [request.region] : topology.regions) out.push({ v: 1, account, region, homeRegion, service, shard: region });
    }
  }
  return out;
}

function describeScope(request: InventoryRequest): string {
  return [request.service === 'all' ? 'all services' : `service ${request.service}`, ...(request.accountId ? [`account ${request.accountId}`] : []), ...(request.region ? [`region ${request.region}`] : [])].join(', ');
}

// ---------------------------------------------------------------- planner

export interface PlannerDeps {
  runs: RunStore;
  enqueue(messages: readonly ShardMessage[]): Promise<void>;
  topology: InventoryTopology;
  deadlineHours: number;
  newRunId(now: Date): string;
  now?: () => Date;
}

export interface PlannedRun {
  runId: string;
  scope: string;
  shards: number;
}

export async function startInventory(request: InventoryRequest, deps: PlannerDeps): Promise<PlannedRun> {
  const shards = planShards(request, deps.topology);
  const now = (deps.now ?? (() => new Date()))();
  const runId = deps.newRunId(now);
  // The record exists before any shard can report to it.
  await deps.runs.create({
    runId,
    kind: 'inventory',
    scope: request,
    trigger: request.trigger,
    startedAt: now.toISOString(),
    expected: shards.length,
    deadline: new Date(now.getTime() + deps.deadlineHours * 3_600_000).toISOString(),
  });
  await deps.enqueue(shards.map((shard) => ({ ...shard, runId })));
  return { runId, scope: describeScope(request), shards: shards.length };
}

// ---------------------------------------------------------------- one shard

export interface CompletionDeps {
  store: ResourceStore;
  runs: RunStore;
  /** Deferred mode: deletions are told in the run's digest. */
  recorder: FindingRecorder;
  channels: readonly NotificationChannel[];
  now?: () => Date;
}

export interface ShardDeps extends CompletionDeps {
  clients: ClientFactory;
  /** Resources described at once within a shard. */
  concurrency: number;
}

export interface ShardOutcome {
  shard: string;
  duplicate: boolean;
  collected: number;
  written: number;
  unchanged: number;
  candidates: number;
  apiCalls: number;
  completion?: CompletionOutcome;
}

export async function collectShard(message: ShardMessage, deps: ShardDeps, options: { finalAttempt: boolean }): Promise<ShardOutcome> {
  const now = deps.now ?? (() => new Date());
  const id = shardId(message.account, message.shard, message.service);
  const seenAt = now().toISOString();
  const counter = callCounter();
  let collected: CollectedResource[];
  try {
    collected = await COLLECTORS[message.service].collect({
      account: message.account,
      region: message.region,
      partition: partitionOf(message.region),
      homeRegion: message.homeRegion,
      clients: deps.clients,
      counter,
      concurrency: deps.concurrency,
    });
  } catch (error) {
    // After the last attempt the message goes to the DLQ: the run must learn it will never complete.
    if (options.finalAttempt) await deps.runs.report(message.runId, id, { ok: false, error: `${errorName(error)}: ${error instanceof Error ? error.message : String(error)}` });
    throw error;
  }
  const existing = await deps.store.shardIndex(message.account, message.service, message.shard);
  let written = 0;
  let unchanged = 0;
  await mapLimit(collected, 16, async (resource) => {
    const hash = hashOf(resource);
    const known = existing.get(resource.arn);
    if (known?.configHash === hash) {
      unchanged += 1;
      return;
    }
    const owner = ownerShard(message.service, resource.type, resource.region, message.homeRegion);
    if (await deps.store.put(resource, message.service, owner, { seenAt, runId: message.runId }, known, hash)) written += 1;
  });
  const seen = new Set(collected.map((r) => r.arn));
  const gone = [...existing.keys()].filter((arn) => !seen.has(arn));
  if (gone.length > 0) await deps.runs.putCandidates(message.runId, { shard: id, account: message.account, service: message.service, seenAt, arns: gone });
  const report = await deps.runs.report(message.runId, id, { ok: true, counts: { collected: collected.length, written, unchanged, candidates: gone.length, apiCalls: counter.total() } });
  const outcome: ShardOutcome = { shard: id, duplicate: report.duplicate, collected: collected.length, written, unchanged, candidates: gone.length, apiCalls: counter.total() };
  if (report.allReported) {
    const completion = await completeRun(report.run, deps);
    if (completion) outcome.completion = completion;
  }
  return outcome;
}

// ---------------------------------------------------------------- completion

export interface CompletionOutcome {
  runId: string;
  deleted: number;
  kept: number;
  resolved: number;
  digest: DigestOutcome;
  run: RunRecord;
}

/**
 * Deletes what a complete run no longer saw and resolves its findings. Every step is idempotent (a delete
 * conditioned on "not written since the shard read", resolveResource on a resolved finding writes nothing),
 * so a completion retried after a crash finishes the job. Undefined when another collector holds it.
 */
export async function completeRun(run: RunRecord, deps: CompletionDeps): Promise<CompletionOutcome | undefined> {
  if (!(await deps.runs.claimCompletion(run.runId))) return undefined;
  const now = deps.now ?? (() => new Date());
  const at = now().toISOString();
  const transitions: RecordedTransition[] = [];
  let deleted = 0;
  let kept = 0;
  for (const candidates of await deps.runs.candidates(run.runId)) {
    const service = candidates.service as InventoryService;
    for (const arn of candidates.arns) {
      const outcome = await deps.store.deleteIfUnseenSince(candidates.account, service, arn, candidates.seenAt);
      if (!outcome.deleted || !outcome.item) {
        // Written again after the shard read (re-created, described by the real-time path): not gone.
        kept += 1;
        continue;
      }
      deleted += 1;
      const item = outcome.item;
      if (!kindOf(item.type)) continue;
      transitions.push(...(await deps.recorder.resolveResource(postureResourceRef(item), at, 'resource deleted')));
    }
  }
  const digest = await sendRunDigest(deps.channels, {
    runId: run.runId,
    kind: 'inventory',
    scope: describeScope(InventoryRequestSchema.parse(run.scope)),
    startedAt: run.startedAt,
    completedAt: at,
    stats: { deleted, ...(run.counts.collected !== undefined ? { resources: run.counts.collected } : {}) },
    transitions,
  });
  const finished = await deps.runs.finish(run.runId, { status: 'complete', at, counts: { deleted, kept, resolved: transitions.length } });
  return { runId: run.runId, deleted, kept, resolved: transitions.length, digest, run: finished };
}
