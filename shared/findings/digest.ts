import { SEVERITIES } from '../severity';
import type { Finding } from './finding';
import type { TransitionKind } from './lifecycle';

/**
 * A scheduled run's transitions, told once (the recorder runs those in `deferred` mode: no notice per
 * finding). The digest counts what opened, reopened and resolved, and lists the most important items:
 * newly failing first, most severe first, then what was fixed.
 */

export const DIGEST_SCHEMA = 'shipscan.digest/v1' as const;

export interface DigestItem {
  transition: TransitionKind;
  severity: Finding['severity'];
  title: string;
  ruleId: string;
  resourceName: string;
  resourceId: string;
  scope: string;
  /** Why it was resolved (`fixed`, `resource deleted`...). */
  reason?: string;
}

export interface RunDigest {
  schema: typeof DIGEST_SCHEMA;
  runId: string;
  kind: 'inventory' | 'evaluation';
  /** What the run covered, in words (`all rules`, `rule aws.s3.bucket-versioning-off`, `account 123... s3`). */
  scope: string;
  startedAt: string;
  completedAt: string;
  opened: number;
  reopened: number;
  resolved: number;
  suppressed: number;
  /** Run figures worth a line (resources evaluated, resources deleted...). */
  stats: Record<string, number>;
  top: DigestItem[];
  /** Transitions beyond `top`. */
  more: number;
}

export interface DigestTransition {
  kind: TransitionKind;
  finding: Finding;
}

const ORDER: Partial<Record<TransitionKind, number>> = { open: 0, reopen: 0, unsuppress: 0, resolve: 1, suppress: 2 };

export function buildDigest(meta: Pick<RunDigest, 'runId' | 'kind' | 'scope' | 'startedAt' | 'completedAt' | 'stats'>, transitions: readonly DigestTransition[], topN = 10): RunDigest {
  const told = transitions.filter((t) => t.kind !== 'touch');
  const count = (...kinds: TransitionKind[]) => told.filter((t) => kinds.includes(t.kind)).length;
  const ranked = [...told].sort(
    (a, b) =>
      (ORDER[a.kind] ?? 3) - (ORDER[b.kind] ?? 3) ||
      SEVERITIES.indexOf(a.finding.severity) - SEVERITIES.indexOf(b.finding.severity) ||
      (a.finding.id < b.finding.id ? -1 : a.finding.id > b.finding.id ? 1 : 0),
  );
  const top = ranked.slice(0, topN).map(({ kind, finding: f }): DigestItem => {
    const scope = f.scope.account !== undefined ? `${f.scope.account}${f.scope.region ? `/${f.scope.region}` : ''}` : (f.scope.subscription ?? '');
    return {
      transition: kind,
      severity: f.severity,
      title: f.title,
      ruleId: f.ruleId,
      resourceName: f.resource.name,
      resourceId: f.resource.id,
      scope,
      ...(kind === 'resolve' && f.resolvedReason ? { reason: f.resolvedReason } : {}),
    };
  });
  return {
    schema: DIGEST_SCHEMA,
    ...meta,
    opened: count('open'),
    reopened: count('reopen', 'unsuppress'),
    resolved: count('resolve'),
    suppressed: count('suppress'),
    top,
    more: Math.max(0, told.length - top.length),
  };
}

/** Whether the digest tells anything (a run that changed nothing sends none). */
export function digestHasNews(digest: RunDigest): boolean {
  return digest.opened + digest.reopened + digest.resolved + digest.suppressed > 0;
}
