/**
 * `npm run bench`: runs every bench/*.bench.ts in name order, each in its own `npx tsx` process (so one
 * bench's warm JIT, heap or open handles cannot colour the next), and fails when any of them fails.
 * Arguments filter by name: `npm run bench -- image-parse polling`.
 * Results go to a scratch folder; only `--write` records them in bench/results/ (with the time each bench
 * took, run.json) and refreshes README.md's benchmark section from them.
 */
import { spawn } from 'node:child_process';
import { readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { RECORDED_RESULTS, RESULTS_DIR_ENV, SCRATCH_RESULTS } from './support/results';
import { writeBenchBlock } from './summary';

const BENCH_DIR = __dirname;
const ROOT = path.resolve(BENCH_DIR, '..');

export function listBenches(filters: readonly string[] = []): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();
}

export interface BenchArgs {
  write: boolean;
  filters: string[];
}

export function parseBenchArgs(argv: readonly string[]): BenchArgs {
  return { write: argv.includes('--write'), filters: argv.filter((arg) => arg !== '--write') };
}

function runOne(file: string, resultsDir: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', path.join('bench', file)], { cwd: ROOT, stdio: 'inherit', env: { ...process.env, [RESULTS_DIR_ENV]: resultsDir } });
    child.on('error', (error) => {
      console.error(`${file}: could not start (${error.message})`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(args: BenchArgs): Promise<number> {
  const benches = listBenches(args.filters);
  if (benches.length === 0) {
    console.error(`no bench/*.bench.ts matches ${args.filters.join(', ') || '(any)'}`);
    return 1;
  }
  const resultsDir = args.write ? RECORDED_RESULTS : SCRATCH_RESULTS;
  if (!args.write) rmSync(SCRATCH_RESULTS, { recursive: true, force: true });
  const summary: { bench: string; exit: number; seconds: number }[] = [];
  const started = performance.now();
  for (const file of benches) {
    console.log(`\n=== ${file}`);
    const start = performance.now();
    const exit = await runOne(file, resultsDir);
    summary.push({ bench: file, exit, seconds: Number(((performance.now() - start) / 1000).toFixed(1)) });
  }
  const totalSeconds = Number(((performance.now() - started) / 1000).toFixed(1));
  console.log(`\n=== summary (${totalSeconds} s; results in ${resultsDir})`);
  console.table(summary);
  const failed = summary.filter((s) => s.exit !== 0);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((s) => s.bench).join(', ')}`);
    return 1;
  }
  if (!args.write) {
    console.log('bench/results/ and README.md are unchanged; npm run bench -- --write records these results there');
    return 0;
  }
  if (args.filters.length === 0) {
    const machine = `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
    writeFileSync(path.join(RECORDED_RESULTS, 'run.json'), `${JSON.stringify({ date: new Date().toISOString().slice(0, 10), machine, totalSeconds, benches: summary.map(({ bench, seconds }) => ({ bench, seconds })) }, null, 2)}\n`);
  }
  // The README quotes the results: refresh its benchmark section from what was just measured.
  writeBenchBlock();
  console.log('bench/results/ and README.md benchmark section updated');
  return 0;
}

if (require.main === module) {
  main(parseBenchArgs(process.argv.slice(2))).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
