import type { WrittenTransition } from '../../shared/findings/recorder';
import { SECURITY_FINDING_EVENT, type SecurityFindingDimension } from './telemetry-names';
import type { Telemetry } from './telemetry';

/** Dimension values are strings in Application Insights; long ones are cut to stay readable in queries. */
const MAX_DIMENSION_CHARS = 1024;

function cut(value: string | undefined): string | undefined {
  return value === undefined ? undefined : value.length > MAX_DIMENSION_CHARS ? `${value.slice(0, MAX_DIMENSION_CHARS - 3)}...` : value;
}

/** The `SecurityFinding` event of one transition (every category shares it). */
export function findingEventProperties(t: WrittenTransition): Record<SecurityFindingDimension, string | number | undefined> {
  const f = t.finding;
  return {
    FindingId: f.id,
    RuleId: f.ruleId,
    Category: f.category,
    Severity: f.severity,
    State: f.state,
    Transition: t.kind,
    Title: cut(f.title),
    ResourceId: cut(f.resource.id),
    ResourceType: f.resource.type,
    ResourceName: cut(f.resource.name),
    Subscription: f.scope.subscription ?? f.scope.account,
    Subject: cut(f.subject),
    Actor: cut(f.source.actor),
    SourceIp: f.source.sourceIp,
    EventName: f.source.eventName,
    Trigger: f.source.trigger,
    FirstSeenAt: f.firstSeenAt,
    ResolvedAt: f.resolvedAt,
    ResolvedReason: f.resolvedReason,
    ReopenCount: f.reopenCount,
    Cves: f.vulnerability ? cut(f.vulnerability.cves.join(',')) : undefined,
    Package: f.vulnerability?.package,
    InstalledVersion: f.vulnerability?.installedVersion,
    FixedVersion: f.vulnerability?.fixedVersion,
  };
}

/** One `SecurityFinding` event per written transition. */
export function emitFindingTransitions(telemetry: Telemetry, transitions: readonly WrittenTransition[]): void {
  for (const t of transitions) telemetry.event(SECURITY_FINDING_EVENT, findingEventProperties(t));
}
