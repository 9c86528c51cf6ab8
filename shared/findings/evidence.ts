import { EVIDENCE_MAX_BYTES } from './finding';

/**
 * Evidence is the small piece of the event, configuration or scan that shows why a rule failed. It goes into
 * stores, logs and emails, so it is redacted (anything keyed like a credential) and bounded (depth, array
 * length, string length, total size) before it is kept.
 */

const SECRET_KEY = /pass(word|phrase)?|secret|token|credential|private.?key|connection.?string|^sig$|signature|session.?key|^auth(orization)?$|cookie/i;
export const REDACTED = '[redacted]';

export interface EvidenceLimits {
  maxBytes: number;
  maxDepth: number;
  maxArrayItems: number;
  maxStringChars: number;
}

const DEFAULT_LIMITS: EvidenceLimits = { maxBytes: EVIDENCE_MAX_BYTES, maxDepth: 6, maxArrayItems: 20, maxStringChars: 512 };

function bound(value: unknown, key: string, depth: number, limits: EvidenceLimits): unknown {
  if (key !== '' && SECRET_KEY.test(key) && value !== null && value !== undefined && typeof value !== 'boolean') return REDACTED;
  if (typeof value === 'string') return value.length > limits.maxStringChars ? `${value.slice(0, limits.maxStringChars)}...(${value.length} chars)` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object' || value === undefined) return undefined;
  if (depth >= limits.maxDepth) return '[...]';
  if (Array.isArray(value)) {
    const items = value.slice(0, limits.maxArrayItems).map((item) => bound(item, '', depth + 1, limits));
    if (value.length > limits.maxArrayItems) items.push(`...(${value.length - limits.maxArrayItems} more)`);
    return items;
  }
  const out: Record<string, unknown> = {};
  for (const [name, item] of Object.entries(value)) {
    // Own enumerable data only; a `__proto__` key is kept as data, never as a prototype.
    const bounded = bound(item, name, depth + 1, limits);
    if (bounded !== undefined) Object.defineProperty(out, name, { value: bounded, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

function size(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value), 'utf8');
}

/**
 * Redacts and bounds `value` into an evidence object of at most `limits.maxBytes` bytes of JSON. When bounding
 * each part is not enough, the limits tighten step by step; as a last resort the evidence says it was cut.
 */
export function boundedEvidence(value: Record<string, unknown>, overrides: Partial<EvidenceLimits> = {}): Record<string, unknown> {
  let limits: EvidenceLimits = { ...DEFAULT_LIMITS, ...overrides };
  for (let attempt = 0; attempt < 6; attempt++) {
    const bounded = bound(value, '', 0, limits) as Record<string, unknown>;
    if (size(bounded) <= limits.maxBytes) return bounded;
    limits = {
      ...limits,
      maxStringChars: Math.max(16, Math.floor(limits.maxStringChars / 2)),
      maxArrayItems: Math.max(2, Math.floor(limits.maxArrayItems / 2)),
      maxDepth: Math.max(2, limits.maxDepth - 1),
    };
  }
  return { truncated: true, keys: Object.keys(value).slice(0, 10).map((k) => k.slice(0, 64)) };
}
