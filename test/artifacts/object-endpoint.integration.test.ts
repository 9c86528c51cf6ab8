import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { STSClient } from '@aws-sdk/client-sts';
import { ObjectAccess } from '../../functions/aws/artifacts/object-access';
import { ObjectPipeline, type ObjectOutcome } from '../../functions/aws/artifacts/object-pipeline';
import { parseObjectEvent } from '../../functions/aws/artifacts/object-event';
import { ResultStore } from '../../functions/aws/result-store';
import { CACHE_TABLE_SCHEMA, ScanCache } from '../../functions/aws/scan-cache';
import { createQScannerEngine } from '../../functions/aws/scan-engine';
import { runQScanner } from '../../shared/qualys/qscanner-runner';
import { DEFAULT_EXTRACT_LIMITS } from '../../shared/artifacts/extract';
import { parseScanResult, type ScanResult } from '../../shared/scan-result';
import { startDynalite, type RunningEmulator } from '../../local/emulators/dynalite';
import { FAKE_QSCANNER_PATH } from '../../local/fake-qscanner';
import { patternSha256, startObjectEndpoint, patternObject, type ObjectEndpoint } from '../support/object-endpoint';
import { VULNERABLE_REQUIREMENTS, zipOf } from './support/archives';
import { cloudTrailRecord } from './support/events';

const execFileAsync = promisify(execFile);
const OWN = '123456789012';
const CREDENTIALS = { accessKeyId: 'LOCAL', secretAccessKey: 'LOCAL' };

/**
 * What s3rver does not do, on a minimal local S3 endpoint (test/support/object-endpoint.ts): versioned objects
 * (GetObject with the event's versionId), AccessDenied, and a 2 GiB object generated while it streams. s3rver can
 * take 2 GiB (measured: PutObject 26 s, GetObject 65 s on this machine), too slow for a test on two shared cores.
 */
