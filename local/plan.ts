/**
 * Offline plan: runs the Pulumi program (`index.ts`) under the Pulumi mocks runtime, without the
 * Pulumi CLI, cloud credentials or network, and lists every resource it declares.
 *
 * CLI: `npm run plan -- --stack <name> [--out plan.json] [--bundle-dir <dir>]` reads
 * `Pulumi.<name>.yaml` (`secure:` values become masked placeholders), writes
 * `{ stack, resources: [{ type, name, parent, inputs }], outputs }` and prints a count per type.
 *
 * Programmatic API (infra tests of both clouds):
 * ```ts
 * import { runPlan } from '../../local/plan';
 * const resources = await runPlan({
 *   config: {
 *     'aws:region': 'us-east-1',
 *     'shipscan:aws': { enabled: true, mode: 'standalone', qscannerLayerArn: '...' },
 *     'shipscan:qualys': { pod: 'US2', accessToken: { secret: 'token-under-test' } },
 *   },
 *   env: { SHIPSCAN_BUNDLE_DIR: dirWithPlaceholderBundles },
 * });
 * ```
 * - `config`: Pulumi config keys (`<namespace>:<name>`) to values; objects are passed as JSON text
 *   like `pulumi config set --path` does. A leaf `{ secret: 'plaintext' }` is a secret with that
 *   value; `{ secure: '...' }` (as in the stack file) is a secret with a placeholder value.
 * - Each plan runs in a CHILD PROCESS (`node --import tsx`): Pulumi's runtime state is global,
 *   so every plan gets a fresh runtime and module cache. Expect ~2-4 s per plan; share plans
 *   between the tests of a file (compute them in `before`).
 * - Resources come back in registration order as {@link PlannedResource}: inputs are plain JSON,
 *   secret Outputs are "[secret]" (the value is never read), archives are `{ "@archive": path }`.
 * - The mocks return provider-like outputs (ids, ARNs `arn:aws:<service>:<region>:123456789012:...`,
 *   names, queue URLs, ARM ids under subscription 00000000-..., identity principal ids) and answer
 *   `getCallerIdentity`, `getRegion`, `getPartition` and azure-native `getClientConfig` and `getClientToken`; any other
 *   provider call fails the plan with its token (add it to `local/plan/mocks.ts`).
 * - `runPlanDetailed` also returns the stack outputs (secrets masked) and the program's warnings.
 * - Fails with {@link PlanError} when the program throws (message included, e.g. a config error),
 *   when it does not finish within `timeoutMs`, or when a secret config value appears anywhere
 *   unmasked (resource inputs or stack outputs): the error names the place, never the value.
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { readStackFile, toProgramConfig, PlanConfigError } from './plan/config';
import type { PlannedResource, WorkerReply, WorkerRequest } from './plan/protocol';
import { stringLeaves, type PlanValue } from './plan/serialize';

export type { PlannedResource } from './plan/protocol';
export { SECRET_MASK, UNKNOWN_MARK, type PlanValue } from './plan/serialize';
export { PLAN_ACCOUNT_ID, PLAN_SUBSCRIPTION_ID, PLAN_TENANT_ID } from './plan/mocks';
export { PlanConfigError } from './plan/config';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
export const PROJECT_NAME = 'shipscan';

export interface PlanOptions {
  /** Pulumi config (`'shipscan:aws': {...}`, `'aws:region': 'us-east-1'`); see the module comment for secrets. */
  config: Record<string, unknown>;
  /** Stack name (default `test`). */
  stack?: string;
  /** Program entry (default `<project>/index.ts`). */
  program?: string;
  /** Extra environment for the child process, e.g. `SHIPSCAN_BUNDLE_DIR`. */
  env?: Record<string, string>;
  /** Give up after this long (default 120 000 ms). */
  timeoutMs?: number;
}

export interface PlanResult {
  stack: string;
  resources: PlannedResource[];
  /** Stack outputs (the program's exports), secrets masked. */
  outputs: Record<string, PlanValue>;
  /** Warnings the program logged (`pulumi.log.warn` and the like), one per line. */
  warnings: string[];
}

