/**
 * Scheduled inventory and posture evaluation (issue 15), three measurements:
 * 1. Inventory of 20 accounts x 2 regions, ~10,000 resources, against the local fake of the AWS APIs with
 *    realistic latency (every call waits 20-80 ms, real SDK clients, adaptive retry, paged lists) into the
 *    resources table on dynalite: wall time, API calls, peak RSS; goal < 120 s. Baseline in the same run:
 *    the seed's one-Lambda design (every account, region, service and resource one after another, every
 *    resource written every time), run over one account (1/20 of the estate) and scaled by 20.
 * 2. Rule evaluations per second (resource x rule) of the evaluation core over the inventoried resources,
 *    one thread, per CPU-second; goal > 200,000/s.
 * 3. Writes of a daily evaluation of 100,000 resources with 1 % of them changed since the day before
 *    (findings store writes vs findings that changed); goal <= 1.1 x the changed findings. Baseline: the
 *    seed's design writes one result per resource x rule every day.
 * Run: npx tsx bench/posture.bench.ts  -> posture.json (bench/results/ with npm run bench -- posture --write)
 */
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { callCounter } from '../functions/aws/inventory/calls';
import { COLLECTORS } from '../functions/aws/inventory/collectors';
import { evaluateResource } from '../functions/aws/inventory/evaluate';
import { runEvaluation, EvaluationRequestSchema, type ResourceSource } from '../functions/aws/inventory/evaluation';
import { MemoryConfigBlobs, ResourceStore, type StoredResource } from '../functions/aws/inventory/resource-store';
import { newRunId, RunStore } from '../functions/aws/inventory/runs';
import { startDynalite } from '../local/emulators/dynalite';
import { LocalAwsInventory } from '../local/inventory/aws-pipeline';
import { seedEstate } from '../local/inventory/aws-seed';
import { FakeAws } from '../local/inventory/fake-aws';
import { MemoryFindingStore } from '../shared/findings/memory-store';
import { FindingRecorder } from '../shared/findings/recorder';
import type { FindingStore } from '../shared/findings/store';
import { resourcesTableSchema } from '../shared/inventory/tables';
import { DEFAULT_ALLOW_LISTS } from '../shared/rules/allow-lists';
import { RESOURCE_TYPES } from '../shared/rules/aws/posture/kinds';
import { DEFAULT_POSTURE_REGISTRY } from '../shared/rules/aws/posture/registry';
import { DEFAULT_POSTURE_SETTINGS, INVENTORY_SERVICES, type InventoryService } from '../shared/rules/aws/posture/types';
import { resultsFile } from './support/results';

const ACCOUNTS = Array.from({ length: 20 }, (_, i) => String(100000000000 + i * 1111));
const REGIONS = ['us-east-1', 'eu-west-1'];
const LATENCY_MS: [number, number] = [20, 80];
const PAGE_SIZE = 100;
const INVENTORY_GOAL_S = 120;
const EVAL_GOAL_PER_S = 200_000;
const WRITE_GOAL_RATIO = 1.1;
const EVAL_RESOURCES = 100_000;
const CHANGED_SHARE = 0.01;

