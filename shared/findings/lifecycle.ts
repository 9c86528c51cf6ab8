import type { Severity } from '../severity';
import {
  FINDING_SCHEMA,
  findingId,
  type Cloud,
  type Finding,
  type FindingCategory,
  type FindingResource,
  type FindingScope,
  type FindingSource,
  type Remediation,
  type SuppressionRef,
  type VulnerabilityDetail,
} from './finding';

/**
 * What a rule, a detector or a scan says about one subject of one resource at one moment: it fails (the risk
 * is there) or it passes (the risk is gone). The lifecycle turns observations into finding transitions.
 */
export interface Observation {
  ruleId: string;
  category: FindingCategory;
  severity: Severity;
  title: string;
  cloud: Cloud;
  scope: FindingScope;
  resource: FindingResource;
  subject: string;
  outcome: 'fail' | 'pass';
  /** When the event happened or the scan/evaluation saw it (ISO); orders out-of-order deliveries. */
  observedAt: string;
  evidence: Record<string, unknown>;
  remediation: Remediation;
  source: FindingSource;
  vulnerability?: VulnerabilityDetail;
  /** For a pass: why the finding is resolved (`fixed` when unset). */
  resolvedReason?: string;
}

export type TransitionKind = 'open' | 'reopen' | 'resolve' | 'suppress' | 'unsuppress' | 'touch';

/** A state change (or, for `touch`, a new lastSeenAt) the store should write. `none` writes nothing. */
export type Decision =
  | { kind: 'none'; reason: 'pass-without-finding' | 'already-resolved' | 'stale' | 'unchanged' }
  | { kind: TransitionKind; finding: Finding; previous?: Finding };

/** Transitions a person is told about (subject to the severity threshold and notifyOnResolve). */
export const NOTIFIABLE: ReadonlySet<TransitionKind> = new Set(['open', 'reopen', 'unsuppress', 'resolve']);

function later(a: string, b: string): string {
  return Date.parse(a) >= Date.parse(b) ? a : b;
}

function isAfter(a: string, b: string): boolean {
  return Date.parse(a) > Date.parse(b);
}

/** The finding an observation describes, carrying over what the previous record knew. */
function describe(observation: Observation, base: Partial<Finding>): Finding {
  const finding: Finding = {
    schema: FINDING_SCHEMA,
    id: findingId({ cloud: observation.cloud, scope: observation.scope, resourceId: observation.resource.id, ruleId: observation.ruleId, subject: observation.subject }),
    ruleId: observation.ruleId,
    category: observation.category,
    severity: observation.severity,
    title: observation.title,
    cloud: observation.cloud,
    scope: observation.scope,
    resource: observation.resource,
    subject: observation.subject,
    state: base.state ?? 'ACTIVE',
    firstSeenAt: base.firstSeenAt ?? observation.observedAt,
    lastSeenAt: base.lastSeenAt ?? observation.observedAt,
    reopenCount: base.reopenCount ?? 0,
    evidence: observation.evidence,
    remediation: observation.remediation,
    source: observation.source,
  };
  if (observation.vulnerability) finding.vulnerability = observation.vulnerability;
  if (base.resolvedAt) finding.resolvedAt = base.resolvedAt;
  if (base.resolvedReason) finding.resolvedReason = base.resolvedReason;
  if (base.suppressedBy) finding.suppressedBy = base.suppressedBy;
  return finding;
}

function withoutResolution(finding: Finding): Finding {
  const { resolvedAt: _at, resolvedReason: _reason, suppressedBy: _by, ...rest } = finding;
  return rest;
}

/**
 * The lifecycle, as one pure decision:
 * - fail on nothing -> ACTIVE (open), or SUPPRESSED when a suppression matches;
 * - fail on ACTIVE -> lastSeenAt only (touch); fail on SUPPRESSED while still suppressed -> touch;
 * - fail on SUPPRESSED whose suppression is gone -> ACTIVE (unsuppress); fail on ACTIVE that a new suppression
 *   matches -> SUPPRESSED;
 * - fail on RESOLVED -> ACTIVE, reopenCount + 1 (reopen);
 * - pass on ACTIVE or SUPPRESSED -> RESOLVED; pass on nothing or on RESOLVED -> nothing.
 * Observations older than what the record already knows change nothing, so a redelivered or late event never
 * undoes a newer fix or a newer failure.
 */
export function decide(existing: Finding | undefined, observation: Observation, suppression: SuppressionRef | undefined): Decision {
  const at = observation.observedAt;
  if (observation.outcome === 'pass') {
    if (!existing) return { kind: 'none', reason: 'pass-without-finding' };
    if (existing.state === 'RESOLVED') return { kind: 'none', reason: 'already-resolved' };
    if (!isAfter(at, existing.lastSeenAt)) return { kind: 'none', reason: 'stale' };
    const resolved = describe(observation, { ...existing, state: 'RESOLVED', lastSeenAt: existing.lastSeenAt, resolvedAt: at, resolvedReason: observation.resolvedReason ?? 'fixed' });
    // The failing evidence stays: a resolved finding shows what was wrong.
    resolved.evidence = existing.evidence;
    resolved.severity = existing.severity;
    resolved.title = existing.title;
    delete resolved.suppressedBy;
    return { kind: 'resolve', finding: resolved, previous: existing };
  }

  if (!existing) {
    const opened = describe(observation, { state: suppression ? 'SUPPRESSED' : 'ACTIVE', ...(suppression ? { suppressedBy: suppression } : {}) });
    return { kind: suppression ? 'suppress' : 'open', finding: opened };
  }

  if (existing.state === 'RESOLVED') {
    if (!isAfter(at, existing.resolvedAt ?? existing.lastSeenAt)) return { kind: 'none', reason: 'stale' };
    const base = withoutResolution(existing);
    const reopened = describe(observation, {
      ...base,
      state: suppression ? 'SUPPRESSED' : 'ACTIVE',
      lastSeenAt: at,
      reopenCount: existing.reopenCount + 1,
      ...(suppression ? { suppressedBy: suppression } : {}),
    });
    return { kind: suppression ? 'suppress' : 'reopen', finding: reopened, previous: existing };
  }

  const lastSeenAt = later(at, existing.lastSeenAt);
  if (existing.state === 'ACTIVE' && suppression) {
    return { kind: 'suppress', finding: describe(observation, { ...existing, state: 'SUPPRESSED', lastSeenAt, suppressedBy: suppression }), previous: existing };
  }
  if (existing.state === 'SUPPRESSED' && !suppression) {
    return { kind: 'unsuppress', finding: describe(observation, { ...withoutResolution(existing), state: 'ACTIVE', lastSeenAt }), previous: existing };
  }
  if (!isAfter(at, existing.lastSeenAt)) return { kind: 'none', reason: 'unchanged' };
  const touched = describe(observation, { ...existing, lastSeenAt, ...(suppression ? { suppressedBy: suppression } : {}) });
  return { kind: 'touch', finding: touched, previous: existing };
}

/** The finding of a resource that no longer exists, resolved with the reason (none when already resolved). */
export function resolveGone(existing: Finding, at: string, reason = 'resource deleted'): Decision {
  if (existing.state === 'RESOLVED') return { kind: 'none', reason: 'already-resolved' };
  if (!isAfter(at, existing.lastSeenAt)) return { kind: 'none', reason: 'stale' };
  const { suppressedBy: _by, ...rest } = existing;
  return { kind: 'resolve', finding: { ...rest, state: 'RESOLVED', resolvedAt: at, resolvedReason: reason }, previous: existing };
}
