/**
 * Where a bench writes its results. `npm run bench` measures into a scratch folder and leaves the
 * checked-in bench/results/ (and README.md's section built from them) alone; `npm run bench -- --write`
 * records them there. The runner passes the choice to each bench process; a bench started on its own
 * writes to the scratch folder too.
 */
import { mkdirSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const RECORDED_RESULTS = path.resolve(__dirname, '..', 'results');
/** Set by bench/run.ts for its children: the folder results go to. */
export const RESULTS_DIR_ENV = 'SHIPSCAN_BENCH_RESULTS';

export const SCRATCH_RESULTS = path.join(os.tmpdir(), 'shipscan-bench-results');

export function resultsDir(env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(env[RESULTS_DIR_ENV] ?? SCRATCH_RESULTS);
}

/** The path of a result file, its folder created. */
export function resultsFile(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dir = resultsDir(env);
  mkdirSync(dir, { recursive: true });
  return path.join(dir, name);
}
