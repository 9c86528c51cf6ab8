/**
 * Object scanning benchmark (aws.artifacts):
 * 1. Throughput: an object generated on the fly by the minimal local S3 endpoint (test/support/object-endpoint.ts)
 *    is read through the SDK in a child process (test/artifacts/support/stream-child.ts) either into a bare SHA-256
 *    (the baseline: nothing else done with the bytes) or through the scanner's spool (SHA-256 + MIME head + write
 *    to ephemeral storage in one pass), alternating, several rounds; MiB/s of each (median) and their ratio
 *    (goal: the spool at least 80 % of the bare hash, measured in the same run).
 * 2. Peak RSS of the spool path for a 2 GiB object (goal under 256 MiB), the child's own maxRSS.
 * 3. A burst of 1,000 uploads, 30 % of them repeating the content of another upload, on the embedded stack
 *    (s3rver, dynalite, fake qscanner; the object scanner handler built as in Lambda): 5 concurrent invocations of
 *    up to 10 records (the default maxConcurrency and batch size), shuffled with a fixed seed, records handed back
 *    for later redelivered after the delay. Duplicate scans: scans beyond one per distinct content (goal 0); every
 *    upload must end with its own record.
 * Writes objects.json (into bench/results/ with `npm run bench -- objects --write`).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import type { ObjectOutcome } from '../functions/aws/artifacts/object-pipeline';
import { LOCAL_ACCOUNT, startLocalAwsStack } from '../local/stack/aws-stack';
import { mulberry32 } from '../local/qualys-sim/random';
import { putObjectSample, s3WriteRecordVariant } from '../local/demo/objects';
import { renderTable } from '../local/start/table';
import { patternObject, patternSha256, startObjectEndpoint } from '../test/support/object-endpoint';
import { resultsFile } from './support/results';

// The SDK's notice about future Node versions is not part of the measurement.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const execFileAsync = promisify(execFile);
const STREAM_CHILD = path.resolve(__dirname, '..', 'test', 'artifacts', 'support', 'stream-child.ts');
const MiB = 1024 * 1024;
const THROUGHPUT_BYTES = 256 * MiB;
const THROUGHPUT_ROUNDS = 7;
const BIG_BYTES = 2 * 1024 * MiB;
const UPLOADS = 1000;
const REPEATED_SHARE = 0.3;
const CONCURRENCY = 5;
const BATCH = 10;
const MAX_DELIVERIES = 10;

interface ChildMeasure {
  sha256: string;
  size: number;
  seconds: number;
  peakRssMiB: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const round = (value: number, digits = 1) => Number(value.toFixed(digits));

async function streamChild(endpoint: string, key: string, spoolFile: string, hashOnly: boolean): Promise<ChildMeasure> {
  const args = ['--import', 'tsx', STREAM_CHILD, endpoint, 'bench', key, spoolFile, ...(hashOnly ? ['--hash-only'] : [])];
  const { stdout } = await execFileAsync(process.execPath, args, { maxBuffer: MiB, env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' } });
  return JSON.parse(stdout.trim()) as ChildMeasure;
}

async function streaming(workDir: string) {
  const endpoint = await startObjectEndpoint();
  try {
    endpoint.generate('bench', 'throughput.bin', patternObject(THROUGHPUT_BYTES));
    endpoint.generate('bench', 'big.bin', patternObject(BIG_BYTES));
    const expected = patternSha256(THROUGHPUT_BYTES);
    const hashRates: number[] = [];
    const spoolRates: number[] = [];
    // One unrecorded pair first: the endpoint's first blocks, the disk cache and the SDK's first request warm up.
    for (const hashOnly of [true, false]) await streamChild(endpoint.endpoint, 'throughput.bin', path.join(workDir, 'throughput.spool'), hashOnly);
    for (let i = 0; i < THROUGHPUT_ROUNDS; i += 1) {
      // Alternating (and swapping which goes first) so that neither path gets the quieter moments of a shared machine.
      const order = i % 2 === 0 ? [true, false] : [false, true];
      for (const hashOnly of order) {
        const measured = await streamChild(endpoint.endpoint, 'throughput.bin', path.join(workDir, 'throughput.spool'), hashOnly);
        if (measured.sha256 !== expected || measured.size !== THROUGHPUT_BYTES) throw new Error(`wrong bytes: ${measured.sha256} ${measured.size}`);
        (hashOnly ? hashRates : spoolRates).push(THROUGHPUT_BYTES / MiB / measured.seconds);
      }
      console.log(`round ${i + 1}/${THROUGHPUT_ROUNDS}: bare SHA-256 ${hashRates.at(-1)!.toFixed(0)} MiB/s, hash + spool ${spoolRates.at(-1)!.toFixed(0)} MiB/s`);
    }
    console.log('2 GiB object through the spool...');
    const big = await streamChild(endpoint.endpoint, 'big.bin', path.join(workDir, 'big.spool'), false);
    if (big.sha256 !== patternSha256(BIG_BYTES) || big.size !== BIG_BYTES) throw new Error('2 GiB object: wrong bytes');
    const bareHashMiBps = median(hashRates);
    const spoolMiBps = median(spoolRates);
    return {
      throughput: {
        objectMiB: THROUGHPUT_BYTES / MiB,
        rounds: THROUGHPUT_ROUNDS,
        bareSha256MiBps: round(bareHashMiBps),
        hashAndSpoolMiBps: round(spoolMiBps),
        spoolShareOfBareHash: round(spoolMiBps / bareHashMiBps, 3),
        goalShare: 0.8,
        samples: { bareSha256: hashRates.map((r) => round(r)), hashAndSpool: spoolRates.map((r) => round(r)) },
      },
      twoGiB: { bytes: BIG_BYTES, seconds: round(big.seconds, 2), MiBps: round(BIG_BYTES / MiB / big.seconds), peakRssMiB: round(big.peakRssMiB), goalPeakRssMiB: 256 },
    };
  } finally {
    await endpoint.stop();
  }
}

/** Deterministic shuffle with the simulator's seeded source, so runs are comparable. */
function shuffle<T>(items: T[], seed: number): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

