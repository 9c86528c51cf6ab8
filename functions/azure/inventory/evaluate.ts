import type { RecordedTransition, FindingRecorder } from '../../../shared/findings/recorder';
import type { AllowLists } from '../../../shared/rules/allow-lists';
import { AZURE_REGISTRY, evaluateArmResource, rulesForResourceType, type AzureRuleRegistry } from '../../../shared/rules/azure/registry';
import { findingResourceOf, scopeOf } from '../../../shared/rules/azure/observation';
import { resourceKey } from '../../../shared/findings/finding';
import type { FindingStore } from '../../../shared/findings/store';
import type { StoredResource } from './resource-store';

/**
 * The posture rules over inventoried resources. Each resource is reconciled as a whole: the rules that looked
 * and failed open (or keep) their findings, the rules that looked and passed resolve theirs. The recorder does
 * not persist touches, so a daily evaluation that finds what it found yesterday writes nothing.
 *
 * Observations carry the time the configuration was observed (the row's LastSeenAt), not the evaluation's: a
 * daily evaluation of a week-old inventory must not resolve a finding a newer event opened (the lifecycle
 * ignores observations older than what a finding already knows).
 */

export interface RuleScope {
  ruleId: string;
  /** Lower-case subscription ids the rule runs in; every subscription when absent. */
  subscriptions?: readonly string[];
  /** Tags a resource must carry (all of them, values compared exactly) for the rule to run on it. */
  tags?: Readonly<Record<string, string>>;
}

export interface EvaluatorOptions {
  recorder: FindingRecorder;
  allowLists: AllowLists;
  disabledRules: readonly string[];
  ruleScopes: readonly RuleScope[];
  runId: string;
  /** Only these rules (a rule launch or a service); every enabled rule when absent. */
  ruleIds?: readonly string[];
  registry?: AzureRuleRegistry;
  /** Resources evaluated at once (default 8). */
  concurrency?: number;
  /**
   * Resource keys (findings' partition keys) with an ACTIVE or SUPPRESSED finding when the run started. A resource
   * that fails nothing and is not among them has nothing to resolve, so it costs no read of the findings store:
   * a daily evaluation of 100,000 resources reads only those that fail or had failed. Without it, every
   * evaluated resource reads its findings.
   */
  openResources?: ReadonlySet<string>;
}

export interface EvaluationStats {
  resources: number;
  /** Resource x rule evaluations that decided pass or fail. */
  evaluations: number;
  failing: number;
  notApplicable: number;
  ruleErrors: number;
  malformed: number;
  /** Resources whose stored findings were read (they fail, or had an open finding). */
  reconciled: number;
}

export const OUT_OF_SCOPE_REASON = 'outside the rule scope';

/** Whether a rule runs on a resource under the configured scopes (no scope entry: everywhere). */
export function inRuleScope(ruleId: string, resource: StoredResource, scopes: readonly RuleScope[]): boolean {
  const entries = scopes.filter((s) => s.ruleId === ruleId);
  if (entries.length === 0) return true;
  // Several entries for one rule widen it: any entry that admits the resource is enough.
  return entries.some((scope) => {
    if (scope.subscriptions && !scope.subscriptions.map((s) => s.toLowerCase()).includes(resource.subscriptionId.toLowerCase())) return false;
    const tags = resource.resource.tags ?? {};
    return Object.entries(scope.tags ?? {}).every(([key, value]) => tags[key] === value);
  });
}

export class PostureEvaluator {
  readonly stats: EvaluationStats = { resources: 0, evaluations: 0, failing: 0, notApplicable: 0, ruleErrors: 0, malformed: 0, reconciled: 0 };
  readonly transitions: RecordedTransition[] = [];
  readonly errors: string[] = [];
  /** Resources whose findings could not be recorded (a store error): the run reports them and fails. */
  failedResources = 0;
  private readonly registry: AzureRuleRegistry;

  constructor(private readonly options: EvaluatorOptions) {
    this.registry = options.registry ?? AZURE_REGISTRY;
  }

