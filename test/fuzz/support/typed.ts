import { expect } from 'chai';
import fc from 'fast-check';

/**
 * What a fuzzed entry point may do with bad input: return its own outcome, or throw one of the
 * project's typed errors naming what was wrong. A TypeError, a RangeError (stack overflow) or any
 * other error is a defect: it would retry a message that can never succeed, or crash a handler.
 */

// Error classes have constructors with different parameters; only `instanceof` is used on them.
type ErrorClass = abstract new (...args: never[]) => Error;

/** Fails unless `error` is an instance of one of `allowed`, with a message. */
export function expectTypedError(error: unknown, allowed: readonly ErrorClass[], input: unknown): void {
  const ok = allowed.some((type) => error instanceof type);
  if (!ok) {
    const e = error as Error;
    expect.fail(`untyped ${e?.name ?? typeof error}: ${String(e?.message ?? error).slice(0, 300)}\n  for input ${describe(input)}\n${e?.stack?.split('\n').slice(1, 6).join('\n') ?? ''}`);
  }
  expect((error as Error).message, 'a typed error says what was wrong').to.be.a('string').that.is.not.empty;
}

/** Runs `run`; a throw must be one of `allowed`. Returns the result, or undefined after a typed error. */
export function typedOutcome<T>(run: () => T, allowed: readonly ErrorClass[], input: unknown): T | undefined {
  try {
    return run();
  } catch (error) {
    expectTypedError(error, allowed, input);
    return undefined;
  }
}

export async function typedOutcomeAsync<T>(run: () => Promise<T>, allowed: readonly ErrorClass[], input: unknown): Promise<T | undefined> {
  try {
    return await run();
  } catch (error) {
    expectTypedError(error, allowed, input);
    return undefined;
  }
}

/** A short, safe description of a fuzzed input for a failure message (JSON.stringify overflows on deep ones). */
export function describe(input: unknown): string {
  let text: string;
  try {
    text = typeof input === 'string' ? JSON.stringify(input) : (JSON.stringify(input) ?? String(input));
  } catch {
    text = `[${Array.isArray(input) ? 'array' : typeof input} too deep to print]`;
  }
  return text.length > 400 ? `${text.slice(0, 400)}... (${text.length} characters)` : text;
}

const PROTOTYPES: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Error.prototype', Error.prototype],
];

/** The own property names of the built-in prototypes, to compare after fuzzing. */
export function prototypeSnapshot(): Map<string, string[]> {
  return new Map(PROTOTYPES.map(([name, proto]) => [name, Reflect.ownKeys(proto).map(String).sort()]));
}

/** Fails when any built-in prototype gained or lost a property, or a fresh object reads one it should not have. */
export function expectNoPollution(before: Map<string, string[]>): void {
  for (const [name, proto] of PROTOTYPES) {
    expect(Reflect.ownKeys(proto).map(String).sort(), `${name} was changed`).to.deep.equal(before.get(name));
  }
  const fresh: Record<string, unknown> = {};
  expect(fresh.polluted, 'a fresh object reads a polluted property').to.equal(undefined);
  expect(Object.getPrototypeOf(fresh)).to.equal(Object.prototype);
}

/**
 * fc.assert with a short report: the failure, the seed and path that replay it, and the start of the
 * input (fast-check would print all of a 70,000-character counterexample).
 */
export async function expectProperty<Ts>(property: fc.IRawProperty<Ts>, params: fc.Parameters<Ts>): Promise<void> {
  const out = await fc.check(property, params);
  if (!out.failed) return;
  const error = out.errorInstance as Error | undefined;
  expect.fail(
    `failed after ${out.numRuns} runs (replay: seed ${out.seed}, path "${out.counterexamplePath}"): ${String(error?.message ?? error).slice(0, 1500)}\n  input: ${describe(out.counterexample)}\n${error?.stack?.split('\n').slice(1, 8).join('\n') ?? ''}`,
  );
}