async function burst() {
  const random = mulberry32(20261203);
  const distinct = Math.round(UPLOADS * (1 - REPEATED_SHARE));
  // Each distinct content is a requirements file the fake qscanner reads (one known-vulnerable pin), made unique by a comment.
  const contents = Array.from({ length: distinct }, (_, i) => `# build ${i}\nrequests==2.19.1\n`);
  const uploads = Array.from({ length: UPLOADS }, (_, i) => {
    const content = i < distinct ? i : Math.floor(random() * distinct);
    // A second account for a third of the uploads: the content cache spans accounts.
    const account = i % 3 === 0 ? '210987654321' : LOCAL_ACCOUNT;
    return { account, bucket: `burst-${i % 7}`, key: `builds/${i}/requirements.txt`, content };
  });
  const stack = await startLocalAwsStack({ objectEnv: { RETRY_DELAY_SEC: '1' } });
  const outcomes: ObjectOutcome[] = [];
  let deliveries = 0;
  let redeliveries = 0;
  let invocations = 0;
  let wallSec = 0;
  try {
    const putStart = performance.now();
    for (const upload of uploads) await stack.putObject(upload.bucket, upload.key, contents[upload.content]!);
    const putSec = (performance.now() - putStart) / 1000;
    console.log(`${UPLOADS} objects put in s3rver in ${putSec.toFixed(1)} s; replaying ${UPLOADS} PutObject events`);
    const sample = putObjectSample();
    let queue = shuffle(uploads, 20261204).map((u) => ({ body: s3WriteRecordVariant(sample, { account: u.account, region: 'us-east-1', bucket: u.bucket, key: u.key }), delivery: 1 }));
    const started = performance.now();
    while (queue.length > 0) {
      const later: typeof queue = [];
      const batches: (typeof queue)[] = [];
      for (let i = 0; i < queue.length; i += BATCH) batches.push(queue.slice(i, i + BATCH));
      // CONCURRENCY invocations at a time, as the event source mapping's maximum concurrency allows.
      let next = 0;
      const worker = async () => {
        while (next < batches.length) {
          const batch = batches[next++]!;
          invocations += 1;
          const delivery = Math.max(...batch.map((b) => b.delivery));
          const result = await stack.invokeObjects(batch.map((b) => b.body), delivery);
          deliveries += batch.length;
          result.outcomes.forEach(({ outcomes: found }, index) => {
            const input = batch[index]!;
            if (found.some((o) => o.kind === 'retry-later') && input.delivery < MAX_DELIVERIES) later.push({ body: input.body, delivery: input.delivery + 1 });
            else outcomes.push(...found);
          });
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      if (later.length > 0) {
        redeliveries += later.length;
        // The visibility timeout the handler set (RETRY_DELAY_SEC), as SQS would wait before the next delivery.
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      queue = later;
    }
    wallSec = (performance.now() - started) / 1000;
  } finally {
    await stack.stop();
  }
  const kinds: Record<string, number> = {};
  for (const o of outcomes) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  const scannedBySha = new Map<string, number>();
  for (const o of outcomes) if (o.kind === 'scanned') scannedBySha.set(o.object.sha256!, (scannedBySha.get(o.object.sha256!) ?? 0) + 1);
  const scans = [...scannedBySha.values()].reduce((a, b) => a + b, 0);
  const recorded = outcomes.filter((o) => o.kind === 'scanned' || o.kind === 'cache-hit').length;
  return {
    uploads: UPLOADS,
    repeatedShare: REPEATED_SHARE,
    distinctContents: new Set(uploads.map((u) => u.content)).size,
    concurrency: CONCURRENCY,
    batchSize: BATCH,
    outcomes: kinds,
    recordsWritten: recorded,
    scans,
    distinctContentsScanned: scannedBySha.size,
    duplicateScans: scans - scannedBySha.size,
    goalDuplicateScans: 0,
    deliveries,
    redeliveries,
    invocations,
    wallSec: round(wallSec, 2),
    uploadsPerSec: round(UPLOADS / wallSec),
  };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'shipscan-bench-objects-'));
  try {
    const streamed = await streaming(workDir);
    console.log(renderTable(['measure', 'value'], [
      ['bare SHA-256 stream (median MiB/s)', String(streamed.throughput.bareSha256MiBps)],
      ['hash + MIME + spool (median MiB/s)', String(streamed.throughput.hashAndSpoolMiBps)],
      ['spool share of the bare hash (goal >= 0.8)', String(streamed.throughput.spoolShareOfBareHash)],
      ['2 GiB object: peak RSS MiB (goal < 256)', String(streamed.twoGiB.peakRssMiB)],
    ]));
    const uploads = await burst();
    console.log(renderTable(['burst', 'value'], [
      ['uploads (30 % repeated content)', String(uploads.uploads)],
      ['distinct contents / scanned', `${uploads.distinctContents} / ${uploads.distinctContentsScanned}`],
      ['duplicate scans (goal 0)', String(uploads.duplicateScans)],
      ['records written', String(uploads.recordsWritten)],
      ['outcomes', JSON.stringify(uploads.outcomes)],
      ['wall s, uploads/s', `${uploads.wallSec}, ${uploads.uploadsPerSec}`],
    ]));
    const result = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`,
      ...streamed,
      burst: uploads,
    };
    const file = resultsFile('objects.json');
    writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${file}`);
    const missed = [
      result.throughput.spoolShareOfBareHash < 0.8 ? `spool at ${result.throughput.spoolShareOfBareHash} of the bare hash` : '',
      result.twoGiB.peakRssMiB >= 256 ? `peak RSS ${result.twoGiB.peakRssMiB} MiB` : '',
      uploads.duplicateScans > 0 ? `${uploads.duplicateScans} duplicate scans` : '',
      uploads.recordsWritten !== UPLOADS ? `${uploads.recordsWritten} records for ${UPLOADS} uploads` : '',
    ].filter(Boolean);
    if (missed.length > 0) console.log(`goals missed: ${missed.join('; ')}`);
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
