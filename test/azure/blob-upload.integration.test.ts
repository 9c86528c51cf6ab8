import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { InvocationContext } from '@azure/functions';
import { blobCreatedEvent, storageAccountId } from '../../local/demo/artifact-events';
import { FAKE_QSCANNER_PATH } from '../../local/fake-qscanner';
import { createAzureApp } from '../../functions/azure/app';
import type { BlobOutcome, BlobUploadOutcome } from '../../functions/azure/artifacts/on-blob-upload';
import { loadSettings } from '../../functions/azure/settings';
import { FUNCTION_NAMES, OBJECT_SCAN_EVENT } from '../../functions/azure/telemetry-names';
import { parseScanResult, type ScanResult } from '../../shared/scan-result';
import { PLANTED_AWS_KEY, PLANTED_PRIVATE_KEY, VULNERABLE_REQUIREMENTS, vulnerableAppZip, zipOf, zipWithRawName } from '../artifacts/support/archives';
import { startStack, SUBSCRIPTION, type AzureStack } from './support/stack';
import { poisonCount, readBlobJson } from './support/inspect';

/**
 * onBlobUpload on Azurite with real bytes: the blobs are uploaded to Azurite (which stands for every watched
 * account), BlobCreated events go through the `blob-uploads` queue and the queue pump, the fake qscanner reads the
 * extracted tree, results land in `scan-results/objects/...` and the content cache in the lock table.
 */
