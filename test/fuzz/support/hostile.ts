import fc from 'fast-check';

/**
 * Inputs a hostile sender would try, generated and mutated by fast-check: wrong types, deep nesting,
 * huge strings, unicode and NUL, `__proto__` keys, base64 garbage, truncated JSON and very long arrays.
 * One fixed seed, so CI runs the same inputs every time; `FUZZ_SEED` and `FUZZ_RUNS_FACTOR` widen a
 * local search (`FUZZ_RUNS_FACTOR=20 FUZZ_SEED=7 npx mocha test/fuzz/*.test.ts`).
 */

export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 18);
const RUNS_FACTOR = Number(process.env.FUZZ_RUNS_FACTOR ?? 1);

/** fast-check parameters for a property: the fixed seed and `numRuns` runs (times FUZZ_RUNS_FACTOR). */
export function fuzz(numRuns: number): { seed: number; numRuns: number; endOnFailure: true } {
  return { seed: FUZZ_SEED, numRuns: Math.max(1, Math.round(numRuns * RUNS_FACTOR)), endOnFailure: true };
}

/** Pieces that have broken parsers before: prototype names, NUL, lone surrogates, bidi, traversal, quotes, credential shapes. */
export const TRAPS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '\u0000',
  '\uFFFD',
  '\uD800',
  '\uDFFF',
  '😀',
  'é',
  '\u202E',
  '\u2028',
  '../',
  '%2e%2e%2f',
  '\\',
  '"',
  "'",
  '{',
  '[',
  ']',
  '}',
  ':',
  ',',
  '/',
  '@',
  '#',
  '?',
  'sha256:',
  ' ',
  '\n',
  '\t',
  'Bearer ',
  'eyJ',
  '-eyJ',
  'token=',
  '"password":"',
  'null',
  'NaN',
  '-1',
  '1e309',
  '0x10',
] as const;

const trapRun = fc.array(fc.constantFrom(...TRAPS, 'a', 'Z', '0', '.', '-', '_'), { maxLength: 12 }).map((p) => p.join(''));

/** A string of `length` characters repeating `unit` (built at once, not character by character). */
export function repeatTo(unit: string, length: number): string {
  return unit.repeat(Math.ceil(length / Math.max(1, unit.length))).slice(0, length);
}

/** 1,000 to 70,000 characters: past every field limit, and past a Storage queue message. */
export const hugeString = fc.tuple(fc.constantFrom(...TRAPS, 'a', 'x0', '€'), fc.integer({ min: 1_000, max: 70_000 })).map(([unit, n]) => repeatTo(unit, n));

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: trapRun },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 10 }) },
  { weight: 1, arbitrary: hugeString },
);

const scalar: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(null, undefined, true, false, 0, -0, 1, -1, 2 ** 53 + 2, 1e308, -1e-308, NaN, Infinity, -Infinity, '', '0', 'true', 'null', '{}', '[]'),
  fc.double(),
  fc.integer(),
  hostileString,
);

/** An object with exactly these own enumerable keys, `__proto__` included (as JSON.parse makes them). */
export function objectOf(entries: readonly (readonly [string, unknown])[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of entries) Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

const key = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...TRAPS, 'id', 'data', 'eventType', 'specversion', 'type', 'body', 'Records', 'detail') }, { weight: 1, arbitrary: hostileString });

/** Any JSON-like value, of every wrong type, with prototype keys at any level. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 4 },
    { weight: 4, arbitrary: scalar },
    { weight: 1, arbitrary: fc.array(tie('value'), { maxLength: 5 }) },
    { weight: 1, arbitrary: fc.array(fc.tuple(key, tie('value')), { maxLength: 5 }).map(objectOf) },
  ),
})).value;

/** `depth` levels of arrays or objects around `inner`, built without recursion. */
export function nested(depth: number, kind: 'array' | 'object', inner: unknown = null): unknown {
  let value = inner;
  for (let i = 0; i < depth; i++) value = kind === 'array' ? [value] : { data: value };
  return value;
}

/** The JSON text of the same, built as text (JSON.stringify itself overflows on it). */
export function nestedText(depth: number, kind: 'array' | 'object', inner = 'null'): string {
  return kind === 'array' ? `${'['.repeat(depth)}${inner}${']'.repeat(depth)}` : `${'{"data":'.repeat(depth)}${inner}${'}'.repeat(depth)}`;
}

/** Text that looks like base64 and is not, or is base64 of something that is not a JSON object. */
export const base64Garbage: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9+/=]{0,40}$/),
  fc.stringMatching(/^[A-Za-z0-9+/]{1,40}={0,3}$/),
  hostileString.map((s) => Buffer.from(s).toString('base64')),
  hostileValue.map((v) => Buffer.from(jsonText(v)).toString('base64')),
  fc.constantFrom('====', '=', 'A', 'AA==AA==', ' Zm9v \n YmFy ', '\u0000', Buffer.from(nestedText(5_000, 'array')).toString('base64')),
  fc.tuple(fc.constantFrom('eyJ', 'W1', 'e30'), fc.integer({ min: 1, max: 20_000 })).map(([p, n]) => repeatTo(p, n * 4)),
);

