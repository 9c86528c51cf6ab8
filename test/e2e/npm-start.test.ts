import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { simpleParser } from 'mailparser';
import { request } from 'undici';
import { chromium, type Browser } from 'playwright-core';
import { containerDeployment, eventBridgeEnvelope, lambdaRecordVariant } from '../../local/demo/scenario';
import { classifyEvents } from '../../local/replay/detect';
import { fakeQScannerExpectation } from '../../local/fake-qscanner';
import { startQualysSimulator } from '../../local/qualys-sim';
import type { RunSummary } from '../../local/start/summary';
import { parseScanResult } from '../../shared/scan-result';
import { corpusPath, loadCorpus } from '../support/corpus';

const ROOT = path.resolve(__dirname, '..', '..');
const START = path.join(ROOT, 'local', 'start.ts');
/** Debian's chromium, which .ci/run installs; no browser is downloaded. */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** A command as a user runs it: a child process, stdout, stderr and the exit code observed. */
function runCommand(file: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0', ...env } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? ((error as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** The ready examples the README names (ACI and ACA writes and ACR pushes in both schemas, a CreateFunction, a bulk target, AWS and Azure security events, S3 object writes). */
const EXAMPLES = readdirSync(path.join(ROOT, 'local', 'examples')).filter((f) => f.endsWith('.json')).sort();
/** Events in the examples (a trail file holds several). */
const EXAMPLE_EVENTS = EXAMPLES.reduce((n, file) => n + classifyEvents(JSON.parse(readFileSync(path.join(ROOT, 'local', 'examples', file), 'utf8'))).length, 0);
/** The bytes of the objects the S3 examples name. */
const EXAMPLE_OBJECTS = readdirSync(path.join(ROOT, 'local', 'examples', 'objects')).sort().map((file) => path.join(ROOT, 'local', 'examples', 'objects', file));

const shipscan = (args: string[], env: NodeJS.ProcessEnv = {}) => runCommand(process.execPath, ['--import', 'tsx', START, ...args], env);

describe('npm start (end to end, child process)', function () {
  this.timeout(300_000);
  let dir: string;
  let out: string;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-e2e-'));
    out = path.join(dir, 'out');
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('a replay with processed, ignored and failing events (--json)', () => {
    let ran: Ran;
    let summary: RunSummary;
    let nginx: { critical: number; high: number; medium: number; low: number };

    before(async () => {
      const sim = await startQualysSimulator();
      nginx = sim.expectedCounts('docker.io/library/nginx:latest');
      await sim.stop();
      // Variants of the corpus samples (named as such): a container group write and a 12-digit-account CreateFunction.
      const aci = containerDeployment('ACI', 'e2e-aci', ['nginx']).event;
      const createFunction = eventBridgeEnvelope(
        lambdaRecordVariant(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'), { name: 'e2e-orders', account: '210987654321', region: 'eu-west-1' }),
      );
      await writeFile(path.join(dir, 'aci-write.variant.json'), JSON.stringify(aci));
      await writeFile(path.join(dir, 'create-function.variant.json'), JSON.stringify([createFunction, createFunction]));
      await writeFile(path.join(dir, 'not-an-event.json'), JSON.stringify({ hello: 'world' }));
      ran = await shipscan([
        '--event', path.join(dir, 'aci-write.variant.json'),
        '--event', path.join(dir, 'create-function.variant.json'),
        '--event', corpusPath('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json'),
        '--event', corpusPath('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'),
        '--event', corpusPath('aws/cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json'),
        '--event', corpusPath('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json'),
        '--event', corpusPath('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'),
        '--event', corpusPath('azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json'),
        '--event', path.join(dir, 'not-an-event.json'),
        ...EXAMPLES.flatMap((file) => ['--event', path.join(ROOT, 'local', 'examples', file)]),
        ...EXAMPLE_OBJECTS.flatMap((file) => ['--object', file]),
        '--json',
        '--out', out,
      ]);
      summary = JSON.parse(ran.stdout) as RunSummary;
    });

    it('exits 1 because events failed; stdout is exactly one JSON document; progress is on stderr without a live meter', () => {
      expect(ran.code, ran.stderr).to.equal(1);
      expect(ran.stdout.trim().split('\n')).to.have.length(1);
      expect(ran.stderr).to.include(`read ${10 + EXAMPLE_EVENTS} event(s) from ${9 + EXAMPLES.length} file(s)`);
      expect(ran.stderr).to.include('done; run folder');
      expect(ran.stderr).to.not.match(/\r|\d+\/\d+ events/);
    });

    it('accounts for every event: processed, ignored with the rule and the reason, failed with the reason', () => {
      expect(summary.events).to.equal(10 + EXAMPLE_EVENTS);
      // Processed: the ACI write, the CreateFunction twice (scan + cache hit), the stratus UpdateFunctionCode, every
      // example's events, and the storage account write (a security event; the stub holds no such account: resource gone).
      expect(summary.processed).to.equal(5 + EXAMPLE_EVENTS);
      const ignored = Object.fromEntries(summary.ignored.map((i) => [i.event.source.replace(/^.*\//, ''), `${i.by}: ${i.reason}`]));
      expect(ignored).to.deep.equal({
        // The deployed rule never delivers UpdateFunctionConfiguration while scanOnConfigurationChange is off (the default).
        'cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json#1':
          'EventBridge rule shipscan-local-deployments: detail.eventName is "UpdateFunctionConfiguration20150331v2", which matches none of ["CreateFunction",{"prefix":"CreateFunction20"},"UpdateFunctionCode",{"prefix":"UpdateFunctionCode20"}]',
        'eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json#1': 'EventBridge rule shipscan-local-deployments: source is "aws.s3", which matches none of ["aws.lambda"]',
        'cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json#1':
          'Event Grid subscription shipscan-local: data.operationName is "Microsoft.EventGrid/eventSubscriptions/write" (StringIn ["Microsoft.ContainerInstance/containerGroups/write","Microsoft.App/containerApps/write"])',
      });
      const failures = Object.fromEntries(summary.failures.map((f) => [f.event.source.replace(/^.*\//, ''), f.reason]));
      expect(Object.keys(failures)).to.have.members(['cloudtrail-raw-lambda-CreateFunction20150331.elastic.json#1', 'not-an-event.json#1']);
      // The published record carries a 13-digit account, which no ARN can hold.
      expect(failures['cloudtrail-raw-lambda-CreateFunction20150331.elastic.json#1']).to.match(/^the scanner did not recognise the message: invalid Lambda function identifier .*1010101010101/);
      expect(failures['not-an-event.json#1']).to.match(/^unknown event shape: not an Event Grid event/);
      // Findings come from the AWS security-event examples only (test/e2e/npm-start-security-aws.test.ts looks closer):
      // without --arm the ARM stub holds none of the resources the Azure ones name, so nothing to find and no email.
      expect(summary.findings.map((f) => f.cloud)).to.deep.equal(['aws', 'aws', 'aws', 'aws']);
      expect(summary.emails.filter((e) => e.cloud === 'azure')).to.deep.equal([]);
    });

    it('replays every ready example in local/examples/ to a scan or a finding', () => {
      expect(EXAMPLES).to.have.length(18);
      const unsettled = [...summary.failures, ...summary.ignored].map((e) => e.event.source).filter((source) => source.includes('local/examples/'));
      expect(unsettled).to.deep.equal([]);
      for (const workload of [
        'ACI example-aci',
        'ACI example-aci-ce',
        'ACA example-aca',
        'ACA example-aca-ce',
        'lambda example-orders',
        'lambda example-bulk',
        'ACR shop/example-push',
        'ACR shop/example-push-ce',
        's3 example-uploads/releases/api/requirements.txt',
        's3 example-uploads/releases/web/package-lock.json',
        's3 example-mirror/web/package-lock.json',
        's3 example-mirror/api 2/requirements.txt',
        's3 example-drop/team uploads/requirements.txt',
      ]) {
        expect(summary.scans.map((scan) => scan.workload), workload).to.include(workload);
      }
      expect(summary.findings.map((f) => f.ruleId).sort()).to.deep.equal(['aws.cloudtrail.logging-stopped', 'aws.ec2.sg-open-ingress', 'aws.iam.access-key-created', 'aws.s3.bucket-public-policy']);
    });

    it('reports the scans with their counts and where the pipeline stored them', async () => {
      const aciRow = summary.scans.find((scan) => scan.workload === 'ACI e2e-aci');
      expect(aciRow).to.include({ workload: 'ACI e2e-aci', image: 'docker.io/library/nginx:latest' });
      // Five workloads run nginx: one scans it, the others get the cached result as rows of their own.
      expect(aciRow?.cacheHit).to.equal(aciRow?.status === 'CACHED');
      const nginxRows = summary.scans.filter((scan) => scan.image === 'docker.io/library/nginx:latest');
      expect(nginxRows.filter((scan) => !scan.cacheHit).map((scan) => scan.status)).to.deep.equal(['COMPLETED']);
      expect(aciRow?.counts).to.include(nginx);
      expect(aciRow?.resultKey).to.match(/^blob:\/\/scan-results\/docker\.io\/library\/nginx\/.+\.json$/);
      const orders = summary.scans.filter((scan) => scan.function === 'e2e-orders');
      expect(orders.map((scan) => [scan.status, scan.cacheHit])).to.deep.equal([
        ['COMPLETED', false],
        ['CACHED', true],
      ]);
      const expected = fakeQScannerExpectation('arn:aws:lambda:eu-west-1:210987654321:function:e2e-orders');
      expect(expected.counts, 'the fake qscanner scans e2e-orders with findings').to.not.equal(undefined);
      expect(orders[0]?.counts).to.deep.equal(expected.counts);
      expect(orders[0]?.resultKey).to.match(/^s3:\/\/shipscan-results\/results\/210987654321\/eu-west-1\/e2e-orders\/zip-[0-9a-f]{64}\/.+\.json$/);
      expect(orders[1]?.resultKey).to.equal(orders[0]?.resultKey);
    });

    it('keeps every stored ScanResult, the summary and report.html in a run folder after the emulators stopped', () => {
      expect(summary.resultsDir).to.match(new RegExp(`^${out.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/runs/\\d{8}T\\d{9}Z-[0-9a-f]{6}$`));
      const folder = summary.resultsDir!;
      expect(JSON.parse(readFileSync(path.join(folder, 'summary.json'), 'utf8'))).to.deep.equal(summary);
      expect(summary.report).to.equal(path.join(folder, 'report.html'));
      for (const scan of summary.scans) {
        expect(scan.file, scan.resultKey).to.be.a('string');
        const stored = parseScanResult(JSON.parse(readFileSync(path.join(folder, scan.file!), 'utf8')));
        expect(stored.counts).to.deep.include({ critical: scan.counts.critical, high: scan.counts.high });
      }
      expect(readdirSync(path.join(folder, 'results')).sort()).to.deep.equal(['blob', 's3']);
    });

    describe('report.html in headless Debian chromium (playwright-core)', () => {
      let browser: Browser;
      before(async function () {
        if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium; .ci/run does)`);
        browser = await chromium.launch({
          executablePath: CHROMIUM,
          // Root in CI needs --no-sandbox; the rest keeps chromium off the network it cannot reach here.
          args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        });
      });
      after(async () => {
        await browser?.close();
      });

      it('renders every scan, failure and ignored event, loads nothing from the network and logs no console error', async () => {
        const page = await browser.newPage();
        const problems: string[] = [];
        const requests: string[] = [];
        page.on('console', (message) => {
          if (message.type() === 'error' || message.type() === 'warning') problems.push(`${message.type()}: ${message.text()}`);
        });
        page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
        page.on('request', (r) => requests.push(r.url()));
        const url = `file://${summary.report!}`;
        await page.goto(url);
        expect(await page.title()).to.match(/^shipscan run /);
        expect(await page.locator('tr[data-row="scan"]').count()).to.equal(summary.scans.length);
        expect(await page.locator('tr[data-row="failure"]').count()).to.equal(summary.failures.length);
        expect(await page.locator('tr[data-row="ignored"]').count()).to.equal(summary.ignored.length);
        expect(await page.locator('[data-total="failed"] b').textContent()).to.equal(String(summary.failures.length));
        const failures = await page.locator('tr[data-row="failure"]').allTextContents();
        for (const failure of summary.failures) expect(failures.some((text) => text.includes(failure.reason)), failure.reason).to.equal(true);
        // Each scan row shows a severity bar and links the ScanResult copy next to the report.
        const bars = await page.locator('tr[data-row="scan"] .bar').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('aria-label')));
        expect(bars).to.deep.equal(summary.scans.map((s) => `${s.counts.critical} critical, ${s.counts.high} high, ${s.counts.medium} medium, ${s.counts.low} low`));
        const links = await page.locator('tr[data-row="scan"] a').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('href') ?? ''));
        expect(links).to.have.length(summary.scans.length);
        for (const link of links) expect(existsSync(path.join(summary.resultsDir!, link)), link).to.equal(true);
        const barWidth = await page.locator('tr[data-row="scan"] .bar span').first().evaluate((n) => n.getBoundingClientRect().width);
        expect(barWidth, 'severity bars are drawn').to.be.greaterThan(0);
        expect(requests).to.deep.equal([url]);
        expect(problems).to.deep.equal([]);
        await page.close();
      });
    });
  });

  describe('Azure security events replayed with the resources they name (--event, --arm, --json)', () => {
    const EXAMPLE_DIR = path.join(ROOT, 'local', 'examples');
    const SECURITY = ['nsg-open-ssh.eventgrid.json', 'storage-public-blob.cloudevents.json', 'role-assignment-owner.eventgrid.json'];
    const armOf = (file: string) => path.join(EXAMPLE_DIR, 'arm', file.replace(/\.(eventgrid|cloudevents)\.json$/, '.json'));
    const idOf = (file: string) => (JSON.parse(readFileSync(armOf(file), 'utf8')) as { id: string }).id.toLowerCase();
    let ran: Ran;
    let summary: RunSummary;

    before(async () => {
      // A benign variant of the NSG example (named as such): another group, its SSH rule taken out, a new event id.
      const variant = (text: string) => text.replaceAll('web-nsg', 'web-nsg-closed').replaceAll('000000000101', '000000000901');
      const nsg = JSON.parse(variant(readFileSync(armOf(SECURITY[0]!), 'utf8'))) as { properties: { securityRules: { name: string }[] } };
      nsg.properties.securityRules = nsg.properties.securityRules.filter((rule) => rule.name !== 'allow-ssh');
      await writeFile(path.join(dir, 'nsg-closed.variant.json'), variant(readFileSync(path.join(EXAMPLE_DIR, SECURITY[0]!), 'utf8')));
      await writeFile(path.join(dir, 'nsg-closed-arm.variant.json'), JSON.stringify([nsg]));
      ran = await shipscan([
        ...SECURITY.flatMap((file) => ['--event', path.join(EXAMPLE_DIR, file), '--arm', armOf(file)]),
        '--event', path.join(dir, 'nsg-closed.variant.json'),
        '--arm', path.join(dir, 'nsg-closed-arm.variant.json'),
        '--json',
        '--out', out,
      ]);
      summary = JSON.parse(ran.stdout) as RunSummary;
    });

    it('exits 0 with every event processed; stdout is one JSON document with the findings (rule, severity, resource, actor)', () => {
      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stdout.trim().split('\n')).to.have.length(1);
      expect(ran.stderr).to.include('read 4 ARM resource(s) from 4 file(s)');
      expect(summary).to.include({ events: 4, processed: 4 });
      expect(summary.failures).to.deep.equal([]);
      expect(summary.findings).to.have.deep.members([
        { cloud: 'azure', ruleId: 'azure.network.nsg-open-admin-port', category: 'posture', severity: 'CRITICAL', state: 'ACTIVE', resourceId: idOf(SECURITY[0]!), actor: 'alice@contoso.com' },
        { cloud: 'azure', ruleId: 'azure.storage.public-blob-access', category: 'posture', severity: 'HIGH', state: 'ACTIVE', resourceId: idOf(SECURITY[1]!), actor: 'bob@contoso.com' },
        { cloud: 'azure', ruleId: 'azure.authorization.privileged-role-assignment', category: 'posture', severity: 'HIGH', state: 'ACTIVE', resourceId: idOf(SECURITY[2]!), actor: 'carol@contoso.com' },
      ]);
      expect(summary.findings.map((f) => f.resourceId).join(' '), 'the closed group yields nothing').to.not.include('web-nsg-closed');
    });

    it('writes each finding email as .eml (parsed back with mailparser) and .html into the run folder, linked from report.html', async () => {
      expect(summary.emails).to.have.length(3);
      const folder = summary.resultsDir!;
      for (const email of summary.emails) {
        expect(email).to.include({ cloud: 'azure', channel: 'email', transition: 'open' });
        const parsed = await simpleParser(readFileSync(path.join(folder, email.eml)));
        expect(parsed.subject).to.equal(email.subject);
        expect(parsed.to && !Array.isArray(parsed.to) ? parsed.to.text : '').to.equal(email.to.join(', '));
        expect(parsed.text, 'a plain-text part').to.be.a('string').and.not.equal('');
        const finding = summary.findings.find((f) => email.subject.includes(f.severity) && String(parsed.html).includes(f.actor ?? '?'));
        expect(finding, email.subject).to.not.equal(undefined);
        expect(readFileSync(path.join(folder, email.html), 'utf8')).to.include(finding!.actor!);
      }
      const report = readFileSync(summary.report!, 'utf8');
      const links = [...report.matchAll(/<tr data-row="email">[\s\S]*?<\/tr>/g)].flatMap((row) => [...row[0].matchAll(/href="([^"]+)"/g)].map((m) => m[1]!));
      expect(links).to.have.members(summary.emails.flatMap((e) => [e.html, e.eml]));
      expect(readdirSync(path.join(folder, 'findings'))).to.have.length(3);
    });

    it('refuses an --arm body without an ARM id before anything starts (exit 2)', async () => {
      await writeFile(path.join(dir, 'not-arm.json'), JSON.stringify({ name: 'web-nsg' }));
      const bad = await shipscan(['--event', path.join(EXAMPLE_DIR, SECURITY[0]!), '--arm', path.join(dir, 'not-arm.json')]);
      expect(bad.code).to.equal(2);
      expect(bad.stdout).to.equal('');
      expect(bad.stderr).to.match(/--arm .*not-arm\.json: expected an "id"/);
    });
  });

  it('runs the demo on a terminal: a live meter on stderr, a table of at most 120 columns, exit 0', async function () {
    // `script` gives the child a pseudo-terminal, as a person's shell does (stdout and stderr both land in it).
    const command = [process.execPath, '--import', 'tsx', START, '--out', out].map((arg) => `'${arg}'`).join(' ');
    const ran = await runCommand('script', ['-qefc', command, '/dev/null'], { CI: '' });
    expect(ran.code, ran.stdout).to.equal(0);
    expect(ran.stdout).to.match(/\r\x1b\[K\[ *[\d.]+s\] \d+\/13 events, [\d.]+\/s/);
    expect(ran.stdout).to.include('13/13 events');
    const table = ran.stdout.slice(ran.stdout.indexOf('cloud  workload'));
    const lines = table.split(/\r?\n/).filter((line) => line.length > 0);
    for (const line of lines) expect(line.length, line).to.be.at.most(120);
    for (const expected of ['ACI orders-aci', 'ACA web-aca', 'lambda orders-api', 'lambda payments-distroless', 'ACR shop/checkout', 'PARTIAL', 'CACHED', 's3 shop-releases/', 's3 partner-drop/']) {
      expect(table).to.include(expected);
    }
    expect(table).to.match(/13 events: 13 processed, 0 ignored, 0 failed; 10 scan records, 4 findings/);
    // The security event of the demo: a finding with its actor, and the email it sent, written to the run folder.
    expect(table).to.match(/CRITICAL aws\.ec2\.sg-open-ingress ACTIVE arn:aws:ec2:us-east-1:123456789012:security-group\/sg-0a1b2c3d4e5f60718/);
    expect(table).to.match(/emails \(4, written to the run folder instead of sent\):/);
    // The security events: each finding with its rule, severity, resource and actor, and where its email went
    // (the NSG write was delivered twice: still one finding and one email).
    expect(table).to.match(/CRITICAL azure\.network\.nsg-open-admin-port ACTIVE \/subscriptions\/[\s\S]*web-nsg by alice@contoso\.com/);
    expect(table).to.match(/HIGH azure\.storage\.public-blob-access ACTIVE \/subscriptions\/[\s\S]*by bob@contoso\.com/);
    expect(table).to.match(/HIGH azure\.authorization\.privileged-role-assignment ACTIVE \/subscriptions\/[\s\S]*by carol@contoso\.com/);
    const runDir = /results: (.+)\/ \(report\.html/.exec(table)?.[1] ?? '';
    const emls = [...table.matchAll(/^ {4}(\S*mail\/\S+\.eml)$/gm)].map((m) => m[1]!);
    expect(emls).to.have.length(4);
    // A path in the run folder when the full one would not fit 120 columns.
    for (const eml of emls) expect(existsSync(path.isAbsolute(eml) ? eml : eml.startsWith('mail/') ? path.join(runDir, eml) : path.join(ROOT, eml)), eml).to.equal(true);
    expect(table).to.match(/results: .+\/runs\/\d{8}T\d{9}Z-[0-9a-f]{6}\/ \(report\.html, summary\.json, results\/\)/);
  });

  describe('runs that start no emulator (every event dropped by a rule)', () => {
    const bucket = corpusPath('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json');
    const configuration = corpusPath('aws/cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json');

    it('exits 0 when every event is processed or ignored, and --wide prints each reason on one line', async () => {
      const ran = await shipscan(['--event', bucket, '--event', configuration, '--wide', '--out', out]);
      expect(ran.code, ran.stderr).to.equal(0);
      expect(ran.stdout).to.include('2 events: 0 processed, 2 ignored, 0 failed; 0 scan records, 0 findings');
      expect(ran.stdout).to.match(
        /\n {6}dropped by EventBridge rule shipscan-local-deployments: detail\.eventName is "UpdateFunctionConfiguration20150331v2", which matches none of \["CreateFunction",\{"prefix":"CreateFunction20"\},"UpdateFunctionCode",\{"prefix":"UpdateFunctionCode20"\}\]\n/,
      );
      expect(ran.stderr).to.not.include('dynalite');
    });

    it('`npm start --silent -- --json` prints exactly one JSON document on stdout', async () => {
      const ran = await runCommand('npm', ['start', '--silent', '--', '--event', bucket, '--json', '--out', out]);
      expect(ran.code, ran.stderr).to.equal(0);
      const summary = JSON.parse(ran.stdout) as RunSummary;
      expect(summary.ignored.map((i) => i.by)).to.deep.equal(['EventBridge rule shipscan-local-deployments']);
    });

    it('`npx shipscan --json` (the bin entry) prints exactly one JSON document on stdout', async () => {
      const ran = await runCommand('npx', ['--no-install', 'shipscan', '--event', bucket, '--json', '--out', out]);
      expect(ran.code, ran.stderr).to.equal(0);
      expect((JSON.parse(ran.stdout) as RunSummary).events).to.equal(1);
    });

    it('exits 3 with one line and no stack trace when the run breaks (the run folder cannot be written); --verbose shows the trace', async () => {
      const blocked = path.join(dir, 'a-file');
      await writeFile(blocked, 'not a directory');
      const ran = await shipscan(['--event', bucket, '--out', blocked]);
      expect(ran.code).to.equal(3);
      expect(ran.stdout).to.equal('');
      expect(ran.stderr).to.match(/shipscan: the run broke: (ENOTDIR|EEXIST)[^\n]*a-file/);
      expect(ran.stderr).to.include('run again with --verbose or DEBUG=shipscan');
      expect(ran.stderr).to.not.match(/\n\s+at /);
      const verbose = await shipscan(['--event', bucket, '--out', blocked, '--verbose']);
      expect(verbose.code).to.equal(3);
      expect(verbose.stderr).to.match(/\n\s+at /);
    });
  });

  describe('usage errors exit 2 before anything starts', () => {
    const cases: [string, string[], RegExp][] = [
      ['an unknown option', ['--nope'], /Unknown option '--nope'[\s\S]*usage: npm start --silent --/],
      ['a missing event file', ['--event', '/nonexistent/missing.json'], /--event \/nonexistent\/missing\.json: ENOENT/],
      ['--port without --serve', ['--port', '80'], /--port goes with --serve/],
    ];
    for (const [name, args, message] of cases) {
      it(`${name}`, async () => {
        const ran = await shipscan(args);
        expect(ran.code).to.equal(2);
        expect(ran.stdout).to.equal('');
        expect(ran.stderr).to.match(message);
      });
    }

    it('an event file that is not JSON', async () => {
      await writeFile(path.join(dir, 'broken.json'), '{ "eventType": ');
      const ran = await shipscan(['--event', path.join(dir, 'broken.json')]);
      expect(ran.code).to.equal(2);
      expect(ran.stderr).to.match(/--event .*broken\.json: .*JSON/);
    });

    it('--help prints the usage with the exit codes on stdout and exits 0', async () => {
      const ran = await shipscan(['--help']);
      expect(ran.code).to.equal(0);
      expect(ran.stdout).to.include('exit codes: 0 every event processed or ignored by a rule, 1 an event failed, 2 usage error, 3 the stack or the run broke');
    });
  });

  it('--serve prints how to browse the emulators, accepts events over HTTP (validation handshake, a container deployment) and stops everything on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', START, '--serve', '--out', out], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no endpoint printed: ${stdout}`)), 120_000);
        child.stdout.on('data', () => {
          const match = /POST (http:\/\/127\.0\.0\.1:\d+)\/eventgrid/.exec(stdout);
          if (match && stdout.includes('lambda list-functions')) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      expect(stdout).to.match(/Azure Storage Explorer: Connect > Storage account or service > Connection string/);
      expect(stdout).to.match(/DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;/);
      expect(stdout).to.match(/az storage blob list --container-name scan-results/);
      expect(stdout).to.match(/AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1 aws --endpoint-url http:\/\/127\.0\.0\.1:\d+ s3 ls s3:\/\/shipscan-results --recursive/);
      const validation = await request(`${url}/eventgrid`, { method: 'POST', body: JSON.stringify(loadCorpus('azure/eventgrid-subscriptionvalidationevent.azuredocs.json')) });
      expect(await validation.body.json()).to.deep.equal(loadCorpus('azure/eventgrid-subscriptionvalidation-response.azuredocs.json'));
      const delivery = await request(`${url}/eventgrid`, { method: 'POST', body: JSON.stringify(containerDeployment('ACA', 'served-app', ['nginx']).event) });
      expect(delivery.statusCode).to.equal(202);
      await delivery.body.dump();
      const deadline = Date.now() + 120_000;
      while (!stdout.includes('1 events: 1 processed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).to.include('ACA served-app');
      expect(stdout).to.include('1 events: 1 processed, 0 ignored, 0 failed');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).to.equal(0);
  });
});
