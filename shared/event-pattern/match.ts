/**
 * EventBridge event patterns, evaluated offline: the stack's rules are plain data (aws/event-pattern.ts),
 * so the local pipeline, the infrastructure tests and anything else that replays events decide with the
 * same rules the cloud applies, and say why an event was dropped.
 *
 * Semantics follow the EventBridge user guide (event patterns, content filtering, arrays, null values):
 * - fields of a pattern AND; the matchers in a field's array OR;
 * - matchers: exact values (string, number, boolean, `null`; `""` and `null` are distinct),
 *   `prefix` / `suffix` (string, or `{ "equals-ignore-case": s }`), `equals-ignore-case`, `wildcard`
 *   (`*` any run of characters, `\*` a literal star), `anything-but` (a value, a list of strings or of
 *   numbers, or one of `{ prefix | suffix | equals-ignore-case | wildcard }`), `exists` (leaf fields only:
 *   an object or an empty array is not a leaf), `numeric` (`=`, `<`, `<=`, `>`, `>=`, one or two
 *   comparisons) and `cidr` (IPv4);
 * - `$or: [pattern, pattern, ...]` at any level: any branch may match;
 * - an event field holding an array matches when any element does; a nested pattern under an array of
 *   objects matches when one element matches the whole sub-pattern (array consistency);
 * - a nested pattern under a missing, null or scalar field sees no leaves there, so only
 *   `exists: false` can match below it.
 * Exact numbers compare by value: JSON.parse has already turned 300 and 3.0e2 into the same number,
 * which EventBridge (comparing their text) would tell apart.
 * An operator outside this list is an {@link EventPatternError}, so a rule using one fails loudly in a
 * test instead of being evaluated wrongly.
 */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type EventPattern = { [key: string]: Json };

export type PatternVerdict = { matched: true } | { matched: false; reason: string };

export class EventPatternError extends Error {
  override readonly name = 'EventPatternError';
}

type JsonObject = { [key: string]: Json };

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const MAX_SHOWN = 160;

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN - 3)}...` : text;
}

/** The leaf values at one field: scalars and nulls, arrays flattened; objects are not leaves. */
function leafValues(value: Json | undefined): Json[] {
  if (value === undefined || isObject(value)) return [];
  if (Array.isArray(value)) return value.flatMap((item) => leafValues(item));
  return [value];
}

/** The objects a nested pattern is applied to; none (an empty object) when the field is not an object. */
function objectsAt(value: Json | undefined): JsonObject[] {
  if (isObject(value)) return [value];
  if (Array.isArray(value)) {
    const found = value.flatMap((item) => objectsAt(item));
    return found.length > 0 ? found : [{}];
  }
  return [{}];
}

function wildcardRegExp(pattern: string, flags = ''): RegExp {
  if (pattern.includes('**')) throw new EventPatternError(`wildcard ${show(pattern)}: consecutive * are not allowed`);
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i]!;
    if (char === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      source += `\\${pattern[i + 1]}`;
      i++;
    } else if (char === '*') {
      source += '.*';
    } else {
      source += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${source}$`, `s${flags}`);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return undefined;
  return parts.reduce((acc, p) => acc * 256 + Number(p), 0);
}

function cidrMatcher(cidr: string): (value: string) => boolean {
  const match = /^([\d.]+)\/(\d{1,2})$/.exec(cidr);
  const base = match ? ipv4(match[1]!) : undefined;
  const bits = match ? Number(match[2]) : NaN;
  if (base === undefined || !(bits >= 0 && bits <= 32)) throw new EventPatternError(`cidr ${show(cidr)}: expected an IPv4 block such as 10.0.0.0/24`);
  const size = 2 ** (32 - bits);
  const start = Math.floor(base / size) * size;
  return (value) => {
    const address = ipv4(value);
    return address !== undefined && address >= start && address < start + size;
  };
}

const NUMERIC_OPERATORS = new Set(['=', '<', '<=', '>', '>=']);

