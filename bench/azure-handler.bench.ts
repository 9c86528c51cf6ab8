/**
 * Azure runtime benchmark on Azurite + ARM stub + Qualys simulator (all loopback).
 *   1. onDeployment handler time per deployment event, excluding Qualys scan time: 200 events called
 *      one at a time (new image -> submit; same image again -> cache hit), p50/p95.
 *   2. Qualys API calls per completed scan: 24 concurrent scans with the shipscan poll policy and
 *      batched checks, against the seed design's baseline (every scan checked on its own every 10 s).
 *   3. Duplicate scans avoided: redeliveries, the two-event quirk and concurrent deployments of one image.
 * Simulated time runs `SPEED` x faster than real time for the simulator, the client and the handlers;
 * queue visibility delays are scaled by the same factor (Azurite counts them in whole seconds).
 * Run: npx tsx bench/azure-handler.bench.ts  -> azure-handler.json (in bench/results/ only with npm run bench -- --write)
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { InvocationContext } from '@azure/functions';
import { startStack, SUBSCRIPTION, RESOURCE_GROUP, type AzureStack } from '../test/azure/support/stack';
import { rowsOf } from '../test/azure/support/inspect';
import { deploymentEventVariant } from '../local/arm-stub/variants';
import { loadCorpus } from '../local/corpus';
import { QueuePump } from '../local/queue-pump/pump';
import { MAX_DEQUEUE_COUNT } from '../functions/azure/host-settings';
import { resultsFile } from './support/results';

const SPEED = 10;
const KB_QIDS = [178905, 178266, 179201];

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function stats(values: number[]) {
  return { n: values.length, p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), max: round(Math.max(...values)) };
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function context(n: number): InvocationContext {
  return new InvocationContext({ invocationId: `bench-${n}`, functionName: 'onDeployment', triggerMetadata: { id: `bench-msg-${n}`, dequeueCount: 1 }, logHandler: () => undefined });
}

function apiCalls(stack: AzureStack, since = 0): number {
  return stack.sim.callLog.slice(since).filter((c) => c.path !== '/auth').length;
}

async function handlerLatency(): Promise<Record<string, unknown>> {
  const stack = await startStack({ speed: SPEED, pumpFunctions: [] });
  try {
    const onDeployment = stack.app.functions.find((f) => f.name === 'onDeployment')!.handler;
    const images: string[] = [];
    for (let i = 0; i < 100; i += 1) {
      stack.sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `bench/svc-${i}`, tags: ['1.0.0'], vulns: [{ qid: KB_QIDS[i % 3]!, package: 'p', version: '1' }], scannedAgoMs: 3_600_000 });
      images.push(`shipscandemo.azurecr.io/bench/svc-${i}:1.0.0`);
    }
    // Warm-up: connections, table creation, token.
    await onDeployment(stack.deploy({ kind: 'ACI', name: 'warmup', images: ['nginx'], correlationId: 'warm', eventId: 'warm' }), context(-1));
    const submit: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const msg = stack.deploy({ kind: i % 2 ? 'ACA' : 'ACI', name: `bench-${i}`, images: [images[i]!], correlationId: `corr-${i}`, eventId: `ev-${i}` });
      const t = performance.now();
      await onDeployment(msg, context(i));
      submit.push(performance.now() - t);
    }
    // Complete the scans (drive only pollScan), so the same images are cache hits afterwards.
    const pump = new QueuePump({ queues: stack.queues, functions: stack.app.functions.filter((f) => f.name === 'pollScan'), maxDequeueCount: MAX_DEQUEUE_COUNT, retryVisibilitySec: 1, maxPollIntervalMs: 100 });
    await pump.start();
    await pump.drain(300_000);
    await pump.stop();
    const cached: number[] = [];
    for (let i = 0; i < 100; i += 1) {
      const msg = stack.deploy({ kind: i % 2 ? 'ACI' : 'ACA', name: `again-${i}`, images: [images[i]!], correlationId: `corr-again-${i}`, eventId: `ev-again-${i}` });
      const t = performance.now();
      await onDeployment(msg, context(1000 + i));
      cached.push(performance.now() - t);
    }
    const hits = stack.telemetry.scans.filter((s) => s.EventType === 'CacheHit').length;
    return { all: stats([...submit, ...cached]), submitPath: stats(submit), cacheHitPath: stats(cached), cacheHits: hits };
  } finally {
    await stack.stop();
  }
}

interface PollRun {
  scans: number;
  completed: number;
  apiCalls: number;
  callsPerCompletedScan: number;
  statusChecks: number;
  checkManyBatches: number;
  wallSec: number;
}

async function pollingRun(mode: 'shipscan' | 'baseline'): Promise<PollRun> {
  const baseline = mode === 'baseline';
  const stack = await startStack({
    speed: SPEED,
    sim: { scanDuration: undefined, rateLimit: false, randomSeed: 11 },
    app: baseline
      ? {
          // The seed design: each scan checked on its own every 10 s, no batching.
          pollDelay: () => 10 / SPEED,
          checkMaxBatch: 1,
        }
      : {},
  });
  try {
    const n = 24;
    for (let i = 0; i < n; i += 1) {
      stack.sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `poll/svc-${i}`, tags: ['2.0.0'], vulns: [{ qid: KB_QIDS[i % 3]!, package: 'p', version: '1' }] });
    }
    const before = apiCalls(stack);
    const t = performance.now();
    for (let i = 0; i < n; i += 1) {
      await stack.send(stack.deploy({ kind: 'ACI', name: `poll-${i}`, images: [`shipscandemo.azurecr.io/poll/svc-${i}:2.0.0`], correlationId: `pc-${i}`, eventId: `pe-${i}` }));
    }
    await stack.pump.drain(600_000);
    const wallSec = (performance.now() - t) / 1000;
    const completed = (await rowsOf(stack)).filter((r) => r.Status === 'COMPLETED').length;
    const calls = apiCalls(stack, before);
    const statusChecks = stack.sim.callLog.slice(before).filter((c) => c.method === 'GET' && (c.path === '/csapi/v1.3/images' || /^\/csapi\/v1\.3\/images\/[^/]+$/.test(c.path))).length;
    return { scans: n, completed, apiCalls: calls, callsPerCompletedScan: round(calls / Math.max(1, completed)), statusChecks, checkManyBatches: stack.app.batcher.stats.batches, wallSec: round(wallSec) };
  } finally {
    await stack.stop();
  }
}

async function duplicates(): Promise<Record<string, number>> {
  const stack = await startStack({ speed: SPEED });
  try {
    let deliveries = 0;
    const image = (i: number) => `shipscandemo.azurecr.io/dup/svc-${i}:1.0.0`;
    for (let i = 0; i < 10; i += 1) stack.sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `dup/svc-${i}`, tags: ['1.0.0'] });
    const sample = loadCorpus('azure/eventgrid-resourcewritesuccess-storage.azuredocs.json');
    for (let i = 0; i < 10; i += 1) {
      // Each deployment: the temporary-URI event, the real event three times, and a second workload with the same image.
      const real = stack.deploy({ kind: 'ACI', name: `dup-${i}`, images: [image(i)], correlationId: `dc-${i}`, eventId: `de-${i}` });
      const temp = deploymentEventVariant(sample, { kind: 'ACI', resourceUri: `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/deployments/dep-${i}`, correlationId: `dc-${i}`, eventId: `dt-${i}` });
      const twin = stack.deploy({ kind: 'ACA', name: `twin-${i}`, images: [image(i)], correlationId: `tc-${i}`, eventId: `te-${i}` });
      await Promise.all([stack.send(temp), stack.send(real), stack.send(real), stack.send(real), stack.send(twin)]);
      deliveries += 5;
    }
    await stack.pump.drain(300_000);
    const schedules = stack.sim.schedules.filter((s) => s.repo.startsWith('dup/')).length;
    const rows = (await rowsOf(stack)).filter((r) => r.Image.includes('/dup/')).length;
    const outcomes = stack.pump.invocations.flatMap((i) => ((i.result as { events?: { outcome: string }[] } | undefined)?.events ?? []).map((e) => e.outcome));
    // Without dedupe every delivery of a real container write would scan; the temporary URI names no container.
    const scannable = deliveries - 10;
    return {
      deliveries,
      scannableDeliveries: scannable,
      scansSubmitted: schedules,
      resultsStored: rows,
      duplicateScansAvoided: scannable - schedules,
      temporaryUriIgnored: outcomes.filter((o) => o === 'Ignored').length,
      redeliveriesDeduped: outcomes.filter((o) => o === 'Duplicate').length,
      sameImageInFlightSkipped: stack.telemetry.scans.filter((s) => s.EventType === 'DuplicateSkipped').length,
      sameImageCacheHits: stack.telemetry.scans.filter((s) => s.EventType === 'CacheHit').length,
    };
  } finally {
    await stack.stop();
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const latency = await handlerLatency();
  const shipscan = await pollingRun('shipscan');
  const baseline = await pollingRun('baseline');
  const dup = await duplicates();
  const result = {
    benchmark: 'azure-handler',
    at: new Date().toISOString(),
    node: process.version,
    setup: `Azurite 3.35 (in-memory) + ARM stub + Qualys CS API simulator on loopback; simulated time x${SPEED}`,
    onDeploymentMs: latency,
    qualysCallsPerCompletedScan: { shipscan, baselinePerScan10s: baseline },
    duplicates: dup,
    wallSec: round((Date.now() - started) / 1000),
  };
  writeFileSync(resultsFile('azure-handler.json'), `${JSON.stringify(result, null, 2)}\n`);
  const l = latency as { all: ReturnType<typeof stats>; submitPath: ReturnType<typeof stats>; cacheHitPath: ReturnType<typeof stats> };
  console.table({
    'onDeployment all (ms)': { n: l.all.n, p50: l.all.p50, p95: l.all.p95 },
    'onDeployment submit (ms)': { n: l.submitPath.n, p50: l.submitPath.p50, p95: l.submitPath.p95 },
    'onDeployment cache hit (ms)': { n: l.cacheHitPath.n, p50: l.cacheHitPath.p50, p95: l.cacheHitPath.p95 },
  });
  console.table({
    shipscan: { scans: shipscan.completed, apiCalls: shipscan.apiCalls, perScan: shipscan.callsPerCompletedScan, statusChecks: shipscan.statusChecks },
    'baseline 10 s per scan': { scans: baseline.completed, apiCalls: baseline.apiCalls, perScan: baseline.callsPerCompletedScan, statusChecks: baseline.statusChecks },
  });
  console.table({ duplicates: dup });
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
