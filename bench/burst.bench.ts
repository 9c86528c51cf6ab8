/**
 * Burst benchmark on the embedded stack (the same handlers and wiring as `npm start`): a mass
 * deployment of 1,000 events — 400 Lambda CreateFunction events over 120 distinct code hashes and
 * 600 container deployments (ACI/ACA) over 60 distinct images — every event delivered twice,
 * shuffled. The AWS side runs 10 concurrent scanner invocations of up to 10 records (the event
 * source's maximum concurrency and batch size); the Azure side runs the queue pump with host.json's
 * batch size. Reports scans started (target: exactly the 180 distinct contents), duplicate scans
 * (target 0), events per second, handler time excluding scan time, peak RSS, and the function
 * bundles' sizes and cold `require` times. Writes burst.json (into bench/results/ with npm run bench -- --write).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildFunctions, DIST } from '../functions/build';
import { FUNCTION_NAMES, SCAN_EVENT_TYPES } from '../functions/azure/telemetry-names';
import { parseScanResult } from '../shared/scan-result';
import { containerDeployment, eventBridgeEnvelope, lambdaRecordVariant, DEMO_ACCOUNT, DEMO_REGION } from '../local/demo/scenario';
import { loadCorpus } from '../local/corpus';
import { s3ClientOptions } from '../local/emulators/s3rver';
import { RESULTS_BUCKET } from '../local/stack/aws-stack';
import { mulberry32 } from '../local/qualys-sim/random';
import { startEmbeddedStack } from '../local/start/run';
import { renderTable } from '../local/start/table';
import { AZURE_APP_ENV, BULK_ENV, coldRequire, SCANNER_ENV } from './support/cold-require';
import { resultsFile } from './support/results';

const LAMBDA_EVENTS = 400;
const CODE_HASHES = 120;
const CONTAINER_EVENTS = 600;
const IMAGES = 60;
const DELIVERIES = 2;
const LAMBDA_CONCURRENCY = 10;
const SQS_BATCH = 10;
const REQUIRE_RUNS = 5;

type Json = Record<string, unknown>;

function percentile(values: number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Deterministic shuffle with the simulator's seeded source, so runs are comparable. */
function shuffle<T>(items: T[], seed = 20261123): T[] {
  const random = mulberry32(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}


async function bundles(): Promise<{ name: string; bytes: number; requireP50Ms: number; requireP95Ms: number }[]> {
  if (!existsSync(path.join(DIST, 'aws', 'scanner', 'index.js')) || !existsSync(path.join(DIST, 'azure', 'dist', 'index.js'))) await buildFunctions();
  const targets: [string, string, Readonly<Record<string, string>>][] = [
    ['aws scanner', path.join(DIST, 'aws', 'scanner', 'index.js'), SCANNER_ENV],
    ['aws bulk', path.join(DIST, 'aws', 'bulk', 'index.js'), BULK_ENV],
    ['azure app', path.join(DIST, 'azure', 'dist', 'index.js'), AZURE_APP_ENV],
  ];
  return targets.map(([name, file, env]) => {
    const samples = coldRequire(`require(${JSON.stringify(file)})`, env, REQUIRE_RUNS);
    return { name, bytes: statSync(file).size, requireP50Ms: percentile(samples, 50), requireP95Ms: percentile(samples, 95) };
  });
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), 'shipscan-burst-'));
  const qscannerLog = path.join(scratch, 'qscanner-runs.jsonl');
  process.env.FAKE_QSCANNER_LOG = qscannerLog;
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const progress = (line: string) => process.stderr.write(`[burst] ${line}\n`);
  const stack = await startEmbeddedStack({ azure: true, aws: true }, progress);
  const azure = stack.azure!;
  const aws = stack.aws!;
  try {
    // 60 distinct images on an onboarded registry, never scanned by Qualys before.
    const images = Array.from({ length: IMAGES }, (_, i) => `shipscandemo.azurecr.io/burst/app-${String(i).padStart(2, '0')}:1.0.${i}`);
    const deliveries: { cloud: 'azure' | 'aws'; event: unknown }[] = [];
    for (let i = 0; i < CONTAINER_EVENTS; i += 1) {
      const image = images[i % IMAGES]!;
      const { workload, event } = containerDeployment(i % 2 === 0 ? 'ACI' : 'ACA', `burst-${i}`, [image], { schema: i % 3 === 0 ? 'cloudevents' : 'eventgrid' });
      azure.deploy(workload.resource, [image]);
      for (let d = 0; d < DELIVERIES; d += 1) deliveries.push({ cloud: 'azure', event });
    }
    const sample = loadCorpus<Json>('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json');
    for (let i = 0; i < LAMBDA_EVENTS; i += 1) {
      const name = `burst-fn-${i}`;
      const codeSha256 = createHash('sha256').update(`burst code ${i % CODE_HASHES}`).digest('base64');
      aws.lambda.putFunction({ name, account: DEMO_ACCOUNT, region: DEMO_REGION, codeSha256 });
      const event = eventBridgeEnvelope(lambdaRecordVariant(sample, { name, account: DEMO_ACCOUNT, region: DEMO_REGION, codeSha256 }));
      for (let d = 0; d < DELIVERIES; d += 1) deliveries.push({ cloud: 'aws', event });
    }
    const order = shuffle(deliveries);
    progress(`${order.length} deliveries of ${LAMBDA_EVENTS + CONTAINER_EVENTS} events, shuffled`);

    // AWS: an SQS stand-in in memory, consumed by LAMBDA_CONCURRENCY concurrent invocations.
    const sqs: unknown[] = [];
    let awsOutstanding = order.filter((d) => d.cloud === 'aws').length;
    const records: { ms: number; scannedKey?: string }[] = [];
    const outcomeCounts: Record<string, number> = {};
    let producerDone = false;
    const worker = async () => {
      while (awsOutstanding > 0) {
        const batch = sqs.splice(0, SQS_BATCH);
        if (batch.length === 0) {
          await new Promise((r) => setTimeout(r, producerDone ? 50 : 5));
          continue;
        }
        const { outcomes } = await aws.invoke(batch);
        let previous = 0;
        for (const { record, outcome, atMs } of outcomes) {
          outcomeCounts[outcome.kind] = (outcomeCounts[outcome.kind] ?? 0) + 1;
          records.push({ ms: atMs - previous, ...(outcome.kind === 'scanned' ? { scannedKey: outcome.resultKey } : {}) });
          previous = atMs;
          if (outcome.kind === 'retry-later') {
            // SQS hands the message back after its visibility delay.
            const body: unknown = JSON.parse(record.body);
            setTimeout(() => sqs.push(body), outcome.delaySec * 1000);
          } else {
            awsOutstanding -= 1;
          }
        }
      }
    };
    const started = performance.now();
    const workers = Array.from({ length: LAMBDA_CONCURRENCY }, () => worker());
    for (const delivery of order) {
      if (delivery.cloud === 'aws') sqs.push(delivery.event);
      else await azure.send(delivery.event);
    }
    producerDone = true;
    progress('all deliveries sent');
    await Promise.all(workers);
    progress('aws done');
    await azure.settle(300_000);
    const wallSec = (performance.now() - started) / 1000;
    progress(`azure done; ${wallSec.toFixed(1)} s`);

    // Scan time is the qscanner span the runner records in each result: subtract it from the record that scanned.
    const s3 = new S3Client(s3ClientOptions(aws.s3Endpoint));
    const scanSpans: number[] = [];
    const awsExcluding: number[] = [];
    for (const record of records) {
      if (!record.scannedKey) {
        awsExcluding.push(record.ms);
        continue;
      }
      const object = await s3.send(new GetObjectCommand({ Bucket: RESULTS_BUCKET, Key: record.scannedKey }));
      const result = parseScanResult(JSON.parse(await object.Body!.transformToString()));
      const span = Date.parse(result.completedAt) - Date.parse(result.startedAt);
      scanSpans.push(span);
      awsExcluding.push(Math.max(0, record.ms - span));
    }
    s3.destroy();
    const meanScanMs = scanSpans.length > 0 ? scanSpans.reduce((a, b) => a + b, 0) / scanSpans.length : 0;

    const qscannerRuns = existsSync(qscannerLog) ? readFileSync(qscannerLog, 'utf8').split('\n').filter((l) => l.trim() !== '').length : 0;
    const schedules = azure.sim.callLog.filter((c) => c.method === 'POST' && c.path.endsWith('/schedule') && c.status < 300).length;
    const azureStored = azure.telemetry.scans.filter((s) => s.EventType === SCAN_EVENT_TYPES.completed).length;
    const azureHandlerMs = azure.runtime.pump.invocations.filter((i) => i.function === FUNCTION_NAMES.onDeployment).map((i) => i.ms);
    const pollMs = azure.runtime.pump.invocations.filter((i) => i.function === FUNCTION_NAMES.pollScan).map((i) => i.ms);
    const bundleRows = await bundles();
    const results = {
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      events: LAMBDA_EVENTS + CONTAINER_EVENTS,
      deliveries: order.length,
      distinct: { lambdaCode: CODE_HASHES, images: IMAGES, total: CODE_HASHES + IMAGES },
      scansStarted: { aws: qscannerRuns, azure: schedules, total: qscannerRuns + schedules },
      duplicateScans: qscannerRuns + schedules - (CODE_HASHES + IMAGES),
      azureResultsStored: azureStored,
      awsOutcomes: outcomeCounts,
      wallSec: Number(wallSec.toFixed(2)),
      deliveriesPerSec: Number((order.length / wallSec).toFixed(1)),
      eventsPerSec: Number(((LAMBDA_EVENTS + CONTAINER_EVENTS) / wallSec).toFixed(1)),
      handlerMs: {
        azureOnDeployment: { p50: percentile(azureHandlerMs, 50), p95: percentile(azureHandlerMs, 95), n: azureHandlerMs.length },
        azurePollScan: { p50: percentile(pollMs, 50), p95: percentile(pollMs, 95), n: pollMs.length },
        awsRecordExcludingScan: { p50: Number(percentile(awsExcluding, 50).toFixed(1)), p95: Number(percentile(awsExcluding, 95).toFixed(1)), n: awsExcluding.length },
        awsScanMean: Number(meanScanMs.toFixed(1)),
      },
      peakRssMiB: Number((process.resourceUsage().maxRSS / 1024).toFixed(1)),
      bundles: bundleRows,
    };
    writeFileSync(resultsFile('burst.json'), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(
      `${renderTable(
        ['measure', 'value', 'target'],
        [
          ['events (deliveries)', `${results.events} (${results.deliveries})`, ''],
          ['scans started aws / azure / total', `${qscannerRuns} / ${schedules} / ${results.scansStarted.total}`, `${CODE_HASHES} / ${IMAGES} / ${CODE_HASHES + IMAGES}`],
          ['duplicate scans', String(results.duplicateScans), '0'],
          ['azure results stored', String(azureStored), String(IMAGES)],
          ['events/s (deliveries/s)', `${results.eventsPerSec} (${results.deliveriesPerSec})`, ''],
          ['azure onDeployment p50/p95 ms', `${results.handlerMs.azureOnDeployment.p50.toFixed(1)} / ${results.handlerMs.azureOnDeployment.p95.toFixed(1)}`, ''],
          ['aws record excl. scan p50/p95 ms', `${results.handlerMs.awsRecordExcludingScan.p50} / ${results.handlerMs.awsRecordExcludingScan.p95}`, ''],
          ['peak RSS MiB (handlers + in-process emulators)', String(results.peakRssMiB), ''],
          ...bundleRows.map((b) => [`bundle ${b.name} KiB, cold require p50/p95 ms`, `${(b.bytes / 1024).toFixed(0)}, ${b.requireP50Ms.toFixed(0)} / ${b.requireP95Ms.toFixed(0)}`, '']),
        ],
      )}\n`,
    );
  } finally {
    await stack.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`burst benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