  /** Evaluates every resource the iterable yields, `concurrency` at a time. */
  async evaluateAll(resources: AsyncIterable<StoredResource> | Iterable<StoredResource>): Promise<void> {
    const limit = Math.max(1, this.options.concurrency ?? 8);
    const running = new Set<Promise<void>>();
    for await (const resource of resources) {
      const task: Promise<void> = this.evaluate(resource).then(
        () => undefined,
        (error: unknown) => {
          this.errors.push(`${resource.resource.id}: ${error instanceof Error ? error.message : String(error)}`);
          this.failedResources += 1;
        },
      );
      void task.finally(() => running.delete(task));
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
  }

  async evaluate(resource: StoredResource): Promise<RecordedTransition[]> {
    const { options } = this;
    const wanted = options.ruleIds ? new Set(options.ruleIds) : undefined;
    const rules = rulesForResourceType(resource.type, this.registry).filter((r) => !options.disabledRules.includes(r.id) && (!wanted || wanted.has(r.id)));
    if (rules.length === 0) return [];
    this.stats.resources += 1;
    const inScope = rules.filter((r) => inRuleScope(r.id, resource, options.ruleScopes)).map((r) => r.id);
    const outOfScope = rules.filter((r) => !inScope.includes(r.id)).map((r) => r.id);
    const observedAt = resource.lastSeenAt;
    const source = { trigger: 'schedule' as const, runId: options.runId };
    const out: RecordedTransition[] = [];
    const scope = scopeOf(resource.resource.id, { trigger: 'schedule', runId: options.runId, observedAt });
    const resourceId = findingResourceOf(resource.resource).id;
    const mayHaveOpen = !options.openResources || options.openResources.has(resourceKey('azure', scope, resourceId));
    let read = false;

    if (inScope.length > 0) {
      const outcome = evaluateArmResource(resource.resource, { allowLists: options.allowLists, origin: { trigger: 'schedule', runId: options.runId, observedAt }, ruleIds: inScope, registry: this.registry });
      if (outcome.kind !== 'evaluated') {
        this.stats.malformed += 1;
        this.errors.push(`${resource.resource.id}: ${outcome.reason}`);
      } else {
        for (const result of outcome.results) {
          if (result.status === 'evaluated') this.stats.evaluations += 1;
          else if (result.status === 'not-applicable') this.stats.notApplicable += 1;
          else {
            this.stats.ruleErrors += 1;
            this.errors.push(`${result.ruleId} on ${resource.resource.id}: ${result.reason ?? 'error'}`);
          }
        }
        this.stats.failing += outcome.observations.length;
        const evaluated = new Set(outcome.evaluatedRuleIds);
        if (outcome.observations.length > 0 || mayHaveOpen) read = true;
        if (read) out.push(
          ...(await options.recorder.reconcile({
            resource: { cloud: 'azure', scope: outcome.scope, resourceId: outcome.resource.id },
            covers: (f) => evaluated.has(f.ruleId),
            failures: outcome.observations,
            observedAt,
            resolvedReason: 'fixed',
            source,
          })),
        );
      }
    }
    if (outOfScope.length > 0 && mayHaveOpen) {
      read = true;
      // A rule whose scope no longer admits the resource leaves no finding open on it.
      const excluded = new Set(outOfScope);
      out.push(
        ...(await options.recorder.reconcile({
          resource: { cloud: 'azure', scope, resourceId },
          covers: (f) => excluded.has(f.ruleId),
          failures: [],
          observedAt,
          resolvedReason: OUT_OF_SCOPE_REASON,
          source,
        })),
      );
    }
    if (read) this.stats.reconciled += 1;
    this.transitions.push(...out);
    return out;
  }
}

/** The resources with an ACTIVE or SUPPRESSED Azure finding (findings' partition keys), read from the state index. */
export async function openFindingResources(store: FindingStore): Promise<Set<string>> {
  const open = new Set<string>();
  for (const state of ['ACTIVE', 'SUPPRESSED'] as const) {
    for (const { finding } of await store.query({ state, cloud: 'azure' })) open.add(resourceKey(finding.cloud, finding.scope, finding.resource.id));
  }
  return open;
}
