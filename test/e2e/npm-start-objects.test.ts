import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { putObjectSample, s3WriteRecordVariant } from '../../local/demo/objects';
import type { RunSummary, ScanRow } from '../../local/start/summary';
import { RESULTS_BUCKET } from '../../local/stack/aws-stack';
import { parseScanResult } from '../../shared/scan-result';

const ROOT = path.resolve(__dirname, '..', '..');
const START = path.join(ROOT, 'local', 'start.ts');
const EXAMPLES = path.join(ROOT, 'local', 'examples');

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

function shipscan(args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', START, ...args], { cwd: ROOT, timeout: 240_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, FORCE_COLOR: '0' } }, (error, stdout, stderr) => {
      const code = error ? (typeof (error as { code?: unknown }).code === 'number' ? (error as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const objectRows = (summary: RunSummary): ScanRow[] => summary.scans.filter((scan) => scan.object !== undefined);

describe('npm start with S3 object events and --object (end to end, child process)', function () {
  this.timeout(300_000);
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-e2e-objects-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  describe('the S3 examples with the example objects (--json)', () => {
    let ran: Ran;
    let summary: RunSummary;
    before(async () => {
      ran = await shipscan([
        '--event', path.join(EXAMPLES, 's3-put-object.cloudtrail.json'),
        '--event', path.join(EXAMPLES, 's3-put-object.eventbridge.json'),
        '--event', path.join(EXAMPLES, 's3-object-writes.trail.json'),
        '--event', path.join(EXAMPLES, 's3-object-created.eventbridge.json'),
        '--object', path.join(EXAMPLES, 'objects', 'requirements.txt'),
        '--object', path.join(EXAMPLES, 'objects', 'package-lock.json'),
        '--json',
        '--out', path.join(dir, 'out'),
      ]);
      summary = JSON.parse(ran.stdout) as RunSummary;
    });

    it('processes every event (the trail file is two) and starts only the AWS half', () => {
      expect(ran.code, ran.stderr).to.equal(0);
      expect(summary).to.deep.include({ events: 5, processed: 5, failures: [], ignored: [] });
      expect(ran.stderr).to.include('s3-object: 5 event(s) delivered to the pipeline');
      expect(ran.stderr).to.not.include('Azurite');
    });

    it('gives each object scan entry its object (bucket, key, versionId, sha256, mime, size) and cacheHit', () => {
      const rows = objectRows(summary);
      expect(rows.map((row) => [row.object!.bucket, row.object!.key, row.object!.versionId, row.object!.mime, row.cacheHit])).to.deep.equal([
        ['example-uploads', 'releases/api/requirements.txt', null, 'text/plain', false],
        ['example-uploads', 'releases/web/package-lock.json', 'Tm9uLVVwbG9hZGVkLXZlcnNpb24tMQ', 'application/json', false],
        ['example-mirror', 'web/package-lock.json', null, 'application/json', true],
        ['example-mirror', 'api 2/requirements.txt', null, 'text/plain', true],
        ['example-drop', 'team uploads/requirements.txt', null, 'text/plain', true],
      ]);
      for (const row of rows) {
        const file = path.join(EXAMPLES, 'objects', row.object!.key.split('/').pop()!);
        expect(row.object!.size, row.object!.key).to.equal(readFileSync(file).length);
        expect(row.object!.sha256).to.match(/^[0-9a-f]{64}$/);
        expect(row.status).to.equal(row.cacheHit ? 'CACHED' : 'COMPLETED');
        expect(row.resultKey).to.match(new RegExp(`^s3://${RESULTS_BUCKET}/results/objects/\\d{12}/${row.object!.bucket}/${row.object!.sha256}/`));
      }
      // Two contents, five uploads: two scans.
      expect(new Set(rows.map((row) => row.object!.sha256)).size).to.equal(2);
      expect(rows.filter((row) => !row.cacheHit)).to.have.length(2);
    });

    it('keeps each object\'s own ScanResult in the run folder, the cache hits pointing at the scan they reuse', () => {
      const folder = summary.resultsDir!;
      const stored = objectRows(summary).map((row) => ({ row, result: parseScanResult(JSON.parse(readFileSync(path.join(folder, row.file!), 'utf8'))) }));
      for (const { row, result } of stored) {
        expect(result.target.kind).to.equal('object');
        expect(result.target.object).to.deep.include({ bucket: row.object!.bucket, key: row.object!.key, sha256: row.object!.sha256, size: row.object!.size });
        expect(result.counts).to.deep.equal(row.counts);
        expect(Boolean(result.reusedScan), row.object!.key).to.equal(row.cacheHit);
        const expected = row.object!.key.endsWith('requirements.txt') ? ['requests'] : ['lodash'];
        expect(result.vulnerabilities.map((v) => v.package), row.object!.key).to.deep.equal(expected);
      }
      expect(stored[2]!.result.target.object?.account).to.equal('210987654321');
    });
  });

  it('records an object no file stands for as gone, drops the stack\'s own bucket by the rule, and exits 0', async () => {
    const missing = s3WriteRecordVariant(putObjectSample(), { account: '123456789012', region: 'us-east-1', bucket: 'team-uploads', key: 'never/uploaded.zip' });
    const own = s3WriteRecordVariant(putObjectSample(), { account: '123456789012', region: 'us-east-1', bucket: RESULTS_BUCKET, key: 'results/objects/x.json' });
    await writeFile(path.join(dir, 'writes.json'), JSON.stringify({ Records: [missing, own] }));
    const ran = await shipscan(['--event', path.join(dir, 'writes.json'), '--json', '--out', path.join(dir, 'out')]);
    expect(ran.code, ran.stderr).to.equal(0);
    const summary = JSON.parse(ran.stdout) as RunSummary;
    // The rule settles its event before any pipeline runs; the scanner's verdict comes after.
    expect(summary.ignored.map((i) => [i.event.label, i.by, i.reason.split(':')[0]])).to.deep.equal([
      [`PutObject s3://${RESULTS_BUCKET}/results/objects/x.json (123456789012, us-east-1)`, 'EventBridge rule shipscan-local-objects', 'detail.requestParameters.bucketName is "shipscan-results", which matches none of [{"anything-but"'],
      ['PutObject s3://team-uploads/never/uploaded.zip (123456789012, us-east-1)', 'object scanner', 'OBJECT_GONE'],
    ]);
    expect(objectRows(summary).map((row) => [row.status, row.object, row.cacheHit])).to.deep.equal([
      ['SKIPPED (OBJECT_GONE)', { bucket: 'team-uploads', key: 'never/uploaded.zip', versionId: null }, false],
    ]);
  });

  it('refuses a missing --object file before anything starts (exit 2)', async () => {
    const ran = await shipscan(['--event', path.join(EXAMPLES, 's3-put-object.cloudtrail.json'), '--object', '/nonexistent/app.zip']);
    expect(ran.code).to.equal(2);
    expect(ran.stdout).to.equal('');
    expect(ran.stderr).to.match(/--object \/nonexistent\/app\.zip: ENOENT/);
  });
});