export class PlanError extends Error {
  override readonly name = 'PlanError';
}

const OUTPUT_TAIL = 4000;

function tail(text: string): string {
  return text.length > OUTPUT_TAIL ? `...${text.slice(-OUTPUT_TAIL)}` : text;
}

function findLeaks(result: PlanResult, secrets: { path: string; value: string }[]): string[] {
  const watched = secrets.filter((s) => s.value.length >= 4);
  if (watched.length === 0) return [];
  const leaks: string[] = [];
  const scan = (where: string, value: PlanValue) => {
    for (const leaf of stringLeaves(value)) {
      for (const secret of watched) {
        if (leaf.value.includes(secret.value)) leaks.push(`secret config ${secret.path} appears unmasked in ${where}${leaf.path}`);
      }
    }
  };
  for (const resource of result.resources) scan(`${resource.type} "${resource.name}" inputs`, resource.inputs as PlanValue);
  scan('stack outputs', result.outputs);
  scan('program warnings', result.warnings);
  return leaks;
}

/** Runs the program under mocks in a child process; resources, stack outputs and the stack name. */
export async function runPlanDetailed(options: PlanOptions): Promise<PlanResult> {
  const stack = options.stack ?? 'test';
  const program = options.program ?? path.join(PROJECT_ROOT, 'index.ts');
  const { config, secretKeys, secretValues } = toProgramConfig(options.config);
  const region = config['aws:region'] ?? 'us-east-1';
  const location = config['azure-native:location'] ?? 'westeurope';
  const request: WorkerRequest = {
    kind: 'plan',
    program,
    project: PROJECT_NAME,
    stack,
    config,
    secretKeys,
    awsRegion: region,
    azureLocation: location,
  };
  const timeoutMs = options.timeoutMs ?? 120_000;
  const child = fork(path.join(__dirname, 'plan', 'worker.ts'), [], {
    cwd: PROJECT_ROOT,
    execArgv: ['--import', 'tsx'],
    // The config (secrets included) travels over IPC, never in argv or the environment.
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
  });
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output = tail(output + chunk.toString('utf8'))));
  child.stderr?.on('data', (chunk: Buffer) => (output = tail(output + chunk.toString('utf8'))));

  const reply = await new Promise<WorkerReply>((resolve, reject) => {
    let settled = false;
    const finish = (action: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      action();
    };
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(() =>
        reject(
          new PlanError(
            `plan of stack "${stack}" did not finish within ${timeoutMs} ms: an Output the mocks never resolve or an unmocked provider call\n${output}`,
          ),
        ),
      );
    }, timeoutMs);
    child.on('message', (message: WorkerReply) => finish(() => resolve(message)));
    child.on('error', (error) => finish(() => reject(new PlanError(`plan worker failed to start: ${error.message}`))));
    child.on('exit', (code, signal) =>
      // Give a message sent just before exit the chance to arrive first.
      setImmediate(() =>
        finish(() => reject(new PlanError(`plan worker exited (${signal ?? `code ${code}`}) without a result\n${output}`))),
      ),
    );
    child.send(request);
  });
  // The worker exits right after replying; its last output lines arrive with the close.
  await closed;
  if (reply.kind === 'error') throw new PlanError(`program failed under mocks (stack "${stack}"): ${reply.message}`);
  const warnings = output
    .split('\n')
    .filter((line) => line.startsWith('warning: '))
    .map((line) => line.replace(/^warning: (\[runtime\] )?/, ''));
  const result: PlanResult = { stack, resources: reply.resources, outputs: reply.outputs, warnings };
  const leaks = findLeaks(result, secretValues);
  if (leaks.length > 0) throw new PlanError(`secret leak:\n  ${leaks.join('\n  ')}`);
  return result;
}

/** Runs the program under mocks in a child process and returns every declared resource. */
export async function runPlan(options: PlanOptions): Promise<PlannedResource[]> {
  return (await runPlanDetailed(options)).resources;
}

