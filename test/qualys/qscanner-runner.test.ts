import { expect } from 'chai';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseScanResult, type ScanTarget } from '../../shared/scan-result';
import { runQScanner, QScannerOptionsError, StderrTail, STDERR_BUFFER_CHARS, STDERR_TAIL_CHARS } from '../../shared/qualys/qscanner-runner';
import type { QScannerRunOptions } from '../../shared/qualys/contracts';
import { FAKE_QSCANNER_PATH, fakeQScannerExpectation } from '../../local/fake-qscanner';

const TOKEN = 'qat-test-token-7f3a9c21';

/** Pieces of `secret` a leak would show: every run of `size` characters of it. */
function fragments(secret: string, size = 6): string[] {
  const out: string[] = [];
  for (let i = 0; i + size <= secret.length; i++) out.push(secret.slice(i, i + size));
  return out;
}

function expectNoFragment(text: string, secret: string): void {
  for (const piece of fragments(secret)) expect(text, `fragment ${JSON.stringify(piece)}`).to.not.include(piece);
}

/** A killed process whose parent died may linger as a zombie until init reaps it: that is not running. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX]/.test(stat);
  } catch {
    return false;
  }
}

const imageTarget = (ref: string): ScanTarget => ({
  cloud: 'aws',
  kind: 'lambda-image',
  image: { registry: '123456789012.dkr.ecr.us-east-1.amazonaws.com', repository: 'app', tag: 'v1', reference: ref },
});

describe('QScanner runner against the fake qscanner (real child process)', function () {
  let tmpRoot: string;
  let cacheDir: string;
  let logFile: string;

  beforeEach(() => {
    tmpRoot = mkdtempSync(path.join(os.tmpdir(), 'runner-test-'));
    cacheDir = path.join(tmpRoot, 'cache');
    logFile = path.join(tmpRoot, 'invocations.log');
  });
  afterEach(() => rmSync(tmpRoot, { recursive: true, force: true }));

  const options = (ref: string, extra: Partial<QScannerRunOptions> = {}): QScannerRunOptions => ({
    binaryPath: FAKE_QSCANNER_PATH,
    target: { kind: 'image', ref },
    accessToken: TOKEN,
    pod: 'US2',
    timeoutMs: 20_000,
    cacheDir,
    tmpRoot,
    extraEnv: { FAKE_QSCANNER_LOG: logFile, QSCANNER_REGISTRY_USERNAME: 'reader' },
    resultTarget: imageTarget(ref),
    scanId: 'scan-1',
    ...extra,
  });

  const invocations = (): { argv: string[]; tokenSha256: string | null; envKeys: string[]; grandchildPid?: number }[] =>
    readFileSync(logFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

  const leftoverDirs = (): string[] => readdirSync(tmpRoot).filter((f) => f.startsWith('qscanner-'));

  it('exit 0: parses SARIF with every severity fallback into a valid ScanResult', async () => {
    const ref = 'myacr.azurecr.io/shop/vuln-api:1.4';
    const outcome = await runQScanner(options(ref));
    expect(outcome.kind).to.equal('ok');
    if (outcome.kind !== 'ok') return;
    const expected = fakeQScannerExpectation(ref);
    expect(outcome.result.counts).to.deep.equal(expected.counts);
    expect(outcome.result.counts).to.deep.equal({ critical: 2, high: 2, medium: 2, low: 1, informational: 1, total: 8 });
    expect(outcome.result.vulnerabilities.map((v) => v.id)).to.deep.equal(expected.qids);
    expect(outcome.result.secrets?.count).to.equal(1);
    const zlib = outcome.result.vulnerabilities.find((v) => v.id === '178266')!;
    expect(zlib.severity).to.equal('CRITICAL'); // from the rule's properties only
    const curl = outcome.result.vulnerabilities.find((v) => v.id === '178640')!;
    expect(curl.severity).to.equal('MEDIUM'); // from level "warning" only
    expect(curl).to.include({ package: 'libcurl4', installedVersion: '7.88.1-10+deb12u4', fixedVersion: '7.88.1-10+deb12u5' });
    expect(outcome.result.engine).to.deep.equal({ name: 'qscanner', version: '4.6.0-fake' });
    expect(parseScanResult(JSON.parse(JSON.stringify(outcome.result)))).to.deep.equal(outcome.result);
    expect(leftoverDirs()).to.deep.equal([]);
  });

  it('passes the token only through env and hands extra env to the child', async () => {
    await runQScanner(options('docker.io/library/nginx:clean'));
    const [call] = invocations();
    expect(call.argv.join(' ')).to.not.include(TOKEN);
    expect(call.argv).to.not.include('--access-token');
    expect(call.tokenSha256).to.equal(createHash('sha256').update(TOKEN).digest('hex'));
    expect(call.envKeys).to.include.members(['QUALYS_ACCESS_TOKEN', 'QSCANNER_REGISTRY_USERNAME']);
    expect(call.argv.slice(0, 2)).to.deep.equal(['image', 'docker.io/library/nginx:clean']);
    expect(call.argv).to.include.members(['--mode', 'get-report', '--scan-types', 'pkg,secret', '--format', 'json', '--report-format', 'sarif,json', '--pod', 'US2']);
    expect(call.argv[call.argv.indexOf('--cache-dir') + 1]).to.equal(cacheDir);
  });

  it('scans Lambda targets by ARN', async () => {
    const arn = 'arn:aws:lambda:us-east-1:123456789012:function:orders-clean';
    const outcome = await runQScanner(options('x', { target: { kind: 'lambda', arn } }));
    expect(outcome.kind).to.equal('ok');
    if (outcome.kind === 'ok') expect(outcome.result.counts.total).to.equal(0);
    expect(invocations()[0].argv.slice(0, 2)).to.deep.equal(['lambda', arn]);
  });

  for (const [ref, verdict, code] of [['app:deny', 'DENY', 42], ['app:audit', 'AUDIT', 43]] as const) {
    it(`exit ${code}: policy verdict ${verdict} with results`, async () => {
      const outcome = await runQScanner(options(ref, { policyTags: ['prod'] }));
      expect(outcome).to.include({ kind: 'policy', exitCode: code, verdict });
      if (outcome.kind !== 'policy') return;
      expect(outcome.result.policy).to.deep.equal({ verdict });
      expect(outcome.result.counts).to.deep.equal(fakeQScannerExpectation(ref).counts);
      expect(invocations()[0].argv).to.include.members(['--mode', 'evaluate-policy', '--policy-tags', 'prod']);
    });
  }

  it('exit 15 with SCA results: PARTIAL', async () => {
    const outcome = await runQScanner(options('gcr.io/distroless/static-distroless:nonroot'));
    expect(outcome.kind).to.equal('partial');
    if (outcome.kind !== 'partial') return;
    expect(outcome.result.status).to.equal('PARTIAL');
    expect(outcome.result.counts).to.deep.equal({ critical: 0, high: 1, medium: 1, low: 0, informational: 0, total: 2 });
    expect(outcome.result.error?.code).to.equal('QSCANNER_OS_NOT_FOUND');
  });

  it('exit 15 without results: failed', async () => {
    const outcome = await runQScanner(options('app:nosca'));
    expect(outcome).to.include({ kind: 'failed', exitCode: 15, timedOut: false });
  });

  for (const [ref, code] of [['app:notready', 40], ['app:policywait', 41]] as const) {
    it(`exit ${code}: not ready, retryable`, async () => {
      const outcome = await runQScanner(options(ref));
      expect(outcome).to.deep.equal({ kind: 'not-ready', exitCode: code, retryAfterSec: 60 });
      expect(leftoverDirs()).to.deep.equal([]);
    });
  }

  for (const [ref, code, text] of [['app:broken', 1, 'unexpected EOF'], ['app:uploadfail', 33, 'failed to upload']] as const) {
    it(`exit ${code}: failure with the code and the stderr tail`, async () => {
      const outcome = await runQScanner(options(ref));
      expect(outcome).to.include({ kind: 'failed', exitCode: code, timedOut: false });
      if (outcome.kind === 'failed') expect(outcome.stderrTail).to.include(text);
    });
  }

  it('never passes the token on, even when the scanner prints it', async () => {
    const outcome = await runQScanner(options('app:leaky'));
    expect(outcome).to.include({ kind: 'failed', exitCode: 1 });
    if (outcome.kind !== 'failed') return;
    expect(outcome.stderrTail).to.include('authentication failed').and.include('[REDACTED]');
    expect(JSON.stringify(outcome)).to.not.include(TOKEN);
  });

  it('never passes on the registry or AWS credentials it was given either, and keeps plain values readable', async () => {
    const password = 'ecr-registry-password-value';
    const outcome = await runQScanner(options('app:leaky', { extraEnv: { QSCANNER_REGISTRY_USERNAME: 'AWS', QSCANNER_REGISTRY_PASSWORD: password, AWS_REGION: 'eu-west-1' } }));
    if (outcome.kind !== 'failed') throw new Error(`expected a failed outcome, got ${outcome.kind}`);
    expect(outcome.stderrTail).to.include('password=[REDACTED]').and.include('region=eu-west-1');
    expect(JSON.stringify(outcome)).to.not.include(password);
  });

  // The credential sits right across a cut: the tail's character limit, or the running buffer's limit
  // (newlines are dropped from the tail, so the line holding the cut is the one shown).
  for (const [where, fill, cut] of [['the stderr tail limit', '.', STDERR_TAIL_CHARS], ['the stderr buffer limit', '\n', STDERR_BUFFER_CHARS]] as const) {
    it(`redacts a token printed across ${where} without leaving any piece of it`, async () => {
      const chars = cut - Math.floor(TOKEN.length / 2);
      const outcome = await runQScanner(options('app:spill', { extraEnv: { FAKE_QSCANNER_SPILL_CHARS: String(chars), FAKE_QSCANNER_SPILL_FILL: fill } }));
      if (outcome.kind !== 'failed') throw new Error(`expected a failed outcome, got ${outcome.kind}`);
      expect(outcome.exitCode).to.equal(1);
      expect(outcome.stderrTail).to.include('ACTED]');
      expectNoFragment(JSON.stringify(outcome), TOKEN);
    });
  }

  for (const name of ['AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const) {
    it(`redacts the ${name} the scanner inherits from this process`, async () => {
      const value = `inherited-${name.toLowerCase()}-Zq81xW`;
      const before = process.env[name];
      process.env[name] = value;
      try {
        const outcome = await runQScanner(options('app:spill', { extraEnv: { FAKE_QSCANNER_SPILL_VAR: name } }));
        if (outcome.kind !== 'failed') throw new Error(`expected a failed outcome, got ${outcome.kind}`);
        expect(outcome.stderrTail).to.include('credential [REDACTED]');
        expectNoFragment(JSON.stringify(outcome), value);
      } finally {
        if (before === undefined) delete process.env[name];
        else process.env[name] = before;
      }
    });
  }

  it('StderrTail never keeps a piece of a secret, however the text is chunked and cut', () => {
    const secretArb = fc.stringMatching(/^[a-z0-9]{6,24}$/);
    // Some secrets begin with another one (a token and the token plus a suffix), the hard case for streaming.
    const secretsArb = fc
      .tuple(fc.uniqueArray(secretArb, { minLength: 1, maxLength: 3 }), fc.option(fc.stringMatching(/^[a-z0-9]{1,8}$/), { nil: undefined }))
      .map(([base, suffix]) => [...new Set(suffix === undefined ? base : [...base, base[0]! + suffix])].sort((a, b) => b.length - a.length));
    fc.assert(
      fc.property(
        secretsArb,
        fc.array(fc.tuple(fc.nat({ max: 3 }), fc.stringMatching(/^[.\n ]{0,30}$/)), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 20 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 40 }),
        fc.option(fc.integer({ min: 1, max: 23 }), { nil: undefined }),
        (secrets, pieces, chunkSizes, extraBuffer, cutShort) => {
          // The stream: filler and secrets interleaved (the filler shares no character with a secret),
          // possibly ending in the first part of a secret the child never finished printing.
          let stream = pieces.map(([which, filler]) => filler + secrets[which % secrets.length]!).join('');
          if (cutShort !== undefined) stream += '.' + secrets[0]!.slice(0, Math.min(cutShort, secrets[0]!.length - 1));
          const bufferChars = Math.max(...secrets.map((x) => x.length)) + extraBuffer;
          const collector = new StderrTail(secrets, bufferChars);
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = chunkSizes[i % chunkSizes.length]!;
            collector.append(stream.slice(at, at + size));
            at += size;
          }
          // Whatever survives must be filler or marker: no run of 6 secret characters.
          const shown = collector.text();
          for (const secret of secrets) expectNoFragment(shown, secret);
        },
      ),
      // Fixed seed: CI runs the same cases every time (FUZZ_SEED widens the search by hand).
      { numRuns: 400, seed: Number(process.env.FUZZ_SEED ?? 20261203) },
    );
  });

  it('StderrTail redacts overlapping occurrences whole: a longer secret never swallows the start of the next one', () => {
    const secrets = ['90a0aa09', '90a0aa0', '00a00a'];
    for (const chunks of [['90a0aa090a0aa09'], ['90a0a', 'a090a0a', 'a09'], ['9', '0a0aa090a0aa0', '9']]) {
      const collector = new StderrTail(secrets, 64);
      for (const chunk of chunks) collector.append(chunk);
      const shown = collector.text();
      for (const secret of secrets) expectNoFragment(shown, secret);
      expect(shown, chunks.join('|')).to.equal('[REDACTED]');
    }
  });

  it('passes a known POD gateway URL as --pod, and only a custom gateway as a URL', async () => {
    const gateways = ['https://GATEWAY.qg2.apps.qualys.com/', 'https://gateway.qg1.apps.qualysksa.com', 'https://qualys-gw.private.example.com'];
    for (const gateway of gateways) {
      const outcome = await runQScanner(options('app:clean', { pod: undefined, gateway }));
      expect(outcome.kind, gateway).to.equal('ok');
    }
    const flag = (argv: string[], name: string): string | undefined => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : undefined);
    const calls = invocations().map((c) => ({ pod: flag(c.argv, '--pod'), url: flag(c.argv, '--gateway-url') }));
    expect(calls).to.deep.equal([{ pod: 'US2', url: undefined }, { pod: 'KSA1', url: undefined }, { pod: undefined, url: 'https://qualys-gw.private.example.com' }]);
  });

  it('exit 2: argument errors are failures naming the problem', async () => {
    const outcome = await runQScanner(options('app:clean', { scanTypes: ['pkg', 'viruses'] }));
    expect(outcome).to.include({ kind: 'failed', exitCode: 2 });
    if (outcome.kind === 'failed') expect(outcome.stderrTail).to.include('invalid --scan-types value "viruses"');
  });

  it('a malformed SARIF report is a failure, not a crash', async () => {
    const outcome = await runQScanner(options('app:garbled'));
    expect(outcome).to.include({ kind: 'failed', exitCode: 0 });
    if (outcome.kind === 'failed') expect(outcome.reason).to.match(/not JSON/);
    expect(leftoverDirs()).to.deep.equal([]);
  });

  it('a timeout kills the whole process tree and removes the temp dir', async () => {
    const started = Date.now();
    const outcome = await runQScanner(options('app:slow', { timeoutMs: 1500 }));
    expect(outcome).to.include({ kind: 'failed', exitCode: null, timedOut: true });
    expect(Date.now() - started).to.be.below(15_000);
    const { grandchildPid, pid } = invocations()[0] as unknown as { grandchildPid: number; pid: number };
    await new Promise((r) => setTimeout(r, 200));
    for (const p of [pid, grandchildPid]) expect(isRunning(p), `pid ${p} still running`).to.equal(false);
    expect(leftoverDirs()).to.deep.equal([]);
  });

  it('a missing binary is a failure', async () => {
    const outcome = await runQScanner(options('app:clean', { binaryPath: path.join(tmpRoot, 'nope') }));
    expect(outcome).to.include({ kind: 'failed', exitCode: null, timedOut: false });
    expect(leftoverDirs()).to.deep.equal([]);
  });

  it('rejects options it cannot run with a typed error', async () => {
    for (const bad of [{ accessToken: '' }, { timeoutMs: 0 }, { pod: undefined }, { target: { kind: 'image' as const, ref: 'a b' } }]) {
      let caught: unknown;
      await runQScanner(options('app:clean', bad)).catch((err: unknown) => (caught = err));
      expect(caught, JSON.stringify(bad)).to.be.instanceOf(QScannerOptionsError);
    }
    expect(leftoverDirs()).to.deep.equal([]);
    expect(existsSync(logFile)).to.equal(false);
  });

  it('the fake refuses to run without a token and validates Lambda ARNs', async () => {
    const { spawnSync } = await import('node:child_process');
    const noToken = spawnSync(FAKE_QSCANNER_PATH, ['image', 'nginx', '--pod', 'US2', '--output-dir', tmpRoot], { env: { PATH: process.env.PATH }, encoding: 'utf8' });
    expect(noToken.status).to.equal(2);
    expect(noToken.stderr).to.include('access token is required');
    const badArn = spawnSync(FAKE_QSCANNER_PATH, ['lambda', 'not-an-arn', '--pod', 'US2', '--output-dir', tmpRoot], { env: { PATH: process.env.PATH, QUALYS_ACCESS_TOKEN: 't' }, encoding: 'utf8' });
    expect(badArn.status).to.equal(2);
    expect(badArn.stderr).to.include('invalid Lambda function ARN');
    const env = { PATH: process.env.PATH, QUALYS_ACCESS_TOKEN: 't' };
    const unknownFlag = spawnSync(FAKE_QSCANNER_PATH, ['image', 'app:clean', '--gateway', 'https://gw.example.com', '--output-dir', tmpRoot], { env, encoding: 'utf8' });
    expect(unknownFlag.status).to.equal(2);
    expect(unknownFlag.stderr).to.include('unknown flag --gateway');
    for (const platform of [['--pod', 'EU1'], ['--gateway-url', 'https://gw.example.com']]) {
      const ok = spawnSync(FAKE_QSCANNER_PATH, ['image', 'app:clean', ...platform, '--output-dir', tmpRoot], { env, encoding: 'utf8' });
      expect(ok.status, platform.join(' ')).to.equal(0);
    }
  });
});