/** A seeded random source: the latency draws repeat from run to run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function rssSampler(): { peakMb: () => number; stop: () => void } {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  return { peakMb: () => Math.round(Math.max(peak, process.memoryUsage().rss) / 2 ** 20), stop: () => clearInterval(timer) };
}

function estate(accounts: readonly string[]): { fake: FakeAws; resources: number } {
  const fake = new FakeAws({ pageSize: PAGE_SIZE, latencyMs: LATENCY_MS, random: lcg(15) });
  // 20 x (2 x 8 + 3 + 2 x (6 x 40) + 2) = 10,020 resources.
  const resources = seedEstate(fake, { accounts, regions: REGIONS, perRegion: 40, perAccount: 8, failEvery: 10 });
  return { fake, resources };
}

async function shipscanInventory(endpoint: string) {
  const { fake, resources } = estate(ACCOUNTS);
  const pipeline = await LocalAwsInventory.create({ endpoint, clients: () => fake.clientFactory(), accounts: ACCOUNTS, regions: REGIONS, maxConcurrency: 10, shardConcurrency: 8, tablePrefix: 'bench-shipscan' });
  const rss = rssSampler();
  const load = os.loadavg()[0]!;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  const run = await pipeline.inventory({ service: 'all' });
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  rss.stop();
  const firstRunWrites = pipeline.resources.counter.writes;
  // A second, unchanged run: what the weekly inventory costs in writes when nothing changed.
  const again = await pipeline.inventory({ service: 'all' });
  const stored: StoredResource[] = [];
  for (const account of ACCOUNTS) for (const service of INVENTORY_SERVICES) for await (const page of pipeline.resources.resources(account, service)) stored.push(...page);
  pipeline.destroy();
  return {
    result: {
      accounts: ACCOUNTS.length,
      regions: REGIONS.length,
      seededResources: resources,
      shards: run.planned.shards,
      status: run.run.status,
      resourcesCollected: run.run.counts.collected ?? 0,
      wallSeconds: Number(seconds.toFixed(1)),
      // The collectors, the fake APIs and dynalite share this one process: its CPU time is what the run costs.
      cpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
      loadAverageAtStart: Number(load.toFixed(1)),
      apiCalls: run.drained.shards.reduce((sum, s) => sum + s.apiCalls, 0),
      peakRssMb: rss.peakMb(),
      resourceWrites: firstRunWrites,
      unchangedRerun: { status: again.run.status, written: again.run.counts.written ?? 0, unchanged: again.run.counts.unchanged ?? 0 },
      goalSeconds: INVENTORY_GOAL_S,
      goalMet: seconds < INVENTORY_GOAL_S && run.run.status === 'complete',
    },
    stored,
  };
}

/**
 * The seed's design, modelled: one invocation walks every account, region, service and resource in turn
 * (concurrency 1) and writes every resource it saw. Measured over one account, scaled by the account count.
 */
async function baselineInventory(endpoint: string) {
  const sample = ACCOUNTS.slice(0, 1);
  const { fake, resources } = estate(sample);
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await raw.send(new CreateTableCommand({ TableName: 'bench-baseline-resources', ...resourcesTableSchema() }));
  const store = new ResourceStore(DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } }), 'bench-baseline-resources', new MemoryConfigBlobs());
  const clients = fake.clientFactory();
  const counter = callCounter();
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  let collected = 0;
  for (const account of sample) {
    for (const service of INVENTORY_SERVICES) {
      const regions = COLLECTORS[service].scope === 'account' ? [REGIONS[0]!] : REGIONS;
      for (const region of regions) {
        const found = await COLLECTORS[service].collect({ account, region, partition: 'aws', homeRegion: REGIONS[0]!, clients, counter, concurrency: 1 });
        for (const resource of found) await store.put(resource, service, region, { seenAt: new Date().toISOString() });
        collected += found.length;
      }
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpu0);
  raw.destroy();
  const scale = ACCOUNTS.length / sample.length;
  return {
    measuredAccounts: sample.length,
    measuredResources: resources,
    measuredCollected: collected,
    measuredSeconds: Number(seconds.toFixed(1)),
    measuredCpuSeconds: Number(((cpu.user + cpu.system) / 1e6).toFixed(1)),
    measuredApiCalls: counter.total(),
    scaledTo: ACCOUNTS.length,
    wallSeconds: Number((seconds * scale).toFixed(1)),
    apiCalls: Math.round(counter.total() * scale),
    note: 'one account inventoried sequentially (one resource at a time, every resource written), scaled by 20; past 900 s one Lambda invocation cannot finish it',
    exceedsLambdaTimeout: seconds * scale > 900,
  };
}

