import type { AllowLists } from '../allow-lists';
import type { FindingResource, FindingScope } from '../../findings/finding';
import type { Observation } from '../../findings/lifecycle';
import { isTemporaryDeploymentUri } from '../../event-grid';
import type { ArmActivity, ArmActivityDetector, PostureEvaluation } from '../types';
import { apiVersionFor } from './api-versions';
import { isArmResource, isObject, parseArmId, textAt, type ArmResource } from './arm';
import { ARM_EVENT_TYPES, normaliseArmEvent } from './event';
import { findingResourceOf, postureDetections, scopeOf, toObservation, type ObservationOrigin } from './observation';
import { containerAppInsecureIngress } from './rules/container-app-insecure-ingress';
import { containerGroupPublicPort } from './rules/container-group-public-port';
import { diagnosticSettingsDeleted } from './rules/diagnostic-settings-deleted';
import { keyVaultPublicNetworkAccess } from './rules/keyvault-public-network-access';
import { keyVaultPurgeProtection } from './rules/keyvault-purge-protection';
import { nsgOpenAdminPort } from './rules/nsg-open-admin-port';
import { nsgOpenPort } from './rules/nsg-open-port';
import { roleAssignmentPrivileged } from './rules/role-assignment-privileged';
import { storageMinimumTls } from './rules/storage-minimum-tls';
import { storagePublicBlobAccess } from './rules/storage-public-blob-access';
import { storagePublicNetworkAccess } from './rules/storage-public-network-access';
import { storageSharedKeyAccess } from './rules/storage-shared-key-access';
import type { AzurePostureRule } from './types';

/**
 * Every Azure rule, and the three things the pipeline asks of them: which operation names the Event Grid
 * subscription must let through, what to do with one event (GET and evaluate, resolve, detect), and what the
 * rules say about one resource (an ARM GET body or a Resource Graph row).
 */

export interface AzureRuleRegistry {
  posture: readonly AzurePostureRule[];
  detectors: readonly ArmActivityDetector[];
}

export const AZURE_REGISTRY: AzureRuleRegistry = {
  posture: [
    nsgOpenAdminPort,
    nsgOpenPort,
    storagePublicBlobAccess,
    storageSharedKeyAccess,
    storageMinimumTls,
    storagePublicNetworkAccess,
    keyVaultPublicNetworkAccess,
    keyVaultPurgeProtection,
    roleAssignmentPrivileged,
    containerGroupPublicPort,
    containerAppInsecureIngress,
  ],
  detectors: [diagnosticSettingsDeleted],
};

// ---------------------------------------------------------------- the Event Grid filter

/** Event Grid allows at most 25 filter values across all advanced filters of one event subscription. */
export const EVENT_GRID_MAX_FILTER_VALUES = 25;

/** `StringIn` on `data.operationName`: Event Grid compares strings case-insensitively. */
export interface OperationNameFilter {
  operatorType: 'StringIn';
  key: 'data.operationName';
  values: string[];
}

/** The `filter` of one event subscription, in the shape `eventgrid.SystemTopicEventSubscription` takes. */
export interface ArmEventSubscriptionFilter {
  includedEventTypes: string[];
  advancedFilters: [OperationNameFilter];
}

export interface ArmOperationFilterPlan {
  /** Every operation name the rules react to, deduplicated (ignoring case) and sorted. */
  operationNames: string[];
  /**
   * One entry per event subscription to create. Advanced filters of one subscription are ANDed and share the
   * 25-value budget, so more names than that cannot be split into several filters of one subscription: they
   * need several subscriptions (to the same queue), each with its own slice.
   */
  subscriptions: ArmEventSubscriptionFilter[];
}

/** Event types the security-event subscription includes: writes (evaluate, detect) and deletes (resolve, detect). */
export const SECURITY_EVENT_TYPES: readonly string[] = [ARM_EVENT_TYPES.writeSuccess, ARM_EVENT_TYPES.deleteSuccess];

