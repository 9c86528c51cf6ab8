import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import type { FindingNotice } from '../../../shared/findings/notifier';
import type { AllowLists } from '../../../shared/rules/allow-lists';
import { findingResourceOf, scopeOf } from '../../../shared/rules/azure/observation';
import { renderDigest, type DigestChannel, type RenderedDigest } from '../../../shared/notify/digest';
import { emitFindingTransitions } from '../finding-telemetry';
import type { Telemetry } from '../telemetry';
import { Collector, planShards, type CollectStats, type CollectorOptions, type ShardOutcome } from './collector';
import { openFindingResources, PostureEvaluator, type EvaluationStats, type RuleScope } from './evaluate';
import type { FindingStore } from '../../../shared/findings/store';
import type { InventoryRequest } from './request';
import type { ResourceGraph } from './resource-graph';
import type { StoredResource, TableResourceStore } from './resource-store';
import type { TableRunStore } from './run-store';

/**
 * One inventory or evaluation run, start to end:
 * 1. inventory (mode `inventory`): every (subscription batch x type) query of the request, pages written to
 *    `Resources` as they arrive, each row stamped with the run id and when it was seen;
 * 2. when every query finished (a complete run), the rows of the covered subscriptions and types that the run did
 *    not see, and that nothing saw since it started, are deleted and their findings RESOLVED (`resource deleted`);
 *    a failed query makes the run incomplete, and then nothing is deleted;
 * 3. evaluation: the posture rules over the stored rows of the covered subscriptions and types, only changes
 *    written (see evaluate.ts);
 * 4. one digest for the run to the configured channels (claimed in `InventoryRuns`, so a redelivery does not
 *    send it twice), a SecurityFinding event per transition and an `InventoryRun` event with the counts.
 */

export const INVENTORY_RUN_EVENT = 'InventoryRun' as const;
export const RESOURCE_DELETED = 'resource deleted';

export interface InventoryRunConfig {
  allowLists: AllowLists;
  disabledRules: readonly string[];
  ruleScopes: readonly RuleScope[];
}

export interface InventoryDeps {
  graph: ResourceGraph;
  resources: TableResourceStore;
  runs: TableRunStore;
  /** Deferred notify policy, touches not persisted. */
  recorder: FindingRecorder;
  digestChannels: readonly DigestChannel[];
  telemetry: Telemetry;
  config: InventoryRunConfig;
  /** Page size, waits, attempts, a fake sleep for tests. */
  collector?: Omit<CollectorOptions, 'graph' | 'onPage'>;
  now?: () => Date;
  brand?: string;
  /** The recorder's store: which resources have open findings, so passing resources without any read nothing. */
  findings?: FindingStore;
  /** Creates what the recorder's store needs if missing (the infrastructure creates it in Azure). */
  prepare?: () => Promise<void>;
}

export interface RunReport {
  runId: string;
  mode: InventoryRequest['mode'];
  trigger: 'schedule' | 'manual';
  request: string;
  startedAt: string;
  finishedAt: string;
  /** Inventory: every query finished. Evaluation: true. */
  complete: boolean;
  shards: { type: string; subscriptions: number; status: ShardOutcome['status']; rows: number; pages: number; error?: string }[];
  collect?: CollectStats;
  written: number;
  deleted: number;
  evaluation: EvaluationStats;
  transitions: RecordedTransition[];
  digest?: { subject: string; sent: string[]; failed: string[]; skipped?: 'nothing to tell' | 'already sent' | 'no channel' };
  errors: string[];
}

export class InventoryRunError extends Error {
  override readonly name = 'InventoryRunError';
  constructor(
    message: string,
    readonly report: RunReport,
  ) {
    super(message);
  }
}

function partitionsOf(request: InventoryRequest): { subscriptionId: string; type: string }[] {
  return request.types.flatMap((type) => request.subscriptions.map((subscriptionId) => ({ subscriptionId, type })));
}