function evaluationThroughput(resources: readonly StoredResource[]) {
  const options = { registry: DEFAULT_POSTURE_REGISTRY, scopes: {}, context: { allowLists: DEFAULT_ALLOW_LISTS, settings: DEFAULT_POSTURE_SETTINGS, now: new Date('2026-06-01T00:00:00Z') } };
  const round = (ms: number) => {
    const cpu0 = process.cpuUsage();
    let evaluations = 0;
    const end = performance.now() + ms;
    while (performance.now() < end) for (const r of resources) evaluations += evaluateResource(r, options).evaluations;
    const cpu = process.cpuUsage(cpu0);
    return evaluations / ((cpu.user + cpu.system) / 1e6);
  };
  round(500);
  const rates = Array.from({ length: 7 }, () => round(300)).sort((a, b) => a - b);
  const median = Math.round(rates[3]!);
  return {
    resources: resources.length,
    rulesPerResourceAvg: Number((resources.reduce((s, r) => s + evaluateResource(r, options).evaluations, 0) / resources.length).toFixed(2)),
    medianPerSecond: median,
    minPerSecond: Math.round(rates[0]!),
    maxPerSecond: Math.round(rates[6]!),
    method: '7 rounds of >= 300 ms over the inventoried resources after a 500 ms warm-up; resource x rule evaluations per CPU-second of the one thread',
    goalPerSecond: EVAL_GOAL_PER_S,
    goalMet: median > EVAL_GOAL_PER_S,
  };
}

/** Counts the findings store's writes. */
function counting(store: FindingStore): { store: FindingStore; writes: () => number } {
  let writes = 0;
  return {
    writes: () => writes,
    store: {
      get: (k) => store.get(k),
      put: (k, r, e) => {
        writes += 1;
        return store.put(k, r, e);
      },
      claimNotification: (...a) => {
        writes += 1;
        return store.claimNotification(...a);
      },
      settleNotification: (...a) => {
        writes += 1;
        return store.settleNotification(...a);
      },
      listByResource: (p) => store.listByResource(p),
      query: (q) => store.query(q),
    },
  };
}

type SgConfig = { IpPermissions: { IpProtocol: string; FromPort?: number; ToPort?: number; IpRanges: { CidrIp: string }[]; Ipv6Ranges?: unknown[]; UserIdGroupPairs?: unknown[]; PrefixListIds?: unknown[] }[] };
const OPEN_SSH = { IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] };

async function dailyEvaluationWrites(endpoint: string, inventoried: readonly StoredResource[]) {
  // 100,000 resources: the inventoried estate repeated under further account ids.
  const copies = Math.ceil(EVAL_RESOURCES / inventoried.length);
  const accounts: string[] = [];
  const all: StoredResource[] = [];
  for (let c = 0; c < copies && all.length < EVAL_RESOURCES; c++) {
    for (const r of inventoried) {
      if (all.length >= EVAL_RESOURCES) break;
      const account = String(Number(r.account) + c * 7).padStart(12, '0');
      all.push({ ...r, account, arn: r.arn.replace(r.account, account) });
    }
  }
  for (const r of all) if (!accounts.includes(r.account)) accounts.push(r.account);
  const byPartition = new Map<string, StoredResource[]>();
  for (const r of all) {
    const key = `${r.account}#${r.service}`;
    const list = byPartition.get(key) ?? [];
    list.push(r);
    byPartition.set(key, list);
  }
  const source: ResourceSource = {
    async *resources(account: string, service: InventoryService) {
      const list = byPartition.get(`${account}#${service}`) ?? [];
      for (let i = 0; i < list.length; i += 1000) yield list.slice(i, i + 1000);
    },
  };
  const raw = new DynamoDBClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
  await raw.send(new CreateTableCommand({ TableName: 'bench-eval-runs', ...resourcesTableSchema() }));
  const runs = new RunStore(DynamoDBDocumentClient.from(raw), 'bench-eval-runs');
  const memory = new MemoryFindingStore();
  const counted = counting(memory);
  let day = new Date('2026-06-01T04:00:00Z');
  const evaluate = async () => {
    const recorder = new FindingRecorder({ store: counted.store, channels: [], policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'deferred' }, suppressions: [], persistTouches: false, now: () => day });
    return runEvaluation(EvaluationRequestSchema.parse({ trigger: 'schedule' }), {
      source,
      runs,
      findings: counted.store,
      recorder,
      registry: DEFAULT_POSTURE_REGISTRY,
      context: { allowLists: DEFAULT_ALLOW_LISTS, settings: DEFAULT_POSTURE_SETTINGS },
      scopes: {},
      suppressions: [],
      channels: [],
      accounts,
      newRunId: (now) => newRunId('evaluation', now),
      now: () => day,
    });
  };
  const first = await evaluate();
  const firstWrites = counted.writes();

  // 1 % of the resources change overnight: security groups opened or closed (each a finding opened or resolved).
  const groups = all.filter((r) => r.type === RESOURCE_TYPES.securityGroup);
  const changed = Math.round(EVAL_RESOURCES * CHANGED_SHARE);
  const step = Math.max(1, Math.floor(groups.length / changed));
  let flipped = 0;
  for (let i = 0; i < groups.length && flipped < changed; i += step, flipped++) {
    const config = groups[i]!.config as SgConfig;
    const open = config.IpPermissions.some((p) => p.FromPort === 22 && p.IpRanges.some((x) => x.CidrIp === '0.0.0.0/0'));
    groups[i]!.config = { ...config, IpPermissions: open ? config.IpPermissions.filter((p) => p.FromPort !== 22) : [...config.IpPermissions, OPEN_SSH] };
  }
  day = new Date('2026-06-02T04:00:00Z');
  const writesBefore = counted.writes();
  const second = await evaluate();
  const writes = counted.writes() - writesBefore;
  const changedFindings = second.transitions.opened + second.transitions.reopened + second.transitions.resolved + second.transitions.suppressed;
  raw.destroy();
  return {
    resources: all.length,
    accounts: accounts.length,
    changedResources: flipped,
    firstDay: { evaluations: first.evaluations, findingsOpened: first.transitions.opened, findingWrites: firstWrites },
    secondDay: { evaluations: second.evaluations, transitions: second.transitions, changedFindings, findingWrites: writes },
    writesPerChangedFinding: Number((writes / Math.max(1, changedFindings)).toFixed(3)),
    baselineWrites: second.evaluations,
    baselineNote: "the seed's design writes one result per resource x rule on every daily scan",
    goalRatio: WRITE_GOAL_RATIO,
    goalMet: writes <= WRITE_GOAL_RATIO * changedFindings,
  };
}

