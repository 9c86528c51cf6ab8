/**
 * Image reference parser throughput: parses/second over all 174 inputs of the distribution/reference corpus
 * (valid and invalid, each in turn), in several timed rounds after a warm-up; plus the time for 10 kB
 * pathological inputs, and the same numbers for a baseline: Docker's grammar as ONE anchored regexp
 * (match only: no normalisation, no reasons).
 * Run: npx tsx bench/image-parse.bench.ts  -> image-parse.json (in bench/results/ only with npm run bench -- --write)
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { ImageReferenceError, parseImageReference } from '../shared/image-reference';
import { loadCorpus } from '../test/support/corpus';
import { resultsFile } from './support/results';

const ROUNDS = 7;
const ROUND_MS = 250;
const WARMUP_MS = 300;

interface CorpusCase {
  input: string;
  valid: boolean;
}

const cases = loadCorpus<CorpusCase[]>('reference/distribution-reference-cases.json');
const all = cases.map((c) => c.input);
const valid = cases.filter((c) => c.valid).map((c) => c.input);
const invalid = cases.filter((c) => !c.valid).map((c) => c.input);

function parse(input: string): boolean {
  try {
    parseImageReference(input);
    return true;
  } catch (error) {
    if (error instanceof ImageReferenceError) return false;
    throw error;
  }
}

/** Docker's grammar composed into one regexp, as a JavaScript port of distribution/reference would. */
const ALNUM = '[a-z0-9]+';
const PATH_COMPONENT = `${ALNUM}(?:(?:[._]|__|[-]+)${ALNUM})*`;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = `(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?`;
const ONE_REGEXP = new RegExp(
  `^((?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*)(?::([\\w][\\w.-]{0,127}))?` +
    `(?:@([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$`,
);
const baseline = (input: string): boolean => ONE_REGEXP.test(input);

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Parses the inputs in turn for `ms` milliseconds; returns parses/second and the number of parses. */
function round(fn: (input: string) => boolean, inputs: readonly string[], ms: number): { perSecond: number; ops: number } {
  let ops = 0;
  let sink = 0;
  const start = performance.now();
  let elapsed = 0;
  do {
    for (const input of inputs) if (fn(input)) sink += 1;
    ops += inputs.length;
    elapsed = performance.now() - start;
  } while (elapsed < ms);
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return { perSecond: (ops / elapsed) * 1000, ops };
}

function throughput(fn: (input: string) => boolean, inputs: readonly string[]) {
  round(fn, inputs, WARMUP_MS);
  const rounds = Array.from({ length: ROUNDS }, () => round(fn, inputs, ROUND_MS));
  const rates = rounds.map((r) => r.perSecond);
  return {
    inputs: inputs.length,
    rounds: ROUNDS,
    ops: rounds.reduce((total, r) => total + r.ops, 0),
    medianPerSecond: Math.round(median(rates)),
    minPerSecond: Math.round(Math.min(...rates)),
    maxPerSecond: Math.round(Math.max(...rates)),
  };
}

/** Microseconds per call, the median of ROUNDS batches of at least 50 ms. */
function microsPerCall(fn: (input: string) => boolean, input: string): number {
  let repetitions = 1;
  for (;;) {
    const start = performance.now();
    for (let i = 0; i < repetitions; i++) fn(input);
    if (performance.now() - start >= 50) break;
    repetitions *= 2;
  }
  const samples = Array.from({ length: ROUNDS }, () => {
    const start = performance.now();
    for (let i = 0; i < repetitions; i++) fn(input);
    return ((performance.now() - start) * 1000) / repetitions;
  });
  return median(samples);
}

const PATHOLOGICAL: Record<string, (n: number) => string> = {
  'run of "-" ending badly': (n) => `a${'-'.repeat(n - 2)}!`,
  'alternating a- ending badly': (n) => `${'a-'.repeat(n / 2)}!`,
  'many domain labels': (n) => `${'a.'.repeat(n / 2 - 2)}-/x`,
  'bracketed IPv6 of colons': (n) => `[${':'.repeat(n - 4)}]/x`,
  'many path components': (n) => `${'a/'.repeat(n / 2 - 1)}a:tag`,
  'long tag': (n) => `a:${'b'.repeat(n - 2)}`,
};

async function main(): Promise<void> {
  const parser = { all: throughput(parse, all), valid: throughput(parse, valid), invalid: throughput(parse, invalid) };
  const regexp = { all: throughput(baseline, all), valid: throughput(baseline, valid), invalid: throughput(baseline, invalid) };

  const pathological = Object.entries(PATHOLOGICAL).map(([name, build]) => {
    const small = build(500);
    const large = build(10_000);
    const parser500 = microsPerCall(parse, small);
    const parser10k = microsPerCall(parse, large);
    return {
      name,
      bytes: large.length,
      parserMicros: Number(parser10k.toFixed(2)),
      parserRatio10kTo500: Number((parser10k / parser500).toFixed(1)),
      oneRegexpMicros: Number(microsPerCall(baseline, large).toFixed(2)),
    };
  });

  const result = {
    bench: 'image-parse',
    node: process.version,
    date: new Date().toISOString(),
    corpus: { cases: cases.length, valid: valid.length, invalid: invalid.length },
    method: `${ROUNDS} rounds of >= ${ROUND_MS} ms over the corpus inputs in turn, after a ${WARMUP_MS} ms warm-up; median reported`,
    parser,
    baselineOneRegexp: regexp,
    pathological,
  };
  const out = resultsFile('image-parse.json');
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);

  const rate = (n: number) => `${(n / 1e6).toFixed(2)} M/s`;
  console.log(`image-parse (${cases.length} corpus inputs, median of ${ROUNDS} rounds)`);
  console.table({
    'parseImageReference, all': { 'parses/s': rate(parser.all.medianPerSecond), ops: parser.all.ops },
    'parseImageReference, valid': { 'parses/s': rate(parser.valid.medianPerSecond), ops: parser.valid.ops },
    'parseImageReference, invalid': { 'parses/s': rate(parser.invalid.medianPerSecond), ops: parser.invalid.ops },
    'one regexp (match only), all': { 'parses/s': rate(regexp.all.medianPerSecond), ops: regexp.all.ops },
  });
  console.table(
    Object.fromEntries(
      pathological.map((p) => [p.name, { 'parser µs (10 kB)': p.parserMicros, '10 kB / 500 B': p.parserRatio10kTo500, 'one regexp µs': p.oneRegexpMicros }]),
    ),
  );
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
