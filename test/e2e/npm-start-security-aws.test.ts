import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleParser } from 'mailparser';
import { request } from 'undici';
import type { RunSummary } from '../../local/start/summary';
import { derive, failed, sample } from '../rules/aws/support/records';

/**
 * `npm start --silent -- --event <file> --json` with AWS security events, as a user runs it (a child
 * process): the ready examples (a raw record, an EventBridge envelope, a trail file) and variants of the
 * corpus (a failed call, a benign call, a record that cannot be read) go through the stack's rules and the
 * real security-events handler on dynalite; the findings, the verdicts and the emails written to the run
 * folder are what the summary says.
 */

const ROOT = path.resolve(__dirname, '..', '..');
const EXAMPLES = path.join(ROOT, 'local', 'examples');
const START = path.join(ROOT, 'local', 'start.ts');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function npmStart(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile('npm', ['start', '--silent', '--', ...args], { cwd: ROOT, timeout: 280_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

describe('npm start with AWS security events (end to end, child process)', function () {
  this.timeout(300_000);
  let dir: string;
  let ran: Ran;
  let summary: RunSummary;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-secaws-e2e-'));
    // Variants of the corpus: the StopLogging call denied, an ingress rule from a private range, and a record whose time is no time.
    await writeFile(path.join(dir, 'stop-logging-denied.json'), JSON.stringify(failed(sample('stopLogging'))));
    await writeFile(
      path.join(dir, 'sg-private.json'),
      JSON.stringify(
        derive('sgShorthand', (record) => {
          (record.requestParameters as Record<string, unknown>).cidrIp = '10.0.0.0/8';
          for (const rule of ((record.responseElements as { securityGroupRuleSet: { items: Record<string, unknown>[] } }).securityGroupRuleSet.items)) rule.cidrIpv4 = '10.0.0.0/8';
        }),
      ),
    );
    await writeFile(path.join(dir, 'access-key-bad-time.json'), JSON.stringify(derive('accessKey', (record) => (record.eventTime = 'yesterday'))));
    ran = await npmStart([
      '--event', path.join(EXAMPLES, 'sg-open-ssh.cloudtrail.json'),
      '--event', path.join(EXAMPLES, 's3-public-policy.eventbridge.json'),
      '--event', path.join(EXAMPLES, 'stop-logging-and-access-key.trail.json'),
      '--event', path.join(dir, 'stop-logging-denied.json'),
      '--event', path.join(dir, 'sg-private.json'),
      '--event', path.join(dir, 'access-key-bad-time.json'),
      '--json',
      '--out', path.join(dir, 'out'),
    ]);
    summary = JSON.parse(ran.stdout) as RunSummary;
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('prints one JSON document whose findings say cloud, rule, category, severity, state, resource and actor', () => {
    expect(ran.stdout.trim().split('\n'), ran.stderr).to.have.length(1);
    expect(summary.findings).to.deep.equal([
      { cloud: 'aws', ruleId: 'aws.ec2.sg-open-ingress', category: 'activity', severity: 'CRITICAL', state: 'ACTIVE', resourceId: 'arn:aws:ec2:us-northeast-1r:032092706103:security-group/sg-003dc7f1f1c686164', actor: 'arn:aws:iam::032092706103:user/christophe' },
      { cloud: 'aws', ruleId: 'aws.cloudtrail.logging-stopped', category: 'activity', severity: 'HIGH', state: 'ACTIVE', resourceId: 'arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/stratus-red-team-ct-stop-trail-buykxbqejv', actor: 'arn:aws:iam::143434273843:user/christophe' },
      { cloud: 'aws', ruleId: 'aws.iam.access-key-created', category: 'activity', severity: 'HIGH', state: 'ACTIVE', resourceId: 'arn:aws:iam::946986569305:user/stratus-red-team-backdoor-u-user', actor: 'arn:aws:iam::946986569305:user/christophe' },
      { cloud: 'aws', ruleId: 'aws.s3.bucket-public-policy', category: 'activity', severity: 'HIGH', state: 'ACTIVE', resourceId: 'arn:aws:s3:::jcazure2-dummy-bucket5', actor: 'arn:aws:iam::012345678901:user/johndoe' },
    ]);
  });

  it('settles every event: the benign call processed without a finding, the failed call dropped by the rule, the unreadable record failed', () => {
    expect(summary.events).to.equal(7);
    expect(summary.processed).to.equal(5);
    expect(summary.ignored.map((i) => [path.basename(i.event.source), i.by])).to.deep.equal([['stop-logging-denied.json#1', 'EventBridge rule shipscan-local-security']]);
    expect(summary.ignored[0]?.reason).to.match(/detail\.errorCode/);
    expect(summary.failures.map((f) => path.basename(f.event.source))).to.deep.equal(['access-key-bad-time.json#1']);
    expect(summary.failures[0]?.reason).to.match(/^unprocessable \(malformed\): .*eventTime.*; recorded at s3:\/\/shipscan-results\/security-events\/unprocessable\//);
    // An event failed: exit 1, as for any other kind.
    expect(ran.code).to.equal(1);
  });

  it('writes each email beside the results as .eml and .html, one per finding opened at or above the threshold', async () => {
    expect(summary.emails).to.have.length(4);
    for (const email of summary.emails) {
      expect(email).to.deep.include({ cloud: 'aws', channel: 'email', to: ['secops@example.com'], transition: 'open' });
      const eml = path.join(summary.resultsDir!, email.eml);
      const html = path.join(summary.resultsDir!, email.html);
      expect(existsSync(eml) && existsSync(html), email.eml).to.equal(true);
      const mail = await simpleParser(readFileSync(eml));
      expect(mail.subject).to.equal(email.subject);
      expect(mail.headers.get('x-shipscan-finding-id')).to.equal(email.findingId);
      expect(readFileSync(html, 'utf8')).to.match(/^<!doctype html>/i);
    }
    expect(summary.emails.map((e) => e.subject.replace(/:.*$/, '')).sort()).to.deep.equal(['[shipscan] CRITICAL opened', '[shipscan] HIGH opened', '[shipscan] HIGH opened', '[shipscan] HIGH opened']);
  });

  it('--serve takes a CloudTrail record on POST /eventbridge, prints its finding and email, and says how to read the findings table', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', START, '--serve', '--out', path.join(dir, 'served')], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no endpoint printed: ${stdout}`)), 120_000);
        child.stdout.on('data', () => {
          const match = /POST (http:\/\/127\.0\.0\.1:\d+)\/eventbridge/.exec(stdout);
          if (match && stdout.includes('lambda list-functions')) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      expect(stdout).to.match(/aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ dynamodb scan --table-name shipscan-findings/);
      const delivery = await request(`${url}/eventbridge`, { method: 'POST', body: JSON.stringify(sample('stopLogging')) });
      expect(delivery.statusCode).to.equal(202);
      await delivery.body.dump();
      const deadline = Date.now() + 120_000;
      while (!stdout.includes('1 events: 1 processed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).to.include('1 events: 1 processed, 0 ignored, 0 failed; 0 scan records, 1 findings');
      expect(stdout).to.include('HIGH aws.cloudtrail.logging-stopped ACTIVE arn:aws:cloudtrail:apiso-centralnorth-2r:143434273843:trail/');
      expect(stdout).to.match(/emails \(1, written to the run folder instead of sent\):\n  secops@example\.com: \[shipscan\] HIGH opened: CloudTrail logging stopped/);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).to.equal(0);
  });
});