async function main(): Promise<void> {
  // The SDK's notice about future Node versions is noise in a bench's output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const dynalite = await startDynalite();
  try {
    console.log('inventory: shipscan fan-out over 20 accounts x 2 regions...');
    const shipscan = await shipscanInventory(dynalite.endpoint);
    console.log(`  ${shipscan.result.resourcesCollected} resources, ${shipscan.result.shards} shards, ${shipscan.result.wallSeconds} s, ${shipscan.result.apiCalls} API calls, peak RSS ${shipscan.result.peakRssMb} MB`);
    console.log('inventory: baseline (sequential, one account, scaled)...');
    const baseline = await baselineInventory(dynalite.endpoint);
    console.log(`  ${baseline.measuredSeconds} s for one account -> ${baseline.wallSeconds} s for 20`);
    console.log('evaluation throughput...');
    const throughput = evaluationThroughput(shipscan.stored);
    console.log(`  ${throughput.medianPerSecond} evaluations/s`);
    console.log('daily evaluation writes (100,000 resources, 1 % changed)...');
    const writes = await dailyEvaluationWrites(dynalite.endpoint, shipscan.stored);
    console.log(`  ${writes.secondDay.findingWrites} writes for ${writes.secondDay.changedFindings} changed findings (${writes.writesPerChangedFinding} per change)`);
    const result = {
      bench: 'posture',
      node: process.version,
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, load average ${os.loadavg()[0]!.toFixed(1)} at the end`,
      inventory: { latencyMs: LATENCY_MS, pageSize: PAGE_SIZE, shipscan: shipscan.result, baselineSequential: baseline, speedup: Number((baseline.wallSeconds / shipscan.result.wallSeconds).toFixed(1)) },
      evaluationThroughput: throughput,
      dailyEvaluationWrites: writes,
    };
    const file = resultsFile('posture.json');
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`results: ${file}`);
    const failed = [result.inventory.shipscan.goalMet, throughput.goalMet, writes.goalMet].some((met) => !met);
    if (failed) process.exitCode = 1;
  } finally {
    await dynalite.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
