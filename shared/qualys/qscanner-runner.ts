import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseScanResult, type ScanResult } from '../scan-result';
import { countBySeverity } from '../severity';
import type { QScannerOutcome, QScannerRunOptions } from './contracts';
import { QUALYS_GATEWAYS } from './gateway';
import { parseQScannerSarif, parseQScannerScanResultMeta, QScannerReportError, type QScannerMeta, type SarifFindings } from './qscanner-report';

/** Thrown before spawning when the options cannot produce a valid command line. */
export class QScannerOptionsError extends Error {
  override readonly name = 'QScannerOptionsError';
  constructor(readonly option: string, reason: string) {
    super(`invalid QScanner option ${option}: ${reason}`);
  }
}

const NOT_READY_RETRY_SEC = 60;
const KILL_GRACE_MS = 2000;
const STDERR_TAIL_LINES = 20;
/** Longest stderr tail an outcome carries. */
export const STDERR_TAIL_CHARS = 4000;
/** How much of the child's stderr is kept while it runs (the tail is cut from this). */
export const STDERR_BUFFER_CHARS = STDERR_TAIL_CHARS * 4;
/** Parent env keys never handed to the child: stale Qualys/QScanner values must not override ours. */
const DROPPED_ENV = /^(QUALYS_|QSCANNER_)/;

function commandLine(options: QScannerRunOptions, outputDir: string): string[] {
  const { target } = options;
  const args: string[] = [];
  if (target.kind === 'lambda') {
    if (!/^arn:aws[a-z-]*:lambda:/.test(target.arn)) throw new QScannerOptionsError('target.arn', `expected a Lambda function ARN, got ${JSON.stringify(target.arn)}`);
    args.push('lambda', target.arn);
  } else if (target.kind === 'repo') {
    // A directory the caller made (an extracted artifact): absolute, so the child's working directory cannot change it.
    if (!path.isAbsolute(target.path) || /[\r\n\0]/.test(target.path)) throw new QScannerOptionsError('target.path', `expected an absolute directory path, got ${JSON.stringify(target.path)}`);
    args.push('repo', target.path);
  } else {
    if (!target.ref || /\s/.test(target.ref)) throw new QScannerOptionsError('target.ref', `expected an image reference, got ${JSON.stringify(target.ref)}`);
    args.push('image', target.ref);
  }
  const policy = options.policyTags && options.policyTags.length > 0;
  args.push('--mode', policy ? 'evaluate-policy' : 'get-report');
  if (policy) args.push('--policy-tags', options.policyTags!.join(','));
  args.push('--scan-types', (options.scanTypes ?? ['pkg', 'secret']).join(','));
  args.push('--format', 'json', '--report-format', 'sarif,json');
  args.push('--output-dir', outputDir, '--cache-dir', options.cacheDir);
  if (options.gateway) {
    const pod = podOfGateway(options.gateway);
    if (pod) args.push('--pod', pod);
    // A private platform. qualys.md confirms only `--pod` ("or a gateway URL option"), so this flag name
    // is an assumption: it must match the QScanner release in the layer (check `qscanner --help`).
    else args.push('--gateway-url', options.gateway);
  } else if (options.pod) args.push('--pod', options.pod);
  else throw new QScannerOptionsError('pod', 'one of pod or gateway is required');
  return args;
}

/** The POD whose platform gateway this URL is (letter case and a trailing slash aside), if any. */
function podOfGateway(gateway: string): string | undefined {
  let url: URL;
  try {
    url = new URL(gateway);
  } catch {
    return undefined;
  }
  if (url.protocol !== 'https:' || url.port !== '' || url.pathname.replace(/\/+$/, '') !== '' || url.search || url.username) return undefined;
  for (const [pod, known] of Object.entries(QUALYS_GATEWAYS)) if (new URL(known).host === url.host) return pod;
  return undefined;
}

function childEnv(options: QScannerRunOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!DROPPED_ENV.test(key)) env[key] = value;
  Object.assign(env, options.extraEnv ?? {});
  env.QUALYS_ACCESS_TOKEN = options.accessToken;
  return env;
}

/** extraEnv entries whose values are credentials (AWS keys, session tokens, registry passwords). */
const SECRET_ENV_NAME = /SECRET|TOKEN|PASSWORD|ACCESS_KEY/i;
/**
 * Credentials the child gets from this process's own env (the Lambda role's keys): the AWS SDK in the
 * scanner may echo them at debug level just like the ones handed over in extraEnv.
 */
const INHERITED_SECRET_ENV = ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_SECURITY_TOKEN'];
const REDACTED = '[REDACTED]';

/** Every secret the child holds (the token, extraEnv credentials, inherited AWS keys), longest first. */
function secretsOf(options: QScannerRunOptions, env: NodeJS.ProcessEnv): string[] {
  const values = [
    options.accessToken,
    ...Object.entries(options.extraEnv ?? {}).filter(([name]) => SECRET_ENV_NAME.test(name)).map(([, value]) => value),
    ...INHERITED_SECRET_ENV.map((name) => env[name]),
  ];
  // Very short values would redact ordinary words; longest first so a secret containing another goes whole.
  const usable = values.filter((v): v is string => typeof v === 'string' && v.length >= 4);
  return [...new Set(usable)].sort((a, b) => b.length - a.length);
}

