import { z } from 'zod';
import { findingKey, resourceKey, type Finding, type FindingState } from '../../../shared/findings/finding';
import type { Observation } from '../../../shared/findings/lifecycle';
import type { FindingRecorder, RecordedTransition } from '../../../shared/findings/recorder';
import type { FindingStore } from '../../../shared/findings/store';
import { findSuppression, type CompiledSuppression } from '../../../shared/findings/suppressions';
import { findingAsObservation } from '../../../shared/findings/recorder';
import { postureObservation, postureResourceRef, type PostureOrigin } from '../../../shared/rules/aws/posture/observation';
import type { PostureRegistry } from '../../../shared/rules/aws/posture/registry';
import type { RuleScope } from '../../../shared/rules/aws/posture/scope';
import { INVENTORY_SERVICES, type AwsPostureContext, type InventoryService } from '../../../shared/rules/aws/posture/types';
import { mapLimit } from './calls';
import { evaluateResource } from './evaluate';
import type { StoredResource } from './resource-store';
import type { RunStore } from './runs';
import { sendRunDigest, type DigestOutcome } from './digest';
import type { NotificationChannel } from '../../../shared/findings/notifier';

/**
 * The scheduled (or manual) evaluation: the posture rules over the resources table, for all rules, one rule
 * (a new rule's launch), one service or one account, each rule within its configured scope. Only changes
 * are written:
 * - the open findings of the rules in scope are read once (the findings table's by-rule index), so an
 *   unchanged failure is recognised without reading or writing its record;
 * - a new failure, a failure whose suppression changed, and an open finding that no longer fails go through
 *   the recorder (conditional, deferred: no notice per finding), and nothing else;
 * - when the rules last looked is the run record's `lastEvaluatedAt`, not a write on every finding.
 * One digest per run goes to the channels.
 */

const accountId = z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id');

/** `{}`, `{"ruleId":"..."}`, `{"service":"..."}`, `{"accountId":"..."}` (the seed's `policy_id` / `account_id` too). */
export const EvaluationRequestSchema = z
  .object({
    ruleId: z.string().min(1).optional(),
    policy_id: z.string().min(1).optional(),
    service: z.enum(INVENTORY_SERVICES).optional(),
    accountId: accountId.optional(),
    account_id: accountId.optional(),
    trigger: z.enum(['schedule', 'manual']).optional(),
  })
  .transform((r) => ({
    ...(r.ruleId ?? r.policy_id ? { ruleId: (r.ruleId ?? r.policy_id)! } : {}),
    ...(r.service ? { service: r.service } : {}),
    ...(r.accountId ?? r.account_id ? { accountId: (r.accountId ?? r.account_id)! } : {}),
    trigger: r.trigger ?? 'manual',
  }));

export type EvaluationRequest = z.infer<typeof EvaluationRequestSchema>;

export class EvaluationRequestError extends Error {
  override readonly name = 'EvaluationRequestError';
}

/** Where the evaluation reads resources from (the resources table, or memory in the bench). */
export interface ResourceSource {
  resources(account: string, service: InventoryService): AsyncIterable<StoredResource[]>;
}

export interface EvaluationDeps {
  source: ResourceSource;
  runs: RunStore;
  findings: FindingStore;
  /** persistTouches false, policy mode deferred. */
  recorder: FindingRecorder;
  registry: PostureRegistry;
  context: Omit<AwsPostureContext, 'now'>;
  scopes: Readonly<Record<string, RuleScope>>;
  suppressions: readonly CompiledSuppression[];
  channels: readonly NotificationChannel[];
  /** The own account and every spoke. */
  accounts: readonly string[];
  now?: () => Date;
  /** (account, service) partitions read at once. */
  concurrency?: number;
  newRunId: (now: Date) => string;
}

export interface EvaluationSummary {
  runId: string;
  scope: string;
  resources: number;
  evaluations: number;
  unreadable: number;
  ruleErrors: number;
  transitions: { opened: number; reopened: number; resolved: number; suppressed: number };
  /** Writes to the findings store (what the write budget counts). */
  findingWrites: number;
  digest: DigestOutcome;
}

const OPEN_STATES: readonly FindingState[] = ['ACTIVE', 'SUPPRESSED'];

interface OpenFinding {
  state: FindingState;
  finding: Finding;
}

/** The open findings of the rules in scope, by resource key and then `ruleId#subject`. */
async function openFindings(store: FindingStore, ruleIds: readonly string[], accounts: ReadonlySet<string>): Promise<Map<string, Map<string, OpenFinding>>> {
  const out = new Map<string, Map<string, OpenFinding>>();
  const lists = await mapLimit(
    ruleIds.flatMap((ruleId) => OPEN_STATES.map((state) => ({ ruleId, state }))),
    4,
    ({ ruleId, state }) => store.query({ state, ruleId, cloud: 'aws' }),
  );
  for (const record of lists.flat()) {
    const f = record.finding;
    if (f.scope.account === undefined || !accounts.has(f.scope.account)) continue;
    const key = findingKey({ cloud: f.cloud, scope: f.scope, resourceId: f.resource.id, ruleId: f.ruleId, subject: f.subject });
    const byResource = out.get(key.partition) ?? new Map<string, OpenFinding>();
    byResource.set(key.sort, { state: f.state, finding: f });
    out.set(key.partition, byResource);
  }
  return out;
}