/** Config from `Pulumi.<stack>.yaml` in the project root. */
export function stackFileConfig(stack: string, root = PROJECT_ROOT): Record<string, unknown> {
  return readStackFile(path.join(root, `Pulumi.${stack}.yaml`));
}

/** Resource counts by type, largest first, as a printable table. */
export function summaryTable(resources: readonly PlannedResource[]): string {
  const counts = new Map<string, number>();
  for (const r of resources) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
  const rows = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  const width = Math.max(4, ...rows.map(([type]) => type.length));
  const lines = [`${'type'.padEnd(width)}  count`, `${'-'.repeat(width)}  -----`];
  for (const [type, count] of rows) lines.push(`${type.padEnd(width)}  ${String(count).padStart(5)}`);
  lines.push(`${'total'.padEnd(width)}  ${String(resources.length).padStart(5)}`);
  return lines.join('\n');
}

interface CliArgs {
  stack: string;
  out?: string;
  bundleDir?: string;
}

function parseArgs(argv: readonly string[]): CliArgs {
  const usage = 'usage: npm run plan -- --stack <name> [--out plan.json] [--bundle-dir <dir>]';
  let stack: string | undefined;
  let out: string | undefined;
  let bundleDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (flag === '--help' || flag === '-h') {
      console.log(usage);
      process.exit(0);
    }
    if (flag !== '--stack' && flag !== '--out' && flag !== '--bundle-dir') throw new PlanConfigError(`unknown argument "${flag}"\n${usage}`);
    if (value === undefined || value.startsWith('--')) throw new PlanConfigError(`${flag} needs a value\n${usage}`);
    if (flag === '--stack') stack = value;
    else if (flag === '--out') out = value;
    else bundleDir = value;
    i++;
  }
  if (!stack) throw new PlanConfigError(`--stack is required\n${usage}`);
  if (!/^[\w.-]+$/.test(stack)) throw new PlanConfigError(`--stack "${stack}": expected a stack name of letters, digits, _ . -`);
  return { stack, ...(out ? { out } : {}), ...(bundleDir ? { bundleDir } : {}) };
}

/**
 * Stack files in the repository hold no secrets, and the plan could not decrypt them anyway: an
 * unset Qualys credential is planned as a masked placeholder, with a note, instead of failing.
 */
export function withPlaceholderCredentials(config: Record<string, unknown>): { config: Record<string, unknown>; notes: string[] } {
  const qualys = config['shipscan:qualys'];
  if (qualys === null || typeof qualys !== 'object' || Array.isArray(qualys)) return { config, notes: [] };
  const q = qualys as Record<string, unknown>;
  if (q['accessToken'] !== undefined || q['username'] !== undefined || q['password'] !== undefined) return { config, notes: [] };
  return {
    config: { ...config, 'shipscan:qualys': { ...q, accessToken: { secure: 'unset' } } },
    notes: ['shipscan:qualys.accessToken is not set in the stack file: planned with a masked placeholder (pulumi config set --secret --path qualys.accessToken <token>)'],
  };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const env: Record<string, string> = {};
  if (args.bundleDir) env['SHIPSCAN_BUNDLE_DIR'] = path.resolve(args.bundleDir);
  const { config, notes } = withPlaceholderCredentials(stackFileConfig(args.stack));
  for (const note of notes) console.log(`note: ${note}`);
  const result = await runPlanDetailed({ config, stack: args.stack, env });
  for (const warning of result.warnings) console.log(`warning: ${warning}`);
  const document = {
    stack: result.stack,
    resources: result.resources.map((r) => ({ type: r.type, name: r.name, ...(r.parent ? { parent: r.parent } : {}), inputs: r.inputs })),
    outputs: result.outputs,
  };
  if (args.out) {
    writeFileSync(args.out, `${JSON.stringify(document, null, 2)}\n`);
    console.log(`wrote ${result.resources.length} resources to ${args.out}`);
  }
  console.log(summaryTable(result.resources));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error instanceof PlanError || error instanceof PlanConfigError ? error.message : error);
    process.exit(1);
  });
}