describe('azure blob uploads (onBlobUpload) on Azurite', function () {
  this.timeout(180_000);
  let stack: AzureStack;
  const SHOP = storageAccountId(SUBSCRIPTION, 'rg-data', 'shopuploads');
  const TEAM = storageAccountId(SUBSCRIPTION, 'rg-team', 'teamdrops');
  const qscannerLog = path.join(os.tmpdir(), `shipscan-fake-qscanner-blobs-${process.pid}.log`);
  const MARKER = 'MIIBOgIBAAJBAKj34GkxFhD90vcN';

  before(async () => {
    process.env.FAKE_QSCANNER_LOG = qscannerLog;
    writeFileSync(qscannerLog, '');
    stack = await startStack({
      env: {
        BLOB_UPLOADS_QUEUE: 'blob-uploads',
        ARTIFACT_STORAGE_ACCOUNTS: 'shopuploads,teamdrops',
        ARTIFACT_CONTAINERS_EXCLUDE: 'scratch',
        QSCANNER_PATH: FAKE_QSCANNER_PATH,
        // Any token satisfies the fake qscanner; it reaches the child by env only.
        QUALYS_ACCESS_TOKEN: 'local-qscanner-token-0123456789',
      },
      pumpFunctions: [FUNCTION_NAMES.onBlobUpload],
    });
  });
  after(async () => {
    await stack?.stop();
    delete process.env.FAKE_QSCANNER_LOG;
    rmSync(qscannerLog, { force: true });
  });

  async function upload(container: string, name: string, bytes: Buffer | string): Promise<number> {
    const client = stack.blobs.getContainerClient(container);
    await client.createIfNotExists();
    const body = typeof bytes === 'string' ? Buffer.from(bytes) : bytes;
    await client.getBlockBlobClient(name).upload(body, body.length);
    return body.length;
  }

  /** Enqueues the events as Event Grid's Storage Queue delivery does and returns each one's outcome. */
  async function deliver(...events: unknown[]): Promise<BlobOutcome[]> {
    const queue = stack.queues.getQueueClient('blob-uploads');
    const ids: string[] = [];
    for (const event of events) ids.push((await queue.sendMessage(Buffer.from(JSON.stringify(event)).toString('base64'))).messageId);
    await stack.pump.drain(120_000);
    return ids.map((id) => {
      const done = stack.pump.invocations.filter((i) => i.messageId === id && i.ok);
      expect(done, `one completed invocation of message ${id}: ${JSON.stringify(stack.pump.invocations.filter((i) => i.messageId === id))}`).to.have.length(1);
      const result = done[0]!.result as BlobUploadOutcome;
      expect(result.blobs).to.have.length(1);
      return result.blobs[0]!;
    });
  }

  async function stored(resultPath: string): Promise<ScanResult> {
    const json = await readBlobJson(stack, resultPath);
    const text = JSON.stringify(json);
    for (const secret of [PLANTED_AWS_KEY, MARKER]) expect(text, 'a secret value in a stored result').not.to.include(secret);
    return parseScanResult(json);
  }

  const repoRuns = () => readFileSync(qscannerLog, 'utf8').split('\n').filter((line) => line.includes('"scenario":"repo"')).length;

  it('scans an uploaded archive read with the reader (Event Grid schema, a name with spaces and unicode): vulnerable packages and the planted key by type and file', async () => {
    const name = 'releases/shop web 1.4 é 日本.zip';
    const size = await upload('releases', name.slice('releases/'.length), await vulnerableAppZip());
    const [outcome] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: name.slice('releases/'.length), size }));
    expect(outcome!.kind, JSON.stringify(outcome)).to.equal('scanned');
    if (outcome!.kind !== 'scanned') return;
    expect(outcome.resultPath).to.match(/^objects\/shopuploads\/releases\/[a-f0-9]{64}\/[^/]+\.json$/);
    const result = await stored(outcome.resultPath);
    expect(result.status).to.equal('COMPLETED');
    expect(result.target).to.deep.include({ cloud: 'azure', kind: 'object' });
    expect(result.target.object).to.deep.include({ bucket: 'shopuploads/releases', key: 'shop web 1.4 é 日本.zip', mime: 'application/zip', size, account: SUBSCRIPTION });
    expect(result.target.object?.sha256).to.match(/^[a-f0-9]{64}$/);
    expect(result.vulnerabilities.map((v) => [v.package, v.installedVersion, v.cves[0]])).to.have.deep.members([
      ['lodash', '4.17.15', 'CVE-2020-8203'],
      ['org.apache.logging.log4j:log4j-core', '2.14.1', 'CVE-2021-44228'],
    ]);
    expect(result.secrets?.findings).to.deep.equal([{ id: 'secret/aws-access-key-id', title: 'AWS Access Key ID', severity: 'CRITICAL', location: 'app/config/settings.env:2' }]);
    const event = stack.telemetry.events.find((e) => e.name === OBJECT_SCAN_EVENT && e.properties.ScanId === outcome.scanId);
    expect(event?.properties).to.include({ Outcome: 'Scanned', Status: 'COMPLETED', Account: 'shopuploads', Container: 'releases', Mime: 'application/zip', Secrets: '1' });
  });

  it('one content uploaded in two accounts (CloudEvents for the second): one scan, two records, the second names the first', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }, { name: 'deploy/id_rsa', data: PLANTED_PRIVATE_KEY }]);
    await upload('wheels', 'app.zip', bytes);
    await upload('copies', 'app (copy).zip', bytes);
    const before = repoRuns();
    const [first] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'wheels', blob: 'app.zip', size: bytes.length }));
    const [second] = await deliver(blobCreatedEvent({ accountId: TEAM, container: 'copies', blob: 'app (copy).zip', size: bytes.length, schema: 'cloudevents' }));
    expect(repoRuns() - before, 'qscanner runs').to.equal(1);
    expect([first!.kind, second!.kind]).to.deep.equal(['scanned', 'cache-hit']);
    if (first!.kind !== 'scanned' || second!.kind !== 'cache-hit') return;
    expect(second.reusedScanId).to.equal(first.scanId);
    const copy = await stored(second.resultPath);
    expect(copy.target.object).to.deep.include({ bucket: 'teamdrops/copies', key: 'app (copy).zip', sha256: first.object.sha256 });
    expect(copy.reusedScan).to.deep.equal({ scanId: first.scanId, resultKey: first.resultPath });
    expect(copy.secrets?.findings.map((s) => [s.id, s.location])).to.deep.equal([['secret/private-key', 'deploy/id_rsa:1']]);
    expect(copy.vulnerabilities.map((v) => v.package)).to.deep.equal(['requests']);
  });

  it('a duplicate delivery of one event adds no second record and no second scan', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: 'urllib3==1.24.1\n' }]);
    await upload('releases', 'dup/once.zip', bytes);
    const event = blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: 'dup/once.zip', size: bytes.length });
    const before = repoRuns();
    const [first] = await deliver(event);
    const [again] = await deliver(event);
    expect([first!.kind, again!.kind]).to.deep.equal(['scanned', 'duplicate']);
    expect(repoRuns() - before).to.equal(1);
  });

  it('a burst of one content in six blobs delivered at once: one scan, the others wait for it and reuse it', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: 'jinja2==2.10\n' }, { name: 'burst.txt', data: 'burst' }]);
    const names = [0, 1, 2, 3, 4, 5].map((i) => `burst/copy-${i}.zip`);
    for (const name of names) await upload('releases', name, bytes);
    const before = repoRuns();
    const first = stack.pump.invocations.length;
    const queue = stack.queues.getQueueClient('blob-uploads');
    await Promise.all(names.map((name) => queue.sendMessage(Buffer.from(JSON.stringify(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: name, size: bytes.length }))).toString('base64'))));
    await stack.pump.drain(120_000);
    // A blob that found the scan in flight was put back on the queue (a message of its own) and reused it later.
    const all = stack.pump.invocations.slice(first).flatMap((i) => (i.ok ? (i.result as BlobUploadOutcome).blobs : []));
    const outcomes = all.filter((o) => o.kind !== 'retry-later');
    expect(stack.pump.invocations.slice(first).filter((i) => !i.ok)).to.deep.equal([]);
    expect(repoRuns() - before, 'qscanner runs').to.equal(1);
    expect(outcomes.map((o) => o.kind).sort()).to.deep.equal(['cache-hit', 'cache-hit', 'cache-hit', 'cache-hit', 'cache-hit', 'scanned']);
    const scanned = outcomes.find((o) => o.kind === 'scanned');
    for (const o of outcomes) if (o.kind === 'cache-hit' && scanned?.kind === 'scanned') expect(o.reusedScanId).to.equal(scanned.scanId);
  });

  it('refuses a zip-slip entry and a symlink, scans the rest, and says so in the result', async () => {
    const slip = await zipWithRawName('xx/xx/evil.txt', '../../evil.txt', [
      { name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS.replace('2.19.1', '2.19.0') },
      { name: 'link-to-etc-passwd', data: '/etc/passwd', mode: 0o120777 },
    ]);
    await upload('hostile', 'slip.zip', slip);
    const [outcome] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'hostile', blob: 'slip.zip', size: slip.length }));
    expect(outcome!.kind, JSON.stringify(outcome)).to.equal('scanned');
    if (outcome!.kind !== 'scanned') return;
    const result = await stored(outcome.resultPath);
    expect(result.status).to.equal('COMPLETED');
    const extraction = (result.raw as { extraction: { refused: { path: string; reason: string }[]; files: number } }).extraction;
    expect(extraction.refused).to.deep.equal([
      { path: 'link-to-etc-passwd', reason: 'symlink not extracted' },
      { path: '../../evil.txt', reason: 'path traversal (..)' },
    ]);
    expect(extraction.files).to.equal(1);
  });

  it('stops a zip bomb: PARTIAL with the limit named, nothing written', async () => {
    const bomb = await zipOf([{ name: 'zeros.bin', zeros: 64 * 1024 * 1024 }, { name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }]);
    await upload('hostile', 'bomb.zip', bomb);
    const [outcome] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'hostile', blob: 'bomb.zip', size: bomb.length }));
    expect(outcome!.kind, JSON.stringify(outcome)).to.equal('scanned');
    if (outcome!.kind !== 'scanned') return;
    expect(outcome.status).to.equal('PARTIAL');
    expect(outcome.limit).to.equal('ARCHIVE_RATIO');
    const result = await stored(outcome.resultPath);
    expect(result.error?.code).to.equal('ARCHIVE_RATIO');
    expect((result.raw as { extraction: { bytes: number } }).extraction.bytes).to.equal(0);
  });

  it('a blob deleted before it was read is recorded as skipped (object gone), once, and the message is not retried', async () => {
    await upload('releases', 'short-lived.zip', await zipOf([{ name: 'a.txt', data: 'a' }]));
    await stack.blobs.getContainerClient('releases').getBlobClient('short-lived.zip').delete();
    const [outcome] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: 'short-lived.zip', size: 120 }));
    expect(outcome).to.deep.include({ kind: 'skipped', code: 'OBJECT_GONE' });
    if (outcome!.kind !== 'skipped') return;
    expect(outcome.resultPath).to.match(/^objects\/shopuploads\/releases\/unread\//);
    const result = await stored(outcome.resultPath);
    expect(result.status).to.equal('SKIPPED');
    expect(result.skipped?.reason).to.match(/^blob gone before it was read \(BlobNotFound\)/);
    expect(stack.pump.invocations.filter((i) => !i.ok)).to.deep.equal([]);
    expect(await poisonCount(stack, 'blob-uploads')).to.equal(0);
  });

  it('leaves unwatched accounts and excluded containers alone without a record, and records a blob above the size limit as skipped unread', async () => {
    const [other] = await deliver(blobCreatedEvent({ accountId: storageAccountId(SUBSCRIPTION, 'rg-x', 'somebodyelse'), container: 'releases', blob: 'x.zip', size: 10 }));
    expect(other).to.deep.equal({ kind: 'ignored', reason: 'storage account somebodyelse is not watched (azure.artifacts.storageAccounts)' });
    const [scratch] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'scratch', blob: 'x.zip', size: 10 }));
    expect(scratch).to.deep.equal({ kind: 'ignored', reason: 'container scratch is excluded' });
    const [large] = await deliver(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: 'huge.iso', size: 10 * 1024 ** 3 }));
    expect(large).to.deep.include({ kind: 'skipped', code: 'OBJECT_TOO_LARGE' });
    const [malformed] = await deliver({ id: 'x', eventType: 'Microsoft.Storage.BlobCreated', subject: 'nope', data: {}, topic: SHOP, eventTime: new Date().toISOString(), dataVersion: '', metadataVersion: '1' });
    expect(malformed!.kind).to.equal('malformed');
  });

  it('without a QScanner package: hashed, typed and recorded SKIPPED (NO_ENGINE)', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }]);
    await upload('releases', 'no-engine.zip', bytes);
    const settings = loadSettings({ AzureWebJobsStorage: stack.azurite.connectionString, QUALYS_GATEWAY: stack.sim.url, QUALYS_USERNAME: 'u', QUALYS_PASSWORD: 'p', BLOB_UPLOADS_QUEUE: 'blob-uploads-plain', ARTIFACT_STORAGE_ACCOUNTS: 'shopuploads' });
    const app = createAzureApp(settings, { telemetry: stack.telemetry });
    const handler = app.functions.find((f) => f.name === FUNCTION_NAMES.onBlobUpload)!.handler;
    const context = new InvocationContext({ invocationId: 'inv-no-engine', functionName: FUNCTION_NAMES.onBlobUpload, triggerMetadata: { id: 'msg-no-engine', dequeueCount: 1 }, logHandler: () => undefined });
    const out = (await handler(Buffer.from(JSON.stringify(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: 'no-engine.zip', size: bytes.length }))).toString('base64'), context)) as BlobUploadOutcome;
    await app.dispose();
    const outcome = out.blobs[0]!;
    expect(outcome).to.deep.include({ kind: 'skipped', code: 'NO_ENGINE' });
    if (outcome.kind !== 'skipped') return;
    const result = await stored(outcome.resultPath);
    expect(result.skipped?.reason).to.match(/^not scanned: no engine/);
    expect(result.target.object).to.deep.include({ mime: 'application/zip', size: bytes.length });
    expect(result.target.object?.sha256).to.equal(createHash('sha256').update(bytes).digest('hex'));
  });

  it('runs a packaged QScanner (a path relative to the app root, not executable there) from an executable copy', async () => {
    const root = mkdtempSync(path.join(os.tmpdir(), 'shipscan-wwwroot-'));
    mkdirSync(path.join(root, 'qscanner'));
    // As a package file arrives: mode 0644. Spawned as it is, it would fail with EACCES ("could not start").
    writeFileSync(path.join(root, 'qscanner', 'qscanner'), '#!/bin/sh\necho "packaged scanner ran" >&2\nexit 3\n', { mode: 0o644 });
    const bytes = await zipOf([{ name: 'requirements.txt', data: 'pyyaml==5.3\n' }]);
    await upload('releases', 'packaged.zip', bytes);
    process.env.AzureWebJobsScriptRoot = root;
    try {
      const settings = loadSettings({ AzureWebJobsStorage: stack.azurite.connectionString, QUALYS_GATEWAY: stack.sim.url, QUALYS_ACCESS_TOKEN: 'packaged-token-value', BLOB_UPLOADS_QUEUE: 'blob-uploads-packaged', ARTIFACT_STORAGE_ACCOUNTS: 'shopuploads', QSCANNER_PATH: 'qscanner/qscanner' });
      const app = createAzureApp(settings, { telemetry: stack.telemetry });
      const handler = app.functions.find((f) => f.name === FUNCTION_NAMES.onBlobUpload)!.handler;
      const context = new InvocationContext({ invocationId: 'inv-packaged', functionName: FUNCTION_NAMES.onBlobUpload, triggerMetadata: { id: 'msg-packaged', dequeueCount: 1 }, logHandler: () => undefined });
      const out = (await handler(JSON.stringify(blobCreatedEvent({ accountId: SHOP, container: 'releases', blob: 'packaged.zip', size: bytes.length })), context)) as BlobUploadOutcome;
      await app.dispose();
      expect(out.blobs[0]).to.deep.include({ kind: 'failed', code: 'QSCANNER_EXIT_3' });
      expect(out.blobs[0]!.kind === 'failed' && out.blobs[0]!.reason).to.match(/^qscanner exited with code 3\npackaged scanner ran/);
    } finally {
      delete process.env.AzureWebJobsScriptRoot;
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('never writes a secret value to the handler logs, the telemetry or the qscanner log', () => {
    const everything = stack.logs.join('\n') + JSON.stringify(stack.telemetry.events) + readFileSync(qscannerLog, 'utf8');
    expect(everything.length).to.be.greaterThan(1000);
    for (const secret of [PLANTED_AWS_KEY, MARKER, 'local-qscanner-token-0123456789']) expect(everything).not.to.include(secret);
  });
});
