import { expect } from 'chai';
import { performance } from 'node:perf_hooks';

/**
 * How the cost of some work grows with its input, measured within one run: the time per call on an
 * input `factor` times larger, divided by the time per call on the small one. Linear work gives about
 * `factor`, quadratic work about `factor` squared. A ratio says nothing about the machine, so a loaded
 * CI runner does not fail it; noise only ever inflates a ratio, so the smallest of a few is kept.
 */

/** Milliseconds per call: the fastest of `rounds` rounds, each repeating the call for at least `minMs`. */
async function msPerCall(run: () => unknown, rounds = 3, minMs = 15): Promise<number> {
  let best = Infinity;
  for (let r = 0; r < rounds; r++) {
    let calls = 0;
    const start = performance.now();
    let elapsed = 0;
    do {
      await run();
      calls += 1;
      elapsed = performance.now() - start;
    } while (elapsed < minMs);
    best = Math.min(best, elapsed / calls);
  }
  return best;
}

export interface Growth {
  ratio: number;
  smallMs: number;
  largeMs: number;
}

export async function growth<T>(make: (size: number) => T, run: (input: T) => unknown, small: number, factor: number): Promise<Growth> {
  const a = make(small);
  const b = make(small * factor);
  // Warm-up: the first calls pay for compilation, not for the input.
  await run(a);
  await run(b);
  const smallMs = await msPerCall(() => run(a));
  const largeMs = await msPerCall(() => run(b));
  return { ratio: largeMs / smallMs, smallMs, largeMs };
}

/**
 * Asserts that `run` costs time in proportion to the size of its input: `factor` (default 10) times the
 * input may cost at most `slack` (default 4) times `factor` the time. Quadratic work costs `factor` times
 * that; the slack leaves room for what the engine does differently with larger values (another heap
 * space for long strings, dictionary-mode objects). Measured up to three times, keeping the best.
 */
export async function expectLinear<T>(what: string, make: (size: number) => T, run: (input: T) => unknown, options: { small: number; factor?: number; slack?: number }): Promise<Growth> {
  const factor = options.factor ?? 10;
  const bound = factor * (options.slack ?? 4);
  let best: Growth | undefined;
  for (let attempt = 0; attempt < 3 && (best === undefined || best.ratio >= bound); attempt++) {
    const g = await growth(make, run, options.small, factor);
    if (best === undefined || g.ratio < best.ratio) best = g;
  }
  expect(best!.ratio, `${what}: ${factor}x the input took ${best!.ratio.toFixed(1)}x the time (${best!.smallMs.toFixed(3)} ms -> ${best!.largeMs.toFixed(3)} ms)`).to.be.below(bound);
  return best!;
}