function numericMatcher(arg: Json): (value: number) => boolean {
  if (!Array.isArray(arg) || (arg.length !== 2 && arg.length !== 4)) throw new EventPatternError(`numeric ${show(arg)}: expected [op, n] or [op, n, op, n]`);
  const checks: ((value: number) => boolean)[] = [];
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const bound = arg[i + 1];
    if (typeof op !== 'string' || !NUMERIC_OPERATORS.has(op) || typeof bound !== 'number') throw new EventPatternError(`numeric ${show(arg)}: expected operators = < <= > >= each followed by a number`);
    if (op === '=' && arg.length !== 2) throw new EventPatternError(`numeric ${show(arg)}: "=" takes no second comparison`);
    checks.push(
      op === '=' ? (v) => v === bound : op === '<' ? (v) => v < bound : op === '<=' ? (v) => v <= bound : op === '>' ? (v) => v > bound : (v) => v >= bound,
    );
  }
  return (value) => checks.every((check) => check(value));
}

/** `prefix` / `suffix` take a string, or `{ "equals-ignore-case": string }`. */
function affixArgument(op: string, arg: Json): { text: string; ignoreCase: boolean } {
  if (typeof arg === 'string') return { text: arg, ignoreCase: false };
  if (isObject(arg) && Object.keys(arg).length === 1 && typeof arg['equals-ignore-case'] === 'string') return { text: arg['equals-ignore-case'], ignoreCase: true };
  throw new EventPatternError(`${op} ${show(arg)}: expected a string or { "equals-ignore-case": string }`);
}

function stringList(op: string, arg: Json): string[] {
  const list = Array.isArray(arg) ? arg : [arg];
  if (list.length === 0 || !list.every((item): item is string => typeof item === 'string')) throw new EventPatternError(`${op} ${show(arg)}: expected a string or a list of strings`);
  return list;
}

type ValueTest = (value: Json) => boolean;

/** A positive test of one value; anything-but negates one of these. */
function valueTest(op: string, arg: Json): ValueTest {
  switch (op) {
    case 'prefix': {
      const { text, ignoreCase } = affixArgument(op, arg);
      return (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase().startsWith(text.toLowerCase()) : v.startsWith(text));
    }
    case 'suffix': {
      const { text, ignoreCase } = affixArgument(op, arg);
      return (v) => typeof v === 'string' && (ignoreCase ? v.toLowerCase().endsWith(text.toLowerCase()) : v.endsWith(text));
    }
    case 'equals-ignore-case': {
      const wanted = new Set(stringList(op, arg).map((s) => s.toLowerCase()));
      return (v) => typeof v === 'string' && wanted.has(v.toLowerCase());
    }
    case 'wildcard': {
      const patterns = stringList(op, arg).map((p) => wildcardRegExp(p));
      return (v) => typeof v === 'string' && patterns.some((re) => re.test(v));
    }
    case 'numeric': {
      const test = numericMatcher(arg);
      return (v) => typeof v === 'number' && test(v);
    }
    case 'cidr': {
      if (typeof arg !== 'string') throw new EventPatternError(`cidr ${show(arg)}: expected a string`);
      const test = cidrMatcher(arg);
      return (v) => typeof v === 'string' && test(v);
    }
    default:
      throw new EventPatternError(`unsupported matcher operator "${op}"`);
  }
}

function anythingBut(arg: Json): ValueTest {
  if (isObject(arg)) {
    const keys = Object.keys(arg);
    const [op] = keys;
    if (keys.length !== 1 || !['prefix', 'suffix', 'equals-ignore-case', 'wildcard'].includes(op!)) {
      throw new EventPatternError(`anything-but ${show(arg)}: expected a value, a list, or one of prefix, suffix, equals-ignore-case, wildcard`);
    }
    if ((op === 'prefix' || op === 'suffix') && typeof arg[op] !== 'string') throw new EventPatternError(`anything-but ${show(arg)}: ${op} takes one string`);
    const excluded = valueTest(op!, arg[op!]!);
    // Like the positive forms, these apply to strings only.
    return (v) => typeof v === 'string' && !excluded(v);
  }
  const list: Json[] = Array.isArray(arg) ? arg : [arg];
  const excluded = new Set<Json>(list);
  const allStrings = list.every((item) => typeof item === 'string');
  const allNumbers = list.every((item) => typeof item === 'number');
  if (list.length === 0 || (!allStrings && !allNumbers)) throw new EventPatternError(`anything-but ${show(arg)}: expected a string, a number, or a list of only strings or only numbers`);
  return (v) => !excluded.has(v);
}

interface FieldMatcher {
  /** Decides on all the leaf values of the field at once (exists looks at presence, not at a value). */
  test(values: readonly Json[]): boolean;
}