function tail(text: string): string {
  return text.split(/\r?\n/).filter((l) => l.trim() !== '').slice(-STDERR_TAIL_LINES).join('\n').slice(-STDERR_TAIL_CHARS);
}

/**
 * The last part of a child's stderr with the secrets removed. Text is redacted as it arrives, before
 * anything is cut, so a cut can only split the marker. Every character inside any occurrence of any
 * secret is redacted, overlapping occurrences included (a greedy left-to-right match would let a
 * longer secret swallow the start of the next one and show its tail). The end of what arrived so far
 * is held back while it could still be the start of a secret completed by the next chunk, and the
 * part of a secret that reaches into what is held back stays marked as covered, so a secret split
 * across chunks is redacted whole.
 */
export class StderrTail {
  /** Redacted text, at most bufferChars. */
  private settled = '';
  /** Raw text that is a proper prefix of some secret: not yet decided. */
  private pending = '';
  /** How many leading characters of `pending` an occurrence already seen covers. */
  private pendingCovered = 0;
  /** The settled text ends inside a redacted run, so a run continuing into the next chunk adds no second marker. */
  private endsRedacted = false;
  private readonly longest: number;

  constructor(
    private readonly secrets: readonly string[],
    private readonly bufferChars = STDERR_BUFFER_CHARS,
  ) {
    this.longest = Math.max(0, ...secrets.map((x) => x.length));
  }

  /** Whether text from i on is the first part of some secret (so the next chunk may complete it). */
  private couldStartSecret(text: string, i: number): boolean {
    if (text.length - i >= this.longest) return false;
    const rest = text.slice(i);
    return this.secrets.some((x) => x.length > rest.length && x.startsWith(rest));
  }

  append(chunk: string): void {
    const text = this.pending + chunk;
    // Coverage as a list of end positions per start keeps the work linear in the text for a few secrets.
    const covered = new Uint8Array(text.length);
    covered.fill(1, 0, Math.min(this.pendingCovered, text.length));
    for (const secret of this.secrets) {
      if (secret.length === 0) continue;
      for (let at = text.indexOf(secret); at !== -1; at = text.indexOf(secret, at + 1)) covered.fill(1, at, at + secret.length);
    }
    let cut = text.length;
    for (let i = Math.max(0, text.length - this.longest + 1); i < text.length; i++) {
      if (this.couldStartSecret(text, i)) {
        cut = i;
        break;
      }
    }
    let out = '';
    let inRun = this.endsRedacted;
    for (let i = 0; i < cut; i++) {
      if (covered[i]) {
        if (!inRun) out += REDACTED;
        inRun = true;
      } else {
        out += text[i];
        inRun = false;
      }
    }
    if (cut > 0) this.endsRedacted = inRun;
    let carried = 0;
    while (cut + carried < text.length && covered[cut + carried]) carried += 1;
    this.pending = text.slice(cut);
    this.pendingCovered = carried;
    this.settled = (this.settled + out).slice(-this.bufferChars);
  }

  /** The last non-empty lines, at most STDERR_TAIL_CHARS. */
  text(): string {
    return tail(this.settled + this.held());
  }

  /** The stream is over: what is held back is a secret's first part the child printed and no more. */
  private held(): string {
    if (this.pending === '') return '';
    // It continues a redacted run: the marker is already there.
    if (this.pendingCovered > 0) return this.endsRedacted ? '' : REDACTED;
    return this.pending.length >= 4 ? REDACTED : this.pending;
  }
}

interface ChildExit {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** Already redacted. */
  stderrTail: string;
  spawnError?: Error;
}