async function* storedResources(store: TableResourceStore, request: InventoryRequest): AsyncGenerator<StoredResource> {
  for (const { subscriptionId, type } of partitionsOf(request)) yield* store.list(subscriptionId, type);
}

export async function runInventory(request: InventoryRequest, runId: string, trigger: 'schedule' | 'manual', deps: InventoryDeps): Promise<RunReport> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now().toISOString();
  const errors: string[] = [];
  const transitions: RecordedTransition[] = [];
  await Promise.all([deps.resources.ensure(), deps.runs.ensure(), deps.prepare?.()]);
  await deps.runs.save({ runId, kind: request.mode, trigger, request: request.label, startedAt, status: 'running' });

  let complete = true;
  let outcomes: ShardOutcome[] = [];
  let collect: CollectStats | undefined;
  let written = 0;
  let deleted = 0;
  if (request.mode === 'inventory') {
    const collector = new Collector({
      ...deps.collector,
      graph: deps.graph,
      onPage: async (_shard, items) => {
        written += await deps.resources.upsertMany(items, { lastSeenAt: now().toISOString(), runId });
      },
    });
    const result = await collector.collect(planShards(request.subscriptions, request.types));
    outcomes = result.outcomes;
    collect = result.stats;
    complete = result.complete;
    for (const o of outcomes) if (o.status === 'failed') errors.push(`query ${o.shard.type} over ${o.shard.subscriptions.length} subscription(s) failed after ${o.pages} page(s): ${o.error}`);
    if (complete) {
      const swept = await sweep(request, runId, startedAt, deps, now);
      deleted = swept.deleted;
      transitions.push(...swept.transitions);
    }
  }

  // Read after the sweep: what it resolved is no longer open.
  const evaluatedAt = now().toISOString();
  const openResources = deps.findings ? await openFindingResources(deps.findings) : undefined;
  const evaluator = new PostureEvaluator({ recorder: deps.recorder, ...deps.config, runId, ...(request.ruleIds ? { ruleIds: request.ruleIds } : {}), ...(openResources ? { openResources } : {}) });
  await evaluator.evaluateAll(storedResources(deps.resources, request));
  transitions.push(...evaluator.transitions);
  errors.push(...evaluator.errors.slice(0, 50));
  emitFindingTransitions(deps.telemetry, transitions);

  const finishedAt = now().toISOString();
  const report: RunReport = {
    runId,
    mode: request.mode,
    trigger,
    request: request.label,
    startedAt,
    finishedAt,
    complete,
    shards: outcomes.map((o) => ({ type: o.shard.type, subscriptions: o.shard.subscriptions.length, status: o.status, rows: o.rows, pages: o.pages, ...(o.status === 'failed' ? { error: o.error } : {}) })),
    ...(collect ? { collect } : {}),
    written,
    deleted,
    evaluation: { ...evaluator.stats },
    transitions,
    errors,
  };
  report.digest = await sendDigest(report, deps);
  const counts: Record<string, number> = {
    shards: outcomes.length,
    failedShards: outcomes.filter((o) => o.status === 'failed').length,
    queries: collect?.queries ?? 0,
    pages: collect?.pages ?? 0,
    calls: collect?.calls ?? 0,
    throttled: collect?.throttled ?? 0,
    quotaPauses: collect?.quotaPauses ?? 0,
    rows: collect?.rows ?? 0,
    written,
    deleted,
    resources: evaluator.stats.resources,
    evaluations: evaluator.stats.evaluations,
    transitions: transitions.length,
  };
  deps.telemetry.event(INVENTORY_RUN_EVENT, { RunId: runId, Mode: request.mode, Trigger: trigger, Request: request.label, Complete: String(complete), ...Object.fromEntries(Object.entries(counts).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), v])) });
  await deps.runs.save({
    runId,
    kind: request.mode,
    trigger,
    request: request.label,
    startedAt,
    finishedAt,
    status: request.mode === 'evaluation' ? 'evaluated' : complete ? 'complete' : 'incomplete',
    counts,
    errors,
    lastEvaluatedAt: evaluatedAt,
    types: request.types,
    subscriptionCount: request.subscriptions.length,
  });
  // Findings that could not be recorded are a store problem, not a verdict: the delivery is retried (the run is
  // idempotent: what was recorded is not recorded twice, and the digest goes out once).
  if (evaluator.failedResources > 0) throw new InventoryRunError(`${evaluator.failedResources} resource(s) could not be evaluated: ${errors.slice(0, 3).join('; ')}`, report);
  return report;
}