function compileMatcher(matcher: Json): FieldMatcher {
  if (!isObject(matcher)) {
    if (Array.isArray(matcher)) throw new EventPatternError(`a matcher cannot be an array: ${show(matcher)}`);
    return { test: (values) => values.some((v) => v === matcher) };
  }
  const keys = Object.keys(matcher);
  if (keys.length !== 1) throw new EventPatternError(`a matcher has exactly one operator: ${show(matcher)}`);
  const op = keys[0]!;
  const arg = matcher[op]!;
  if (op === 'exists') {
    if (typeof arg !== 'boolean') throw new EventPatternError(`exists ${show(arg)}: expected true or false`);
    return { test: (values) => (values.length > 0) === arg };
  }
  const test = op === 'anything-but' ? anythingBut(arg) : valueTest(op, arg);
  return { test: (values) => values.some(test) };
}

type CompiledPattern = { kind: 'fields'; fields: CompiledField[] };
type CompiledField =
  | { kind: 'or'; path: string; branches: CompiledPattern[] }
  | { kind: 'nested'; key: string; path: string; pattern: CompiledPattern }
  | { kind: 'leaf'; key: string; path: string; matchers: FieldMatcher[]; source: Json[] };

function compile(pattern: JsonObject, path: string): CompiledPattern {
  const fields: CompiledField[] = [];
  for (const [key, sub] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject)) throw new EventPatternError(`${here}: $or takes a list of two or more patterns, got ${show(sub)}`);
      fields.push({ kind: 'or', path: path || '(top)', branches: sub.map((branch) => compile(branch as JsonObject, path)) });
    } else if (isObject(sub)) {
      fields.push({ kind: 'nested', key, path: here, pattern: compile(sub, here) });
    } else if (Array.isArray(sub)) {
      if (sub.length === 0) throw new EventPatternError(`${here}: a field's list of matchers cannot be empty`);
      fields.push({ kind: 'leaf', key, path: here, matchers: sub.map(compileMatcher), source: sub });
    } else {
      throw new EventPatternError(`${here}: pattern values are lists of matchers or nested patterns, got ${show(sub)}`);
    }
  }
  return { kind: 'fields', fields };
}

function describeValue(raw: Json | undefined, values: readonly Json[]): string {
  if (raw === undefined) return 'absent';
  if (values.length === 0) return isObject(raw) ? 'an object (not a leaf)' : 'an empty list';
  return `${show(values.length === 1 ? values[0] : values)}`;
}

function evaluate(pattern: CompiledPattern, event: JsonObject): PatternVerdict {
  for (const field of pattern.fields) {
    if (field.kind === 'or') {
      const reasons: string[] = [];
      let matched = false;
      for (const branch of field.branches) {
        const verdict = evaluate(branch, event);
        if (verdict.matched) {
          matched = true;
          break;
        }
        reasons.push(verdict.reason);
      }
      if (!matched) return { matched: false, reason: `no $or branch matched at ${field.path}: ${reasons.map((r, i) => `(${i + 1}) ${r}`).join('; ')}` };
      continue;
    }
    const raw = event[field.key];
    if (field.kind === 'nested') {
      let first: PatternVerdict | undefined;
      for (const node of objectsAt(raw)) {
        const verdict = evaluate(field.pattern, node);
        if (verdict.matched) {
          first = verdict;
          break;
        }
        first ??= verdict;
      }
      if (first && !first.matched) return first;
      continue;
    }
    const values = leafValues(raw);
    if (!field.matchers.some((matcher) => matcher.test(values))) {
      return { matched: false, reason: `${field.path} is ${describeValue(raw, values)}, which matches none of ${show(field.source)}` };
    }
  }
  return { matched: true };
}

/** Checks a pattern's syntax (every operator known and well formed); throws {@link EventPatternError}. */
export function validatePattern(pattern: unknown): asserts pattern is EventPattern {
  if (!isObject(pattern)) throw new EventPatternError(`an event pattern is a JSON object, got ${show(pattern)}`);
  compile(pattern, '');
}

/** Whether the event matches, and when it does not, the first field that stopped it and why. */
export function evaluatePattern(pattern: EventPattern, event: unknown): PatternVerdict {
  if (!isObject(pattern)) throw new EventPatternError(`an event pattern is a JSON object, got ${show(pattern)}`);
  const compiled = compile(pattern, '');
  if (!isObject(event)) return { matched: false, reason: `the event is not a JSON object (${show(event)})` };
  return evaluate(compiled, event);
}

export function matchesPattern(pattern: EventPattern, event: unknown): boolean {
  return evaluatePattern(pattern, event).matched;
}
