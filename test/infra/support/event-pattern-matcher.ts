/**
 * The subset of EventBridge event-pattern semantics shipscan's rules use, so tests can run real
 * (corpus) events through a planned pattern: exact values, `prefix`, `exists`, `anything-but`
 * (value, list or `{prefix}`), nested objects, `$or` (two or more sub-patterns, any of which may
 * match the same object), and arrays in the event matching if any element does. EventBridge
 * flattens patterns and events to leaf paths, so a nested pattern under a missing (or null) object
 * sees no leaves: only `exists: false` can match there. Anything else in a pattern is rejected, so
 * a rule using an operator this matcher does not know fails the test instead of passing silently.
 */
type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function isObject(value: unknown): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function matchesOne(matcher: Json, value: Json | undefined): boolean {
  if (!isObject(matcher)) return value !== undefined && matcher === value;
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new Error(`unsupported matcher ${JSON.stringify(matcher)}`);
  const [op] = keys as [string];
  const arg = matcher[op];
  switch (op) {
    case 'exists':
      return arg === (value !== undefined);
    case 'prefix':
      return typeof arg === 'string' && typeof value === 'string' && value.startsWith(arg);
    case 'anything-but': {
      if (value === undefined) return false;
      if (isObject(arg)) {
        if (typeof arg['prefix'] !== 'string') throw new Error(`unsupported anything-but ${JSON.stringify(arg)}`);
        return typeof value === 'string' && !value.startsWith(arg['prefix']);
      }
      const excluded = Array.isArray(arg) ? arg : [arg];
      return !excluded.includes(value);
    }
    default:
      throw new Error(`unsupported matcher operator "${op}"`);
  }
}

function matchesField(matchers: Json, value: Json | undefined): boolean {
  if (!Array.isArray(matchers)) throw new Error(`pattern leaves must be arrays, got ${JSON.stringify(matchers)}`);
  const candidates: (Json | undefined)[] = Array.isArray(value) ? value : [value];
  return matchers.some((matcher) => candidates.some((candidate) => matchesOne(matcher, candidate)));
}

export function matchesPattern(pattern: Record<string, Json>, event: Record<string, Json>): boolean {
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject)) throw new Error(`$or takes two or more patterns, got ${JSON.stringify(sub)}`);
      return sub.some((alternative) => matchesPattern(alternative as Record<string, Json>, event));
    }
    const value = event[key];
    if (isObject(sub)) return matchesPattern(sub, isObject(value) ? value : {});
    return matchesField(sub, value);
  });
}

export type { Json };