/** JSON text of a value, or a stand-in when it has none (JSON.stringify overflows on deep nesting). */
export function jsonText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'undefined';
  } catch {
    return nestedText(5_000, 'array');
  }
}

type Json = Record<string, unknown> | unknown[];

function children(node: unknown): (string | number)[] {
  if (Array.isArray(node)) return node.map((_, i) => i);
  if (node !== null && typeof node === 'object') return Object.keys(node);
  return [];
}

/** The value with the node at `path` (child picks, taken modulo the number of children) replaced by `change(node)`; `undefined` removes it. */
function changeAt(root: unknown, path: readonly number[], change: (node: unknown) => unknown): unknown {
  const step = (node: unknown, depth: number): unknown => {
    const keys = children(node);
    if (depth >= path.length || keys.length === 0) return change(node);
    const pick = keys[path[depth]! % keys.length]!;
    const copy = (Array.isArray(node) ? [...node] : objectOf(Object.entries(node as Record<string, unknown>))) as Json;
    const next = step((copy as Record<string | number, unknown>)[pick], depth + 1);
    if (next === undefined) {
      if (Array.isArray(copy)) copy.splice(pick as number, 1);
      else delete (copy as Record<string, unknown>)[pick as string];
    } else {
      (copy as Record<string | number, unknown>)[pick] = next;
    }
    return copy;
  };
  return step(root, 0);
}

type Mutation = (value: unknown) => unknown;

const path = fc.array(fc.nat(), { maxLength: 6 });
const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(path, hostileValue).map(([p, v]): Mutation => (root) => changeAt(root, p, () => v)),
  path.map((p): Mutation => (root) => changeAt(root, p, () => undefined)),
  path.map((p): Mutation => (root) => changeAt(root, p, (node) => [node])),
  path.map((p): Mutation => (root) => changeAt(root, p, (node) => jsonText(node))),
  fc.tuple(path, hugeString).map(([p, s]): Mutation => (root) => changeAt(root, p, () => s)),
  fc.tuple(path, fc.constantFrom('array', 'object') as fc.Arbitrary<'array' | 'object'>).map(([p, kind]): Mutation => (root) => changeAt(root, p, (node) => nested(5_000, kind, node))),
  // Prototype keys where an object was: as own keys, the way JSON.parse makes them.
  path.map((p): Mutation => (root) =>
    changeAt(root, p, (node) =>
      node !== null && typeof node === 'object' && !Array.isArray(node)
        ? objectOf([...Object.entries(node), ['__proto__', { polluted: 'yes' }], ['constructor', { prototype: { polluted: 'yes' } }]])
        : JSON.parse('{"__proto__":{"polluted":"yes"},"prototype":{"polluted":"yes"}}'),
    ),
  ),
  fc.tuple(path, base64Garbage).map(([p, b]): Mutation => (root) => changeAt(root, p, () => b)),
);

/** A seed after one to four mutations. */
export function mutated(seeds: readonly unknown[]): fc.Arbitrary<unknown> {
  return fc.tuple(fc.constantFrom(...seeds), fc.array(mutation, { minLength: 1, maxLength: 4 })).map(([seed, changes]) => changes.reduce((value, change) => change(value), seed));
}

/** Text after one to three edits: truncated, a range cut out or doubled, a hostile piece put in, NUL, base64 of it all. */
export function mutatedText(texts: readonly string[]): fc.Arbitrary<string> {
  const edit: fc.Arbitrary<(t: string) => string> = fc.oneof(
    fc.double({ min: 0, max: 1, noNaN: true }).map((at) => (t: string) => t.slice(0, Math.floor(t.length * at))),
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 40 })).map(([at, n]) => (t: string) => {
      const i = Math.floor(t.length * at);
      return t.slice(0, i) + t.slice(i + n);
    }),
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), hostileString).map(([at, s]) => (t: string) => {
      const i = Math.floor(t.length * at);
      return t.slice(0, i) + s + t.slice(i);
    }),
    fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 200 })).map(([at, n]) => (t: string) => {
      const i = Math.floor(t.length * at);
      return t.slice(0, i) + t.slice(i, i + n).repeat(2) + t.slice(i + n);
    }),
    fc.constant((t: string) => t.replace(/"/g, '\u0000')),
    fc.constant((t: string) => Buffer.from(t).toString('base64')),
  );
  return fc.tuple(fc.constantFrom(...texts), fc.array(edit, { minLength: 1, maxLength: 3 })).map(([text, edits]) => edits.reduce((t, e) => e(t), text));
}

/** `count` (1,000 to 10,000) copies of a few values, as one array. */
export function longArray(items: fc.Arbitrary<unknown>): fc.Arbitrary<unknown[]> {
  return fc.tuple(fc.array(items, { minLength: 1, maxLength: 4 }), fc.integer({ min: 1_000, max: 10_000 })).map(([pool, count]) => Array.from({ length: count }, (_, i) => pool[i % pool.length]));
}
