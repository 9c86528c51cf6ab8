import type { Severity } from '../../../../severity';
import type { Detection, PostureEvaluation } from '../../../types';
import type { PublicAccessBlockShape } from '../shapes';

/** Helpers the posture rules share; each rule stays one small module with its metadata. */

export type Failure = Omit<Detection, 'outcome' | 'resource'>;

export function failure(subject: string, evidence: Record<string, unknown>, overrides: { title?: string; severity?: Severity } = {}): Failure {
  const out: Failure = { subject, evidence };
  if (overrides.title !== undefined) out.title = overrides.title;
  if (overrides.severity !== undefined) out.severity = overrides.severity;
  return out;
}

export function failing(failures: Failure[]): PostureEvaluation {
  return { status: 'evaluated', failures };
}

export const DAY_MS = 86_400_000;

/** Whole days from `iso` to `now`; undefined when the time is missing or unreadable. */
export function daysSince(iso: string | undefined, now: Date): number | undefined {
  if (!iso) return undefined;
  const at = Date.parse(iso);
  return Number.isNaN(at) ? undefined : Math.floor((now.getTime() - at) / DAY_MS);
}

export const BLOCK_PUBLIC_ACCESS_FLAGS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'] as const;

/** The Block Public Access settings that are not on (all four when there is no configuration). */
export function blockPublicAccessOff(config: PublicAccessBlockShape | null): string[] {
  return BLOCK_PUBLIC_ACCESS_FLAGS.filter((flag) => config?.[flag] !== true);
}