describe('object scanner against a minimal S3 endpoint: versions, AccessDenied, 2 GiB', function () {
  this.timeout(300_000);
  let endpoint: ObjectEndpoint;
  let dynamo: RunningEmulator;
  let workDir: string;
  let pipeline: ObjectPipeline;
  /** What reached the findings fold (its one call site in the pipeline). */
  const folded: { resultKey: string; status: string; reused: boolean; vulnerabilities: string[] }[] = [];

  // Metrics are not what these tests look at (and EMF lines would fill mocha's output); the setting is put
  // back afterwards, because Powertools reads it process-wide and later suites count metrics.
  const metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;

  before(async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    endpoint = await startObjectEndpoint();
    dynamo = await startDynalite();
    workDir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-objects-endpoint-'));
    const ddb = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: CREDENTIALS });
    await ddb.send(new CreateTableCommand({ TableName: 'cache', ...CACHE_TABLE_SCHEMA }));
    const s3 = new S3Client({ endpoint: endpoint.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: CREDENTIALS, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' });
    const access = new ObjectAccess(new STSClient({ region: 'us-east-1' }), { spokes: [], clientConfig: { endpoint: endpoint.endpoint, forcePathStyle: true, credentials: CREDENTIALS } });
    access.setOwnAccount(OWN);
    pipeline = new ObjectPipeline({
      settings: {
        resultsBucket: 'results',
        filter: { includeBuckets: [], excludeBuckets: [], includePrefixes: [], excludePrefixes: [], ownBuckets: ['results'] },
        maxObjectBytes: 64 * 1024 * 1024,
        excludedMimeTypes: new Set(),
        extractLimits: DEFAULT_EXTRACT_LIMITS,
        workDir,
        scanTimeoutMs: 60_000,
        lockTtlMs: 120_000,
        retryDelaySec: 1,
        cacheTtlDays: 30,
        partialCacheTtlMinutes: 60,
        scanProfile: 'pkg+secret',
      },
      access,
      cache: new ScanCache(DynamoDBDocumentClient.from(ddb), 'cache'),
      store: new ResultStore(s3, 'results'),
      resultsS3: s3,
      engine: createQScannerEngine({ run: runQScanner, binaryPath: FAKE_QSCANNER_PATH, pod: 'US2', cacheDir: path.join(workDir, 'cache'), accessToken: async () => 'local-token', scanTypes: ['pkg', 'secret'] }),
      findings: {
        fold: async (result, context) => {
          folded.push({ resultKey: context.resultKey, status: result.status, reused: result.reusedScan !== undefined, vulnerabilities: result.vulnerabilities.map((v) => v.package ?? '?') });
        },
      },
      logger: new Logger({ logLevel: 'SILENT' }),
      metrics: new Metrics({ namespace: 'Test', serviceName: 'test' }),
    });
  });
  after(async () => {
    if (metricsDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
    else process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    await endpoint?.stop();
    await dynamo?.stop();
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  async function run(record: Record<string, unknown>): Promise<ObjectOutcome> {
    const parsed = parseObjectEvent(record);
    if (parsed.kind !== 'object') throw new Error(`not an object event: ${parsed.reason}`);
    return pipeline.process(parsed.request, { remainingMs: () => 600_000 });
  }

  function storedResult(key: string): ScanResult {
    return parseScanResult(JSON.parse(endpoint.stored.get(`results/${key}`)!.toString('utf8')));
  }

  it('a versioned bucket: the event\'s versionId is kept and read, not the newer current version', async () => {
    const v1 = await zipOf([{ name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }]);
    const v2 = await zipOf([{ name: 'requirements.txt', data: 'requests==2.32.3\n' }]);
    endpoint.putVersion('versioned', 'app/release.zip', '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY', v1);
    endpoint.putVersion('versioned', 'app/release.zip', 'null-after-overwrite-Zz9', v2);
    const outcome = await run(cloudTrailRecord({ account: OWN, bucket: 'versioned', key: 'app/release.zip', versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' }));
    expect(outcome.kind).to.equal('scanned');
    if (outcome.kind !== 'scanned') return;
    const get = endpoint.requests.filter((r) => r.method === 'GET' && r.path === '/versioned/app/release.zip');
    expect(get.map((r) => r.query.versionId)).to.deep.equal(['3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY']);
    const result = storedResult(outcome.resultKey);
    expect(result.target.object?.versionId).to.equal('3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY');
    expect(result.vulnerabilities.map((v) => [v.package, v.installedVersion])).to.deep.equal([['requests', '2.19.1']]);
  });

  it('folds every record with findings into findings once, a cache hit\'s own record included; a skipped record never', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }, { name: 'README', data: 'fold check' }]);
    endpoint.putVersion('fold-a', 'one.zip', 'v-fold-1', bytes);
    endpoint.putVersion('fold-b', 'two.zip', 'v-fold-2', bytes);
    const before = folded.length;
    const first = await run(cloudTrailRecord({ account: OWN, bucket: 'fold-a', key: 'one.zip', versionId: 'v-fold-1' }));
    const second = await run(cloudTrailRecord({ account: OWN, bucket: 'fold-b', key: 'two.zip', versionId: 'v-fold-2' }));
    const gone = await run(cloudTrailRecord({ account: OWN, bucket: 'fold-b', key: 'two.zip', versionId: 'v-missing' }));
    expect([first.kind, second.kind, gone.kind], JSON.stringify(second)).to.deep.equal(['scanned', 'cache-hit', 'skipped']);
    if (first.kind !== 'scanned' || second.kind !== 'cache-hit') return;
    expect(folded.slice(before)).to.deep.equal([
      { resultKey: first.resultKey, status: 'COMPLETED', reused: false, vulnerabilities: ['requests'] },
      { resultKey: second.resultKey, status: 'COMPLETED', reused: true, vulnerabilities: ['requests'] },
    ]);
  });

  it('a version deleted before it was read is skipped as gone (NoSuchVersion)', async () => {
    const outcome = await run(cloudTrailRecord({ account: OWN, bucket: 'versioned', key: 'app/release.zip', versionId: 'deleted-version-1' }));
    expect(outcome).to.deep.include({ kind: 'skipped', code: 'OBJECT_GONE' });
  });

  it('AccessDenied is a FAILED record with the reason, not retried', async () => {
    endpoint.deny('locked', 'secret/plans.zip');
    const outcome = await run(cloudTrailRecord({ account: OWN, bucket: 'locked', key: 'secret/plans.zip' }));
    expect(outcome).to.deep.include({ kind: 'failed', code: 'ACCESS_DENIED', permanent: true });
    if (outcome.kind !== 'failed') return;
    const result = storedResult(outcome.resultKey!);
    expect(result.status).to.equal('FAILED');
    expect(result.error?.message).to.match(/^GetObject denied \(AccessDenied\)/);
  });

  it('an account with no reader role is a FAILED record naming what to configure', async () => {
    const outcome = await run(cloudTrailRecord({ account: '999999999999', bucket: 'elsewhere', key: 'x.zip' }));
    expect(outcome).to.deep.include({ kind: 'failed', code: 'ACCOUNT_NOT_CONFIGURED', permanent: true });
  });

  it('streams a 2 GiB object generated on the fly through the SDK and the spool: right hash, peak RSS under 256 MiB', async () => {
    const size = 2 * 1024 ** 3;
    endpoint.generate('big', 'disk-image.bin', patternObject(size));
    const expected = patternSha256(size);
    const { stdout } = await execFileAsync(
      process.execPath,
      ['--import', 'tsx', path.join(__dirname, 'support', 'stream-child.ts'), endpoint.endpoint, 'big', 'disk-image.bin', path.join(workDir, 'big.bin')],
      { maxBuffer: 1024 * 1024 },
    );
    const measured = JSON.parse(stdout.trim()) as { sha256: string; size: number; seconds: number; peakRssMiB: number };
    expect(measured.size).to.equal(size);
    expect(measured.sha256).to.equal(expected);
    expect(measured.peakRssMiB, `peak RSS ${measured.peakRssMiB.toFixed(0)} MiB`).to.be.below(256);
  });
});
