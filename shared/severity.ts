/** Severity levels of the unified result schema, most severe first. */
export const SEVERITIES = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface SeverityCounts {
  critical: number;
  high: number;
  medium: number;
  low: number;
  informational: number;
  total: number;
}

export class SeverityError extends Error {
  override readonly name = 'SeverityError';
  constructor(readonly input: unknown, reason: string) {
    // A bigint would make JSON.stringify throw a TypeError instead of this error.
    super(`cannot read severity ${JSON.stringify(input, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))}: ${reason}`);
  }
}

/** Qualys numbers severities 1 (informational) to 5 (critical). */
const QUALYS_LEVELS: Record<number, Severity> = {
  5: 'CRITICAL',
  4: 'HIGH',
  3: 'MEDIUM',
  2: 'LOW',
  1: 'INFORMATIONAL',
};

/**
 * Names seen across Qualys, SARIF (`error`/`warning`/`note`/`none`), CVSS v3 ratings, Trivy/Grype
 * (`negligible`, `unknown`) and GitHub advisories (`moderate`).
 */
const NAMED_LEVELS: Record<string, Severity> = {
  critical: 'CRITICAL',
  urgent: 'CRITICAL',
  // SARIF `level`s follow the QScanner fallback (error -> 5, warning -> 3, note -> 2).
  error: 'CRITICAL',
  high: 'HIGH',
  important: 'HIGH',
  serious: 'HIGH',
  medium: 'MEDIUM',
  moderate: 'MEDIUM',
  warning: 'MEDIUM',
  low: 'LOW',
  minor: 'LOW',
  note: 'LOW',
  informational: 'INFORMATIONAL',
  info: 'INFORMATIONAL',
  information: 'INFORMATIONAL',
  none: 'INFORMATIONAL',
  negligible: 'INFORMATIONAL',
  unknown: 'INFORMATIONAL',
  unspecified: 'INFORMATIONAL',
};

/**
 * Maps a scanner's severity to the unified scale: Qualys 1-5 (as a number or a numeric string),
 * SARIF levels and severity names in any case. Anything else is a SeverityError, because silently
 * filing an unreadable severity as informational would hide findings.
 */
export function toSeverity(raw: string | number): Severity {
  if (typeof raw === 'number') {
    const level = QUALYS_LEVELS[raw];
    if (level === undefined) throw new SeverityError(raw, 'expected a Qualys level 1-5');
    return level;
  }
  if (typeof raw !== 'string') throw new SeverityError(raw, 'expected a string or a number');
  const text = raw.trim();
  if (/^[0-9]+$/.test(text)) return toSeverity(Number(text));
  const lower = text.toLowerCase();
  // Own keys only: `constructor` or `__proto__` must not resolve through Object.prototype.
  const named = Object.hasOwn(NAMED_LEVELS, lower) ? NAMED_LEVELS[lower] : undefined;
  if (named === undefined) {
    throw new SeverityError(raw, `expected 1-5 or one of ${Object.keys(NAMED_LEVELS).join(', ')}`);
  }
  return named;
}

export function emptyCounts(): SeverityCounts {
  return { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 };
}

const COUNT_KEY: Record<Severity, Exclude<keyof SeverityCounts, 'total'>> = {
  CRITICAL: 'critical',
  HIGH: 'high',
  MEDIUM: 'medium',
  LOW: 'low',
  INFORMATIONAL: 'informational',
};

/** Counts findings per severity; `total` counts every finding. */
export function countBySeverity(findings: Iterable<{ severity: Severity }>): SeverityCounts {
  const counts = emptyCounts();
  for (const finding of findings) {
    counts[COUNT_KEY[finding.severity]] += 1;
    counts.total += 1;
  }
  return counts;
}

/** True when the counts hold at least one finding at `threshold` or above. */
export function reachesThreshold(counts: SeverityCounts, threshold: Severity): boolean {
  const limit = SEVERITIES.indexOf(threshold);
  return SEVERITIES.slice(0, limit + 1).some((severity) => counts[COUNT_KEY[severity]] > 0);
}
