import { expect } from 'chai';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { ObjectOutcome } from '../../functions/aws/artifacts/object-pipeline';
import { parseScanResult, type ScanResult } from '../../shared/scan-result';
import { s3ClientOptions } from '../../local/emulators/s3rver';
import { LOCAL_ACCOUNT, LOCAL_OBJECT_ROLE, RESULTS_BUCKET, startLocalAwsStack, type LocalAwsStack } from '../../local/stack/aws-stack';
import { PLANTED_AWS_KEY, PLANTED_PRIVATE_KEY, VULNERABLE_REQUIREMENTS, vulnerableAppZip, zipOf, zipWithRawName } from './support/archives';
import { cloudTrailEnvelope, cloudTrailRecord, notificationRecord, objectCreated } from './support/events';

const OTHER_ACCOUNT = '222222222222';

/**
 * The object scanner on the embedded stack with real bytes: s3rver holds the objects, dynalite the content cache,
 * the fake qscanner reads the extracted tree. Handler logs are captured to check no secret value is ever written.
 */
describe('object scanner on s3rver (functions/aws/artifacts)', function () {
  this.timeout(180_000);
  let stack: LocalAwsStack;
  let s3: S3Client;
  const logs: string[] = [];
  const qscannerLog = path.join(os.tmpdir(), `shipscan-fake-qscanner-objects-${process.pid}.log`);
  const originalWrite = { out: process.stdout.write.bind(process.stdout), err: process.stderr.write.bind(process.stderr) };

  before(async () => {
    process.env.FAKE_QSCANNER_LOG = qscannerLog;
    writeFileSync(qscannerLog, '');
    stack = await startLocalAwsStack({ logLevel: 'DEBUG', objectEnv: { EXCLUDE_PREFIXES: JSON.stringify(['tmp/']), EXCLUDED_MIME_TYPES: 'application/pdf' } });
    s3 = new S3Client(s3ClientOptions(stack.s3Endpoint));
  });
  after(async () => {
    s3?.destroy();
    await stack?.stop();
    delete process.env.FAKE_QSCANNER_LOG;
    rmSync(qscannerLog, { force: true });
  });

  /** Runs the handler with its log lines captured (and kept out of mocha's output). */
  async function invoke(bodies: unknown[], receiveCount = 1) {
    const capture = (chunk: unknown) => {
      logs.push(String(chunk));
      return true;
    };
    process.stdout.write = capture as typeof process.stdout.write;
    process.stderr.write = capture as typeof process.stderr.write;
    try {
      return await stack.invokeObjects(bodies, receiveCount);
    } finally {
      process.stdout.write = originalWrite.out;
      process.stderr.write = originalWrite.err;
    }
  }

  async function one(body: unknown, receiveCount = 1): Promise<{ outcome: ObjectOutcome; failures: number }> {
    const { outcomes, response } = await invoke([body], receiveCount);
    expect(outcomes[0]?.outcomes, 'one object per message').to.have.length(1);
    return { outcome: outcomes[0]!.outcomes[0]!, failures: response.batchItemFailures.length };
  }

  async function stored(resultKey: string): Promise<ScanResult> {
    const object = await s3.send(new GetObjectCommand({ Bucket: RESULTS_BUCKET, Key: resultKey }));
    const text = await object.Body!.transformToString();
    for (const secret of [PLANTED_AWS_KEY, 'MIIBOgIBAAJBAKj34GkxFhD90vcN']) expect(text, 'a secret value in a stored result').not.to.include(secret);
    return parseScanResult(JSON.parse(text));
  }

  function qscannerRuns(): number {
    return readFileSync(qscannerLog, 'utf8').split('\n').filter((line) => line.includes('"scenario":"repo"')).length;
  }

  it('scans an uploaded archive: vulnerable packages (lockfile, jar inside) and the planted key by type and file, never its value', async () => {
    await stack.putObject('team-uploads', 'releases/shop-web-1.4.zip', await vulnerableAppZip());
    const { outcome, failures } = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'releases/shop-web-1.4.zip' }));
    expect(failures).to.equal(0);
    expect(outcome.kind).to.equal('scanned');
    if (outcome.kind !== 'scanned') return;
    expect(outcome.resultKey).to.match(new RegExp(`^results/objects/${LOCAL_ACCOUNT}/team-uploads/[a-f0-9]{64}/[^/]+\\.json$`));
    const result = await stored(outcome.resultKey);
    expect(result.status).to.equal('COMPLETED');
    expect(result.target.kind).to.equal('object');
    expect(result.target.object).to.deep.include({ bucket: 'team-uploads', key: 'releases/shop-web-1.4.zip', mime: 'application/zip', account: LOCAL_ACCOUNT, region: 'us-east-1' });
    expect(result.vulnerabilities.map((v) => [v.package, v.installedVersion, v.cves[0]])).to.have.deep.members([
      ['lodash', '4.17.15', 'CVE-2020-8203'],
      ['org.apache.logging.log4j:log4j-core', '2.14.1', 'CVE-2021-44228'],
    ]);
    expect(result.secrets?.findings).to.deep.equal([{ id: 'secret/aws-access-key-id', title: 'AWS Access Key ID', severity: 'CRITICAL', location: 'app/config/settings.env:2' }]);
    expect(logs.join('')).not.to.include(PLANTED_AWS_KEY);
  });

  it('one content uploaded in two accounts: one scan, two records (the second points at the first)', async () => {
    const bytes = await zipOf([{ name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }, { name: 'deploy/id_rsa', data: PLANTED_PRIVATE_KEY }]);
    await stack.putObject('shared-a', 'wheels/app.zip', bytes);
    await stack.putObject('shared-b', 'copies/app (copy).zip', bytes);
    const before = qscannerRuns();
    const first = (await one(cloudTrailEnvelope(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'shared-a', key: 'wheels/app.zip' })))).outcome;
    const second = (await one(cloudTrailEnvelope(cloudTrailRecord({ account: OTHER_ACCOUNT, bucket: 'shared-b', key: 'copies/app (copy).zip' })))).outcome;
    expect(qscannerRuns() - before, 'qscanner runs').to.equal(1);
    expect(first.kind).to.equal('scanned');
    expect(second.kind).to.equal('cache-hit');
    if (first.kind !== 'scanned' || second.kind !== 'cache-hit') return;
    expect(second.reusedScanId).to.equal(first.scanId);
    expect(second.resultKey).to.not.equal(first.resultKey);
    const copy = await stored(second.resultKey);
    expect(copy.target.object).to.deep.include({ bucket: 'shared-b', key: 'copies/app (copy).zip', account: OTHER_ACCOUNT, sha256: first.object.sha256 });
    expect(copy.reusedScan).to.deep.equal({ scanId: first.scanId, resultKey: first.resultKey });
    expect(copy.secrets?.findings.map((s) => [s.id, s.location])).to.deep.equal([['secret/private-key', 'deploy/id_rsa:1']]);
    expect(copy.vulnerabilities.map((v) => v.package)).to.deep.equal(['requests']);
    // The other account was read with the organisation reader role.
    expect(stack.assumedRoles.map((c) => c.input.RoleArn)).to.include(`arn:aws:iam::${OTHER_ACCOUNT}:role/${LOCAL_OBJECT_ROLE}`);
  });

  it('a multipart upload completed (size from the stream, not the event) is scanned', async () => {
    const bytes = await zipOf([{ name: 'package-lock.json', data: JSON.stringify({ lockfileVersion: 1, dependencies: { minimist: { version: '1.2.5' } } }) }]);
    await stack.putObject('team-uploads', 'big/multipart.zip', bytes);
    const { outcome } = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'big/multipart.zip' }, 'CompleteMultipartUpload'));
    expect(outcome.kind).to.equal('scanned');
    if (outcome.kind !== 'scanned') return;
    expect(outcome.object.size).to.equal(bytes.length);
    expect((await stored(outcome.resultKey)).vulnerabilities.map((v) => v.package)).to.deep.equal(['minimist']);
  });

  it('decodes keys with spaces, plus signs and unicode as each source encodes them', async () => {
    const key = 'releases/my app é+1 日本.txt';
    await stack.putObject('keys-bucket', key, `token=${PLANTED_AWS_KEY}\n`);
    const ref = { account: LOCAL_ACCOUNT, bucket: 'keys-bucket', key };
    const percent = encodeURIComponent(key).replace(/%2F/g, '/');
    const form = percent.replace(/%20/g, '+');
    const raw = cloudTrailRecord(ref);
    const { outcomes } = await invoke([raw, objectCreated(ref, percent), notificationRecord(ref, form)]);
    for (const [index, source] of ['CloudTrail (raw key)', 'Object Created (%-encoded, + is a plus)', 'S3 notification (form-encoded, + is a space)'].entries()) {
      const outcome = outcomes[index]!.outcomes[0]!;
      expect(['scanned', 'cache-hit'], source).to.include(outcome.kind);
      if (outcome.kind === 'scanned' || outcome.kind === 'cache-hit') expect(outcome.object.key, source).to.equal(key);
    }
    // The same bytes: scanned once, the other two are cache hits.
    expect(outcomes.map((o) => o.outcomes[0]!.kind).sort()).to.deep.equal(['cache-hit', 'cache-hit', 'scanned']);
    const scanned = outcomes.map((o) => o.outcomes[0]!).find((o) => o.kind === 'scanned');
    if (scanned?.kind !== 'scanned') return;
    const result = await stored(scanned.resultKey);
    expect(result.target.object?.mime).to.equal('text/plain');
    expect(result.secrets?.findings.map((s) => s.location)).to.deep.equal(['my app é+1 日本.txt:1']);
  });

  it('refuses a zip-slip entry and a symlink, scans the rest, and says so in the result', async () => {
    const slip = await zipWithRawName('xx/xx/evil.txt', '../../evil.txt', [
      { name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS },
      { name: 'link-to-etc-passwd', data: '/etc/passwd', mode: 0o120777 },
    ]);
    await stack.putObject('team-uploads', 'hostile/slip.zip', slip);
    const { outcome } = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'hostile/slip.zip' }));
    expect(outcome.kind).to.equal('scanned');
    if (outcome.kind !== 'scanned') return;
    const result = await stored(outcome.resultKey);
    expect(result.status).to.equal('COMPLETED');
    const extraction = (result.raw as { extraction: { refused: { path: string; reason: string }[]; files: number } }).extraction;
    expect(extraction.refused).to.deep.equal([
      { path: 'link-to-etc-passwd', reason: 'symlink not extracted' },
      { path: '../../evil.txt', reason: 'path traversal (..)' },
    ]);
    expect(extraction.files).to.equal(1);
    expect(result.vulnerabilities.map((v) => v.package)).to.deep.equal(['requests']);
  });

  it('stops a zip bomb: PARTIAL with the limit named, nothing written', async () => {
    const bomb = await zipOf([{ name: 'zeros.bin', zeros: 64 * 1024 * 1024 }, { name: 'requirements.txt', data: VULNERABLE_REQUIREMENTS }]);
    await stack.putObject('team-uploads', 'hostile/bomb.zip', bomb);
    const { outcome } = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'hostile/bomb.zip' }));
    expect(outcome.kind).to.equal('scanned');
    if (outcome.kind !== 'scanned') return;
    expect(outcome.status).to.equal('PARTIAL');
    expect(outcome.limit).to.equal('ARCHIVE_RATIO');
    const result = await stored(outcome.resultKey);
    expect(result.error?.code).to.equal('ARCHIVE_RATIO');
    expect((result.raw as { extraction: { bytes: number } }).extraction.bytes).to.equal(0);
  });

  it('an object deleted before it was read is recorded as skipped (object gone) and never retried', async () => {
    await stack.putObject('team-uploads', 'short-lived/report.zip', await zipOf([{ name: 'a.txt', data: 'a' }]));
    await s3.send(new DeleteObjectCommand({ Bucket: 'team-uploads', Key: 'short-lived/report.zip' }));
    const event = cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'short-lived/report.zip' });
    for (const receiveCount of [1, 2]) {
      const { outcome, failures } = await one(event, receiveCount);
      expect(failures, 'handed back for a retry').to.equal(0);
      expect(outcome).to.deep.include({ kind: 'skipped', code: 'OBJECT_GONE' });
      if (outcome.kind !== 'skipped') return;
      const result = await stored(outcome.resultKey!);
      expect(result.status).to.equal('SKIPPED');
      expect(result.skipped?.reason).to.match(/^object gone before it was read \(NoSuchKey\)/);
      expect(outcome.resultKey).to.match(/\/unread\//);
    }
  });

  it('records excluded prefixes and types as skipped with the reason, and ignores the stack\'s own bucket without a record', async () => {
    const prefix = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'tmp/scratch.zip' }));
    expect(prefix.outcome).to.deep.include({ kind: 'skipped', code: 'EXCLUDED_PREFIX', reason: 'key prefix tmp/ is excluded' });
    await stack.putObject('team-uploads', 'docs/handbook.pdf', Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(20_000, 0x20)]));
    const pdf = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'docs/handbook.pdf' }));
    expect(pdf.outcome).to.deep.include({ kind: 'skipped', code: 'EXCLUDED_TYPE', reason: 'type application/pdf is excluded' });
    const own = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: RESULTS_BUCKET, key: 'results/objects/x.json' }));
    expect(own.outcome.kind).to.equal('ignored');
    const large = await one(cloudTrailRecord({ account: LOCAL_ACCOUNT, bucket: 'team-uploads', key: 'huge.iso', size: 10 * 1024 ** 3 }));
    expect(large.outcome).to.deep.include({ kind: 'skipped', code: 'OBJECT_TOO_LARGE' });
  });

  it('never writes a secret value to the logs, the results or the qscanner log', () => {
    const everything = logs.join('') + readFileSync(qscannerLog, 'utf8');
    expect(everything.length).to.be.greaterThan(1000);
    expect(everything).not.to.include(PLANTED_AWS_KEY);
    expect(everything).not.to.include('MIIBOgIBAAJBAKj34GkxFhD90vcN');
  });
});