export function armOperationNames(registry: AzureRuleRegistry = AZURE_REGISTRY, maxValuesPerSubscription = EVENT_GRID_MAX_FILTER_VALUES): ArmOperationFilterPlan {
  if (!Number.isInteger(maxValuesPerSubscription) || maxValuesPerSubscription < 1 || maxValuesPerSubscription > EVENT_GRID_MAX_FILTER_VALUES) {
    throw new RangeError(`maxValuesPerSubscription must be 1-${EVENT_GRID_MAX_FILTER_VALUES}, got ${maxValuesPerSubscription}`);
  }
  const byKey = new Map<string, string>();
  const add = (name: string) => {
    if (!byKey.has(name.toLowerCase())) byKey.set(name.toLowerCase(), name);
  };
  for (const rule of registry.posture) {
    for (const trigger of rule.triggers) trigger.operationNames.forEach(add);
    rule.deleteOperationNames.forEach(add);
  }
  for (const detector of registry.detectors) detector.operationNames.forEach(add);
  const operationNames = [...byKey.values()].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase()));
  const subscriptions: ArmEventSubscriptionFilter[] = [];
  for (let i = 0; i < operationNames.length; i += maxValuesPerSubscription) {
    subscriptions.push({
      includedEventTypes: [...SECURITY_EVENT_TYPES],
      advancedFilters: [{ operatorType: 'StringIn', key: 'data.operationName', values: operationNames.slice(i, i + maxValuesPerSubscription) }],
    });
  }
  return { operationNames, subscriptions };
}

// ---------------------------------------------------------------- routing by operation name

/** Rules to evaluate on one resource, read with one GET. */
export interface EvaluateTarget {
  resourceType: string;
  apiVersion: string;
  rules: readonly AzurePostureRule[];
  /** The id to GET, from the event; undefined when the event's resourceUri is not what the operation is about. */
  resourceIdFor(event: ArmActivity): string | undefined;
}

export interface OperationRouting {
  operationName: string;
  evaluate: readonly EvaluateTarget[];
  /** The operation deletes a resource these rules read: resolve their findings on it (`resource deleted`). */
  resolve: readonly { resourceType: string; rules: readonly AzurePostureRule[] }[];
  detectors: readonly ArmActivityDetector[];
}

interface RoutingIndex {
  byOperation: Map<string, OperationRouting>;
  byType: Map<string, AzurePostureRule[]>;
}

const indexes = new WeakMap<AzureRuleRegistry, RoutingIndex>();

function indexOf(registry: AzureRuleRegistry): RoutingIndex {
  const cached = indexes.get(registry);
  if (cached) return cached;
  const byOperation = new Map<string, { operationName: string; evaluate: EvaluateTarget[]; resolve: { resourceType: string; rules: AzurePostureRule[] }[]; detectors: ArmActivityDetector[] }>();
  const entry = (name: string) => {
    const key = name.toLowerCase();
    let found = byOperation.get(key);
    if (!found) byOperation.set(key, (found = { operationName: name, evaluate: [], resolve: [], detectors: [] }));
    return found;
  };
  const byType = new Map<string, AzurePostureRule[]>();
  for (const rule of registry.posture) {
    const type = rule.resourceType.toLowerCase();
    const apiVersion = apiVersionFor(type);
    // A rule whose type has no known-good api-version could never be read: fail at load, not per event.
    if (!apiVersion) throw new Error(`rule ${rule.id}: no ARM api-version known for ${type} (add it to api-versions.ts)`);
    byType.set(type, [...(byType.get(type) ?? []), rule]);
    for (const trigger of rule.triggers) {
      for (const name of trigger.operationNames) {
        const routing = entry(name);
        // Rules of one type share their trigger objects (resources.ts): one GET serves all of them.
        const target = routing.evaluate.find((t) => t.resourceType === type && t.resourceIdFor === trigger.resourceIdFor);
        if (target) (target.rules as AzurePostureRule[]).push(rule);
        else routing.evaluate.push({ resourceType: type, apiVersion, rules: [rule], resourceIdFor: trigger.resourceIdFor });
      }
    }
    for (const name of rule.deleteOperationNames) {
      const routing = entry(name);
      const target = routing.resolve.find((t) => t.resourceType === type);
      if (target) target.rules.push(rule);
      else routing.resolve.push({ resourceType: type, rules: [rule] });
    }
  }
  for (const detector of registry.detectors) for (const name of detector.operationNames) entry(name).detectors.push(detector);
  const index: RoutingIndex = { byOperation, byType };
  indexes.set(registry, index);
  return index;
}

/** What an operation means to the rules (case-insensitive); empty lists when no rule reacts to it. */
export function rulesForOperation(operationName: string, registry: AzureRuleRegistry = AZURE_REGISTRY): OperationRouting {
  return indexOf(registry).byOperation.get(operationName.trim().toLowerCase()) ?? { operationName, evaluate: [], resolve: [], detectors: [] };
}