function describeScope(request: EvaluationRequest): string {
  const parts = [request.ruleId ? `rule ${request.ruleId}` : 'all rules', ...(request.service ? [`service ${request.service}`] : []), ...(request.accountId ? [`account ${request.accountId}`] : [])];
  return parts.join(', ');
}

export async function runEvaluation(request: EvaluationRequest, deps: EvaluationDeps): Promise<EvaluationSummary> {
  const now = deps.now ?? (() => new Date());
  const startedAt = now();
  const rules = deps.registry.rules.filter((rule) => (!request.ruleId || rule.id === request.ruleId) && (!request.service || rule.service === request.service));
  if (request.ruleId && rules.length === 0) throw new EvaluationRequestError(`no enabled AWS posture rule ${request.ruleId}`);
  if (request.accountId && !deps.accounts.includes(request.accountId)) {
    throw new EvaluationRequestError(`account ${request.accountId} is neither this account nor a configured spoke (${deps.accounts.join(', ')})`);
  }
  const accounts = request.accountId ? [request.accountId] : [...deps.accounts];
  const services = [...new Set(rules.map((rule) => rule.service))];
  const ruleIds = new Set(rules.map((rule) => rule.id));
  const runId = deps.newRunId(startedAt);
  const scope = describeScope(request);
  await deps.runs.create({ runId, kind: 'evaluation', scope: request, trigger: request.trigger, startedAt: startedAt.toISOString(), expected: 0 });

  // Everything read during the run was current when the run started or later: observations carry the start,
  // so an event recorded while the run reads (a newer lastSeenAt) is never undone by it.
  const origin: PostureOrigin = { trigger: request.trigger, runId, observedAt: startedAt.toISOString() };
  const context: AwsPostureContext = { ...deps.context, now: startedAt };
  const open = await openFindings(deps.findings, [...ruleIds], new Set(accounts));
  const transitions: RecordedTransition[] = [];
  let resources = 0;
  let evaluations = 0;
  let unreadable = 0;
  let ruleErrors = 0;

  const decide = async (resource: StoredResource): Promise<void> => {
    resources += 1;
    if (resource.readErrors) {
      unreadable += 1;
      return;
    }
    const result = evaluateResource(resource, { registry: deps.registry, ruleIds, scopes: deps.scopes, context });
    evaluations += result.evaluations;
    ruleErrors += result.errors.length;
    const ref = postureResourceRef(resource);
    const stored = open.get(resourceKey(ref.cloud, ref.scope, ref.resourceId));
    const observations: Observation[] = [];
    for (const decision of result.decisions) {
      const failing = new Set<string>();
      for (const failure of decision.failures) {
        const sort = `${decision.rule.id}#${failure.subject}`;
        failing.add(sort);
        const known = stored?.get(sort);
        const suppressed = findSuppression(deps.suppressions, decision.rule.id, 'aws', resource.arn, startedAt) !== undefined;
        // Failing before and after, in the same state: nothing to write (persistTouches is off anyway).
        if (known && (known.state === 'SUPPRESSED') === suppressed) continue;
        observations.push(postureObservation(decision.rule, failure, resource, origin));
      }
      for (const [sort, known] of stored ?? []) {
        if (!sort.startsWith(`${decision.rule.id}#`) || failing.has(sort)) continue;
        observations.push({ ...findingAsObservation(known.finding), outcome: 'pass', observedAt: origin.observedAt, resolvedReason: decision.resolvedReason, source: { trigger: request.trigger, runId } });
      }
    }
    if (observations.length > 0) transitions.push(...(await deps.recorder.record(observations)));
  };

  await mapLimit(
    accounts.flatMap((account) => services.map((service) => ({ account, service }))),
    deps.concurrency ?? 8,
    async ({ account, service }) => {
      for await (const page of deps.source.resources(account, service)) {
        // Records of one resource are written in order; resources of a page are independent.
        await mapLimit(page, 16, decide);
      }
    },
  );

  const completedAt = now();
  const counts = { opened: 0, reopened: 0, resolved: 0, suppressed: 0 };
  for (const t of transitions) {
    if (t.kind === 'open') counts.opened += 1;
    else if (t.kind === 'reopen' || t.kind === 'unsuppress') counts.reopened += 1;
    else if (t.kind === 'resolve') counts.resolved += 1;
    else if (t.kind === 'suppress') counts.suppressed += 1;
  }
  const digest = await sendRunDigest(deps.channels, {
    runId,
    kind: 'evaluation',
    scope,
    startedAt: startedAt.toISOString(),
    completedAt: completedAt.toISOString(),
    stats: { resources, evaluations, ...(unreadable > 0 ? { unreadable } : {}) },
    transitions,
  });
  await deps.runs.finish(runId, {
    status: 'complete',
    at: completedAt.toISOString(),
    lastEvaluatedAt: startedAt.toISOString(),
    counts: { resources, evaluations, unreadable, ruleErrors, ...counts, digestSent: digest.sent.length },
  });
  return { runId, scope, resources, evaluations, unreadable, ruleErrors, transitions: counts, findingWrites: transitions.length, digest };
}
