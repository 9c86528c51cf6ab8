import { expect } from 'chai';
import { execFile, spawn } from 'node:child_process';
import { request } from 'undici';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { containerDeployment, eventBridgeEnvelope, lambdaRecordVariant } from '../../local/demo/scenario';
import { fakeQScannerExpectation } from '../../local/fake-qscanner';
import { startQualysSimulator } from '../../local/qualys-sim';
import type { ReplaySummary } from '../../local/start/summary';
import { corpusPath, loadCorpus } from '../support/corpus';

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '..', '..');

/** `npm start` as a user runs it: a child process, real emulators, stdout and exit code observed. */
async function npmStart(args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local', 'start.ts'), ...args], {
    cwd: ROOT,
    timeout: 120_000,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, FORCE_COLOR: '0' },
  });
}

describe('npm start (end to end, child process)', function () {
  this.timeout(180_000);
  let dir: string;
  let nginx: { critical: number; high: number; medium: number; low: number };

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-e2e-'));
    const sim = await startQualysSimulator();
    nginx = sim.expectedCounts('docker.io/library/nginx:latest');
    await sim.stop();
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('replays corpus events with --json: one JSON document on stdout, every event accounted for, results where it says', async () => {
    // Variants of the corpus samples (named as such): a container group write and a 12-digit-account CreateFunction.
    const aci = containerDeployment('ACI', 'e2e-aci', ['nginx']).event;
    const createFunction = eventBridgeEnvelope(
      lambdaRecordVariant(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'), { name: 'e2e-orders', account: '210987654321', region: 'eu-west-1' }),
    );
    await writeFile(path.join(dir, 'aci-write.variant.json'), JSON.stringify(aci));
    await writeFile(path.join(dir, 'create-function.variant.json'), JSON.stringify([createFunction, createFunction]));
    const { stdout } = await npmStart([
      '--event', path.join(dir, 'aci-write.variant.json'),
      '--event', path.join(dir, 'create-function.variant.json'),
      '--event', corpusPath('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json'),
      '--event', corpusPath('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'),
      '--event', corpusPath('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json'),
      '--event', corpusPath('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json'),
      '--event', corpusPath('azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json'),
      '--json',
    ]);
    const summary = JSON.parse(stdout) as ReplaySummary;
    expect(summary.events).to.equal(8);
    // Processed: the ACI write, the CreateFunction twice (scan + cache hit), the stratus UpdateFunctionCode.
    expect(summary.processed).to.equal(4);
    // Ignored: the S3 call and the two storage-account writes. Failed: the elastic record's 13-digit account.
    expect(summary.ignored).to.equal(3);
    expect(summary.failed).to.equal(1);

    const aciRow = summary.scans.find((scan) => scan.cloud === 'azure');
    expect(aciRow).to.include({ workload: 'ACI e2e-aci', image: 'docker.io/library/nginx:latest', status: 'COMPLETED', cacheHit: false });
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

  it('runs the demo: both clouds, the duplicate answered from the cache, exit 0', async () => {
    const { stdout, stderr } = await npmStart([]);
    expect(stderr).to.include('done in');
    for (const expected of ['ACI orders-aci', 'ACA web-aca', 'lambda orders-api', 'lambda payments-distroless', 'PARTIAL', 'CACHED']) {
      expect(stdout).to.include(expected);
    }
    expect(stdout).to.match(/5 events: 5 processed, 0 ignored, 0 failed; 7 scan records/);
  });

  it('refuses an unreadable event file with a usage error naming it', async () => {
    const error = (await npmStart(['--event', path.join(dir, 'missing.json')]).catch((e: unknown) => e)) as { code?: number; stderr?: string };
    expect(error.code).to.equal(2);
    expect(error.stderr).to.include('missing.json');
  });

  it('--serve accepts events over HTTP (validation handshake, a container deployment) and stops everything on Ctrl-C', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'local', 'start.ts'), '--serve'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no endpoint printed: ${stdout}`)), 60_000);
        child.stdout.on('data', () => {
          const match = /POST (http:\/\/127\.0\.0\.1:\d+)\/eventgrid/.exec(stdout);
          if (match) {
            clearTimeout(timer);
            resolve(match[1]!);
          }
        });
      });
      const validation = await request(`${url}/eventgrid`, { method: 'POST', body: JSON.stringify(loadCorpus('azure/eventgrid-subscriptionvalidationevent.azuredocs.json')) });
      expect(await validation.body.json()).to.deep.equal(loadCorpus('azure/eventgrid-subscriptionvalidation-response.azuredocs.json'));
      const delivery = await request(`${url}/eventgrid`, { method: 'POST', body: JSON.stringify(containerDeployment('ACA', 'served-app', ['nginx']).event) });
      expect(delivery.statusCode).to.equal(202);
      await delivery.body.dump();
      const deadline = Date.now() + 60_000;
      while (!stdout.includes('1 events: 1 processed') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(stdout).to.include('ACA served-app');
      expect(stdout).to.include('1 events: 1 processed, 0 ignored, 0 failed');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).to.equal(0);
  });
});