/** Deletes the rows a complete run did not see, resolving their findings first (so a failure leaves the row to retry). */
async function sweep(request: InventoryRequest, runId: string, startedAt: string, deps: InventoryDeps, now: () => Date): Promise<{ deleted: number; transitions: RecordedTransition[] }> {
  let deleted = 0;
  const transitions: RecordedTransition[] = [];
  const started = Date.parse(startedAt);
  for (const { subscriptionId, type } of partitionsOf(request)) {
    for (const row of await deps.resources.keys(subscriptionId, type)) {
      // Seen by this run, or by anything since it started (a real-time update): the resource is there.
      if (row.runId === runId || Date.parse(row.lastSeenAt) >= started) continue;
      const at = now().toISOString();
      const origin = { trigger: 'schedule' as const, runId, observedAt: at };
      const resource = findingResourceOf({ id: row.resourceId, type: row.type, name: row.name });
      transitions.push(...(await deps.recorder.resolveResource({ cloud: 'azure', scope: scopeOf(row.resourceId, origin), resourceId: resource.id }, at, RESOURCE_DELETED)));
      if (await deps.resources.delete(row)) deleted += 1;
    }
  }
  return { deleted, transitions };
}

function noticesOf(transitions: readonly RecordedTransition[]): FindingNotice[] {
  return transitions.filter((t) => t.kind !== 'touch').map((t) => ({ transition: t.kind, finding: t.finding, ...(t.previous ? { previous: t.previous } : {}) }));
}

/** One digest per run, to every channel; claimed first so a redelivered message does not send it again. */
async function sendDigest(report: RunReport, deps: InventoryDeps): Promise<RunReport['digest']> {
  const digest: RenderedDigest = renderDigest(
    {
      runId: report.runId,
      title: report.mode === 'inventory' ? 'Azure inventory' : 'Azure posture evaluation',
      startedAt: report.startedAt,
      finishedAt: report.finishedAt,
      complete: report.complete,
      notices: noticesOf(report.transitions),
      stats: {
        request: report.request,
        ...(report.collect ? { queries: report.collect.queries, pages: report.collect.pages, resources: report.collect.rows, deleted: report.deleted } : {}),
        evaluated: report.evaluation.resources,
      },
      notes: report.shards.filter((s) => s.status === 'failed').map((s) => `query ${s.type} failed: ${s.error ?? 'unknown error'}`),
    },
    { ...(deps.brand ? { brand: deps.brand } : {}) },
  );
  const base = { subject: digest.subject, sent: [] as string[], failed: [] as string[] };
  if (!digest.worthSending) return { ...base, skipped: 'nothing to tell' };
  if (deps.digestChannels.length === 0) return { ...base, skipped: 'no channel' };
  if (!(await deps.runs.claimDigest(report.runId, report.finishedAt))) return { ...base, skipped: 'already sent' };
  const results = await Promise.allSettled(deps.digestChannels.map((c) => c.sendDigest(digest)));
  results.forEach((r, i) => {
    const name = deps.digestChannels[i]!.name;
    if (r.status === 'fulfilled') base.sent.push(name);
    else {
      base.failed.push(name);
      report.errors.push(`digest to ${name} failed: ${r.reason instanceof Error ? r.reason.message : String(r.reason)}`);
    }
  });
  // Nobody got it: give the claim back so a later delivery of the run tries again.
  if (base.sent.length === 0) await deps.runs.releaseDigest(report.runId);
  return base;
}