function killTree(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    // The child leads its own process group (detached), so -pid reaches every descendant.
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function runChild(binaryPath: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number, stderr: StderrTail): Promise<ChildExit> {
  return new Promise((resolve) => {
    let timedOut = false;
    let settled = false;
    const child = spawn(binaryPath, args, { env, detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => stderr.append(chunk));
    const timer = setTimeout(() => {
      timedOut = true;
      killTree(child.pid, 'SIGTERM');
      setTimeout(() => killTree(child.pid, 'SIGKILL'), KILL_GRACE_MS).unref();
    }, timeoutMs);
    const finish = (exit: ChildExit): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // Descendants may outlive a child that exited on its own or was killed: reap the group.
      killTree(child.pid, 'SIGKILL');
      resolve(exit);
    };
    child.on('error', (err) => finish({ exitCode: null, signal: null, timedOut, stderrTail: stderr.text(), spawnError: err }));
    child.on('close', (code, signal) => finish({ exitCode: code, signal, timedOut, stderrTail: stderr.text() }));
  });
}

interface Reports {
  findings: SarifFindings;
  meta: QScannerMeta;
}

async function readReports(outputDir: string): Promise<Reports | undefined> {
  let files: string[];
  try {
    files = await readdir(outputDir);
  } catch {
    return undefined;
  }
  const sarifFile = files.find((f) => f.endsWith('-Report.sarif.json'));
  if (!sarifFile) return undefined;
  const findings = parseQScannerSarif(await readFile(path.join(outputDir, sarifFile), 'utf8'), sarifFile);
  const metaFile = files.find((f) => f.endsWith('-ScanResult.json'));
  const meta = metaFile ? parseQScannerScanResultMeta(await readFile(path.join(outputDir, metaFile), 'utf8'), metaFile) : {};
  return { findings, meta };
}

function buildResult(options: QScannerRunOptions, reports: Reports, status: ScanResult['status'], startedAt: Date, verdict?: 'DENY' | 'AUDIT'): ScanResult {
  const { findings, meta } = reports;
  const version = meta.scannerVersion ?? findings.toolVersion;
  const raw: Record<string, unknown> = {};
  if (meta.imageId) raw.imageId = meta.imageId;
  if (meta.codeSha256) raw.codeSha256 = meta.codeSha256;
  if (meta.os) raw.os = meta.os;
  if (meta.artifactType) raw.artifactType = meta.artifactType;
  return parseScanResult({
    schemaVersion: 1,
    scanId: options.scanId,
    status,
    target: options.resultTarget,
    engine: { name: 'qscanner', ...(version ? { version } : {}) },
    startedAt: startedAt.toISOString(),
    completedAt: new Date().toISOString(),
    counts: countBySeverity(findings.vulnerabilities),
    vulnerabilities: findings.vulnerabilities,
    secrets: {
      count: findings.secrets.length,
      findings: findings.secrets.map((s) => ({ id: s.id, title: s.title, ...(s.severity ? { severity: s.severity } : {}), ...(s.location ? { location: s.location } : {}) })),
    },
    ...(verdict ? { policy: { verdict } } : {}),
    ...(status === 'PARTIAL' ? { error: { code: 'QSCANNER_OS_NOT_FOUND', message: 'OS packages not found (exit 15); application (SCA) results only', retryable: false } } : {}),
    ...(Object.keys(raw).length > 0 ? { raw } : {}),
  });
}

/**
 * Runs QScanner once in a fresh output directory (always removed afterwards) and maps its exit code
 * to an outcome: 0 ok, 42/43 policy verdicts with results, 15 partial when SCA results exist,
 * 40/41 not-ready (retry later), anything else (including a timeout, which kills the process tree)
 * failed with the last lines of stderr, redacted of every credential the child holds. The token
 * reaches the child only as env QUALYS_ACCESS_TOKEN. A gateway URL of a known POD is passed as
 * `--pod <POD>`; only a custom gateway is passed as a URL.
 */
export async function runQScanner(options: QScannerRunOptions): Promise<QScannerOutcome> {
  if (!options.accessToken) throw new QScannerOptionsError('accessToken', 'a non-empty Qualys access token is required');
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new QScannerOptionsError('timeoutMs', `expected a positive number, got ${options.timeoutMs}`);
  if (!options.binaryPath) throw new QScannerOptionsError('binaryPath', 'the path of the qscanner binary is required');
  const outputDir = await mkdtemp(path.join(options.tmpRoot ?? os.tmpdir(), 'qscanner-'));
  const startedAt = new Date();
  try {
    const args = commandLine(options, outputDir);
    const env = childEnv(options);
    const exit = await runChild(options.binaryPath, args, env, options.timeoutMs, new StderrTail(secretsOf(options, env)));
    const { stderrTail } = exit;
    const failed = (reason: string): QScannerOutcome => ({ kind: 'failed', exitCode: exit.exitCode, timedOut: exit.timedOut, reason, stderrTail });
    if (exit.spawnError) return failed(`could not start ${options.binaryPath}: ${exit.spawnError.message}`);
    if (exit.timedOut) return failed(`timed out after ${options.timeoutMs} ms; process tree killed`);
    if (exit.exitCode === null) return failed(`killed by signal ${exit.signal ?? 'unknown'}`);
    const code = exit.exitCode;
    if (code === 40 || code === 41) return { kind: 'not-ready', exitCode: code, retryAfterSec: NOT_READY_RETRY_SEC };
    if (code !== 0 && code !== 15 && code !== 42 && code !== 43) return failed(`qscanner exited with code ${code}`);
    let reports: Reports | undefined;
    try {
      reports = await readReports(outputDir);
    } catch (err) {
      if (err instanceof QScannerReportError) return failed(`exit ${code} but ${err.message}`);
      throw err;
    }
    if (!reports) return failed(code === 15 ? 'OS not found (exit 15) and no SCA results were written' : `exit ${code} but no SARIF report was written`);
    if (code === 0) return { kind: 'ok', exitCode: 0, result: buildResult(options, reports, 'COMPLETED', startedAt) };
    if (code === 15) return { kind: 'partial', exitCode: 15, result: buildResult(options, reports, 'PARTIAL', startedAt) };
    const verdict = code === 42 ? 'DENY' : 'AUDIT';
    return { kind: 'policy', exitCode: code, verdict, result: buildResult(options, reports, 'COMPLETED', startedAt, verdict) };
  } finally {
    await rm(outputDir, { recursive: true, force: true });
  }
}