/** The posture rules that read a resource type (lower-case ARM type, case ignored). */
export function rulesForResourceType(resourceType: string, registry: AzureRuleRegistry = AZURE_REGISTRY): readonly AzurePostureRule[] {
  return indexOf(registry).byType.get(resourceType.toLowerCase()) ?? [];
}

// ---------------------------------------------------------------- one event

export type ArmEventOutcome =
  | { kind: 'malformed'; eventId?: string; reason: string }
  | { kind: 'ignored'; eventId?: string; reason: string }
  /** GET `resourceId?api-version=<apiVersion>`, then `evaluateArmResource(body, { ruleIds })`. */
  | { kind: 'evaluate'; event: ArmActivity; resourceId: string; resourceType: string; apiVersion: string; ruleIds: string[] }
  /** The resource is gone: resolve its findings of these rules with `reason`. */
  | { kind: 'resolve'; event: ArmActivity; resource: FindingResource; scope: FindingScope; ruleIds: string[]; reason: 'resource deleted'; observedAt: string }
  | { kind: 'detection'; event: ArmActivity; ruleId: string; observation: Observation }
  /** A detector threw: a bug to count and log, never a reason to retry the event. */
  | { kind: 'detector-error'; event: ArmActivity; ruleId: string; message: string };

export interface RouteContext {
  allowLists: AllowLists;
  registry?: AzureRuleRegistry;
}

/** Only successful writes and deletes change what the rules see; failures, cancels and actions do not. */
const ROUTED_EVENT_TYPES = new Set(SECURITY_EVENT_TYPES.map((t) => t.toLowerCase()));

function messageOf(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 512);
}

/** Routes one normalised ARM event. Pure: the caller does the GETs, the resolves and the recording. */
export function routeActivity(event: ArmActivity, ctx: RouteContext): ArmEventOutcome[] {
  const registry = ctx.registry ?? AZURE_REGISTRY;
  if (!ROUTED_EVENT_TYPES.has(event.eventType.toLowerCase())) return [{ kind: 'ignored', eventId: event.id, reason: `event type ${event.eventType}` }];
  if (isTemporaryDeploymentUri(event.resourceUri)) return [{ kind: 'ignored', eventId: event.id, reason: `temporary deployment resource ${event.resourceUri}` }];
  const routing = rulesForOperation(event.operationName, registry);
  const outcomes: ArmEventOutcome[] = [];
  const seen = new Set<string>();
  for (const target of routing.evaluate) {
    const resourceId = target.resourceIdFor(event);
    if (resourceId === undefined) {
      outcomes.push({ kind: 'malformed', eventId: event.id, reason: `operation ${event.operationName} does not match resource ${event.resourceUri}` });
      continue;
    }
    const key = `${target.resourceType}|${resourceId.toLowerCase()}`;
    if (seen.has(key)) continue;
    seen.add(key);
    outcomes.push({ kind: 'evaluate', event, resourceId, resourceType: target.resourceType, apiVersion: target.apiVersion, ruleIds: target.rules.map((r) => r.id) });
  }
  for (const target of routing.resolve) {
    const parsed = parseArmId(event.resourceUri);
    if (parsed?.type !== target.resourceType) {
      outcomes.push({ kind: 'malformed', eventId: event.id, reason: `operation ${event.operationName} does not match resource ${event.resourceUri}` });
      continue;
    }
    const origin: ObservationOrigin = { trigger: 'event', event };
    outcomes.push({
      kind: 'resolve',
      event,
      resource: findingResourceOf({ id: parsed.id, type: parsed.type, name: parsed.name }),
      scope: scopeOf(parsed.id, origin),
      ruleIds: target.rules.map((r) => r.id),
      reason: 'resource deleted',
      observedAt: event.eventTime,
    });
  }
  for (const detector of routing.detectors) {
    try {
      for (const detection of detector.match(event, { allowLists: ctx.allowLists })) {
        outcomes.push({ kind: 'detection', event, ruleId: detector.id, observation: toObservation(detector, detection, { trigger: 'event', event }) });
      }
    } catch (error) {
      outcomes.push({ kind: 'detector-error', event, ruleId: detector.id, message: messageOf(error) });
    }
  }
  if (outcomes.length === 0) return [{ kind: 'ignored', eventId: event.id, reason: `operation ${event.operationName}` }];
  return outcomes;
}

