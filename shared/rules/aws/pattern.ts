import { hasDatedEventNames } from './event-names';
import type { DetectorRegistry } from './registry';

/**
 * The EventBridge event pattern(s) for the security-events rule, rendered from the registry so the rule and
 * the detectors never disagree: every (eventSource, eventName) a detector listens to, failed calls left out
 * (`errorCode` absent), Lambda's names in both their undated and dated forms (`AddPermission` and the prefix
 * `AddPermission20`, as aws/event-pattern.ts does: a bare prefix would also catch other APIs), and the
 * sign-in detail-types beside "AWS API Call via CloudTrail".
 *
 * A pattern may hold at most 2048 characters (the default quota), so sources are packed into as few patterns
 * as fit; each becomes its own rule. Within a pattern, each source's names sit in their own `$or` branch so
 * that no source is subscribed to another's names.
 */

export type EventPattern = Record<string, unknown>;
type NameMatcher = string | { prefix: string };

export const CLOUDTRAIL_API_DETAIL_TYPE = 'AWS API Call via CloudTrail';
export const EVENT_PATTERN_MAX_CHARS = 2048;

interface SourceUnit {
  eventSource: string;
  names: NameMatcher[];
  detailTypes: string[];
}

/** `ec2.amazonaws.com` -> `aws.ec2`: the EventBridge source of a service's CloudTrail events. */
export function eventBridgeSource(eventSource: string): string {
  return `aws.${eventSource.replace(/\.amazonaws\.com$/, '')}`;
}

function unitsOf(registry: DetectorRegistry): SourceUnit[] {
  const bySource = new Map<string, { names: Set<string>; detailTypes: Set<string> }>();
  for (const detector of registry.detectors) {
    const entry = bySource.get(detector.eventSource) ?? { names: new Set<string>(), detailTypes: new Set<string>() };
    for (const name of detector.eventNames) entry.names.add(name);
    for (const type of detector.detailTypes ?? []) entry.detailTypes.add(type);
    bySource.set(detector.eventSource, entry);
  }
  return [...bySource.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([eventSource, entry]) => ({
      eventSource,
      names: [...entry.names].sort().flatMap((name): NameMatcher[] => (hasDatedEventNames(eventSource) ? [name, { prefix: `${name}20` }] : [name])),
      detailTypes: [...entry.detailTypes].sort(),
    }));
}

function render(units: readonly SourceUnit[]): EventPattern {
  const detailTypes = [...new Set([CLOUDTRAIL_API_DETAIL_TYPE, ...units.flatMap((u) => u.detailTypes)])];
  const branch = (u: SourceUnit) => ({ eventSource: [u.eventSource], eventName: u.names });
  const detail: Record<string, unknown> =
    units.length === 1
      ? { ...branch(units[0]!), errorCode: [{ exists: false }] }
      : { errorCode: [{ exists: false }], $or: units.map(branch) };
  return { source: [...new Set(units.map((u) => eventBridgeSource(u.eventSource)))], 'detail-type': detailTypes, detail };
}

export function patternSize(pattern: EventPattern): number {
  return JSON.stringify(pattern).length;
}

/** Splits one source whose names alone overflow a pattern into several units of the same source. */
function splitUnit(unit: SourceUnit, maxChars: number): SourceUnit[] {
  const out: SourceUnit[] = [];
  let names: NameMatcher[] = [];
  for (let i = 0; i < unit.names.length; i++) {
    // Dated forms travel with their name so one pattern holds both.
    const group = typeof unit.names[i + 1] === 'object' ? [unit.names[i]!, unit.names[++i]!] : [unit.names[i]!];
    const candidate = [...names, ...group];
    if (names.length > 0 && patternSize(render([{ ...unit, names: candidate }])) > maxChars) {
      out.push({ ...unit, names });
      names = [...group];
    } else {
      names = candidate;
    }
  }
  if (names.length > 0) out.push({ ...unit, names });
  for (const part of out) {
    if (patternSize(render([part])) > maxChars) throw new RangeError(`event ${JSON.stringify(part.names[0])} of ${unit.eventSource} alone makes a pattern longer than ${maxChars} characters`);
  }
  return out;
}

/**
 * The patterns, each at most `maxChars` characters of JSON, together matching exactly the registry's events.
 * Deterministic: the same registry always renders the same patterns in the same order.
 */
export function securityEventPatterns(registry: DetectorRegistry, options: { maxChars?: number } = {}): EventPattern[] {
  const maxChars = options.maxChars ?? EVENT_PATTERN_MAX_CHARS;
  const units = unitsOf(registry).flatMap((unit) => (patternSize(render([unit])) > maxChars ? splitUnit(unit, maxChars) : [unit]));
  const patterns: EventPattern[] = [];
  let current: SourceUnit[] = [];
  for (const unit of units) {
    if (current.length > 0 && patternSize(render([...current, unit])) > maxChars) {
      patterns.push(render(current));
      current = [];
    }
    current.push(unit);
  }
  if (current.length > 0) patterns.push(render(current));
  return patterns;
}

/** The name the issue gives it: the same list of patterns. */
export const securityEventPattern = securityEventPatterns;
