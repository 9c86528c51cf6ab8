/**
 * `npm run bench`: runs every bench/*.bench.ts in name order, each in its own `npx tsx` process (so one
 * bench's warm JIT, heap or open handles cannot colour the next), and fails when any of them fails.
 * Arguments filter by name: `npm run bench -- image-parse polling`.
 */
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { writeBenchBlock } from './summary';

const BENCH_DIR = __dirname;
const ROOT = path.resolve(BENCH_DIR, '..');

export function listBenches(filters: readonly string[] = []): string[] {
  return readdirSync(BENCH_DIR)
    .filter((file) => file.endsWith('.bench.ts'))
    .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
    .sort();
}

function runOne(file: string): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn('npx', ['tsx', path.join('bench', file)], { cwd: ROOT, stdio: 'inherit' });
    child.on('error', (error) => {
      console.error(`${file}: could not start (${error.message})`);
      resolve(1);
    });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

async function main(filters: readonly string[]): Promise<number> {
  const benches = listBenches(filters);
  if (benches.length === 0) {
    console.error(`no bench/*.bench.ts matches ${filters.join(', ') || '(any)'}`);
    return 1;
  }
  const summary: { bench: string; exit: number; seconds: number }[] = [];
  for (const file of benches) {
    console.log(`\n=== ${file}`);
    const start = performance.now();
    const exit = await runOne(file);
    summary.push({ bench: file, exit, seconds: Number(((performance.now() - start) / 1000).toFixed(1)) });
  }
  console.log('\n=== summary (results in bench/results/)');
  console.table(summary);
  const failed = summary.filter((s) => s.exit !== 0);
  if (failed.length > 0) {
    console.error(`failed: ${failed.map((s) => s.bench).join(', ')}`);
    return 1;
  }
  // The README quotes the results: refresh its benchmark section from what was just measured.
  writeBenchBlock();
  console.log('README.md benchmark section updated from bench/results/');
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