/** Normalises and routes one event (an element of `decodeEvents`). Never throws on untrusted input. */
export function routeArmEvent(raw: unknown, ctx: RouteContext): ArmEventOutcome[] {
  const normalised = normaliseArmEvent(raw);
  if (normalised.kind !== 'activity') {
    const { kind, id, reason } = normalised;
    return [id === undefined ? { kind, reason } : { kind, eventId: id, reason }];
  }
  return routeActivity(normalised.activity, ctx);
}

// ---------------------------------------------------------------- one resource

export interface RuleResult {
  ruleId: string;
  status: PostureEvaluation['status'] | 'error';
  /** Not-applicable reason or error message. */
  reason?: string;
  failures: number;
}

export type ResourceOutcome =
  | { kind: 'malformed'; reason: string }
  | { kind: 'unsupported'; resourceType: string; reason: string }
  | {
      kind: 'evaluated';
      resource: FindingResource;
      scope: FindingScope;
      results: RuleResult[];
      /** Rules that looked and decided (status evaluated): their stored findings absent from `observations` are fixed. */
      evaluatedRuleIds: string[];
      /** One fail observation per failing subject. */
      observations: Observation[];
    };

export interface EvaluateContext {
  allowLists: AllowLists;
  origin: ObservationOrigin;
  /** Only these rules (an event's routing, or a one-rule evaluation run); all rules of the type when absent. */
  ruleIds?: readonly string[];
  registry?: AzureRuleRegistry;
}

/**
 * Evaluates the posture rules of a resource's type on its ARM GET body or Resource Graph row. Never throws
 * on untrusted input; a rule that throws is reported in `results` with status `error`.
 */
export function evaluateArmResource(body: unknown, ctx: EvaluateContext): ResourceOutcome {
  const registry = ctx.registry ?? AZURE_REGISTRY;
  if (!isArmResource(body)) {
    return { kind: 'malformed', reason: isObject(body) ? 'not an ARM resource (id, and object properties when present)' : `expected an ARM resource object, got ${Array.isArray(body) ? 'an array' : body === null ? 'null' : typeof body}` };
  }
  const parsed = parseArmId(body.id);
  if (!parsed) return { kind: 'malformed', reason: `id ${JSON.stringify(body.id.slice(0, 200))} is not an ARM resource id` };
  const declared = textAt(body.type)?.toLowerCase();
  if (declared !== undefined && declared !== parsed.type) {
    return { kind: 'malformed', reason: `type ${declared} does not match the id's type ${parsed.type}` };
  }
  const resourceType = parsed.type;
  // Properties may be null in a Resource Graph row; the rules read absent and null alike.
  const resource: ArmResource = { ...body, type: resourceType, properties: isObject(body.properties) ? body.properties : undefined };
  const wanted = ctx.ruleIds ? new Set(ctx.ruleIds) : undefined;
  const rules = rulesForResourceType(resourceType, registry).filter((r) => !wanted || wanted.has(r.id));
  if (rules.length === 0) return { kind: 'unsupported', resourceType, reason: wanted ? `none of the rules ${[...wanted].join(', ')} reads ${resourceType}` : `no rule reads ${resourceType}` };

  const results: RuleResult[] = [];
  const observations: Observation[] = [];
  for (const rule of rules) {
    let evaluation: PostureEvaluation;
    try {
      evaluation = rule.evaluate(resource, { allowLists: ctx.allowLists });
    } catch (error) {
      results.push({ ruleId: rule.id, status: 'error', reason: messageOf(error), failures: 0 });
      continue;
    }
    if (evaluation.status === 'not-applicable') {
      results.push({ ruleId: rule.id, status: 'not-applicable', reason: evaluation.reason, failures: 0 });
      continue;
    }
    const detections = postureDetections(resource, evaluation);
    results.push({ ruleId: rule.id, status: 'evaluated', failures: detections.length });
    for (const detection of detections) observations.push(toObservation(rule, detection, ctx.origin));
  }
  return {
    kind: 'evaluated',
    resource: findingResourceOf(resource),
    scope: scopeOf(resource.id, ctx.origin),
    results,
    evaluatedRuleIds: results.filter((r) => r.status === 'evaluated').map((r) => r.ruleId),
    observations,
  };
}
