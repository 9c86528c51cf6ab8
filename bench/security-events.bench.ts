/**
 * Security-event registry throughput on one core: queue bodies per second through the pure core of the
 * security-events handler (parse the body, route to the detectors, run them, turn detections into
 * Observations), over a corpus-derived mix (every detector's failing, benign and failed-call variants, plus
 * events no detector wants). Beside it, a naive baseline as seed 002's handler loop would run: every
 * detector tried on every event, each handed its own JSON round-trip copy, each checking the name itself.
 * Goal: > 50,000 events/s. Rates are per CPU-second of the one thread that runs them (see round()).
 *
 * The results file is shared: this bench writes only `entries.registryThroughput` and keeps the other
 * entries (the handler's p95 on dynalite is measured by security-events-handler.bench.ts and lands beside it).
 * Run: npm run bench -- security-events.bench --write  -> bench/results/security-events.json (without
 * --write, or run on its own, it writes to the scratch folder of bench/support/results.ts)
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { DEFAULT_ALLOW_LISTS } from '../shared/rules/allow-lists';
import {
  AWS_ACTIVITY_DETECTORS,
  canonicalEventName,
  eventContext,
  evaluateCloudTrail,
  parseCloudTrailInput,
  parseCloudTrailMessage,
  partitionOf,
  toObservation,
  type ParsedCloudTrailEvent,
} from '../shared/rules/aws';
import type { AwsEventContext, CloudTrailRecord } from '../shared/rules/types';
import { securityEventMix } from '../test/rules/aws/support/mix';
import { RECORDED_RESULTS, resultsFile } from './support/results';

const ROUNDS = 7;
const ROUND_MS = 300;
const WARMUP_MS = 500;
const GOAL_PER_SECOND = 50_000;
const NAME = 'security-events.json';
const RESULTS = resultsFile(NAME);

const mix = securityEventMix();
const bodies = mix.map((entry) => JSON.stringify(entry.input));
const parsedEvents: ParsedCloudTrailEvent[] = mix.flatMap((entry) => parseCloudTrailInput(entry.input).events);

/** What the handler's pure core does with one queue body; returns the number of observations. */
function shipscan(body: string): number {
  const { events } = parseCloudTrailMessage(body);
  let observations = 0;
  for (const event of events) {
    const ctx = eventContext(event, DEFAULT_ALLOW_LISTS);
    const result = evaluateCloudTrail(event.record, ctx);
    for (const { detector, detection } of result.detections) {
      toObservation(detector, detection, event.record, ctx);
      observations += 1;
    }
  }
  return observations;
}

/** The registry alone, on records already parsed (what the parser costs is the difference to the line above). */
function evaluateOnly(event: ParsedCloudTrailEvent): number {
  const ctx = eventContext(event, DEFAULT_ALLOW_LISTS);
  return evaluateCloudTrail(event.record, ctx).detections.length;
}

type Json = Record<string, unknown>;

/**
 * Seed 002's loop: parse the body, then hand every handler its own deep copy of the event (a JSON round
 * trip, as `json.loads(json.dumps(event))` or a handler mutating its input forces), let each decide from the
 * name whether it applies, catch what it throws, and build the alert for what it returns.
 */
function naive(body: string): number {
  const event = JSON.parse(body) as Json;
  let observations = 0;
  for (const detector of AWS_ACTIVITY_DETECTORS) {
    const copy = JSON.parse(JSON.stringify(event)) as Json;
    const detail = (typeof copy.detail === 'object' && copy.detail !== null ? copy.detail : copy) as Json;
    const eventSource = String(detail.eventSource);
    if (eventSource !== detector.eventSource || detail.errorCode) continue;
    if (!detector.eventNames.includes(canonicalEventName(eventSource, String(detail.eventName)))) continue;
    const region = String(detail.awsRegion ?? copy.region);
    const ctx: AwsEventContext = { allowLists: DEFAULT_ALLOW_LISTS, account: String(detail.recipientAccountId ?? copy.account), region, partition: partitionOf(region) };
    const record = detail as unknown as CloudTrailRecord; // the seed trusts the event's shape as it comes
    try {
      for (const detection of detector.match(record, ctx)) {
        toObservation(detector, detection, record, ctx);
        observations += 1;
      }
    } catch {
      // the seed logs and moves on
    }
  }
  return observations;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** CPU time of this process in ms (user + system, all threads: GC work counts against the code measured). */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

/**
 * Runs the inputs in turn until `ms` of CPU time are spent. Rates are per CPU-second: on a machine shared
 * with other work, wall-clock rates measure the neighbours as much as the code, CPU time measures what one
 * core does with it. The wall-clock rate is kept beside it.
 */
function round<T>(fn: (input: T) => number, inputs: readonly T[], ms: number): { perCpuSecond: number; perWallSecond: number; ops: number } {
  let ops = 0;
  let sink = 0;
  const wallStart = performance.now();
  const cpuStart = cpuMs();
  let cpu = 0;
  do {
    for (const input of inputs) sink += fn(input);
    ops += inputs.length;
    cpu = cpuMs() - cpuStart;
  } while (cpu < ms);
  const wall = performance.now() - wallStart;
  if (sink < 0) throw new Error('unreachable: keeps the loop from being optimised away');
  return { perCpuSecond: (ops / cpu) * 1000, perWallSecond: (ops / wall) * 1000, ops };
}

function throughput<T>(fn: (input: T) => number, inputs: readonly T[]) {
  round(fn, inputs, WARMUP_MS);
  const rounds = Array.from({ length: ROUNDS }, () => round(fn, inputs, ROUND_MS));
  const rates = rounds.map((r) => r.perCpuSecond);
  return {
    eventsPerRound: inputs.length,
    rounds: ROUNDS,
    ops: rounds.reduce((total, r) => total + r.ops, 0),
    medianPerSecond: Math.round(median(rates)),
    minPerSecond: Math.round(Math.min(...rates)),
    maxPerSecond: Math.round(Math.max(...rates)),
    medianPerWallSecond: Math.round(median(rounds.map((r) => r.perWallSecond))),
  };
}

function mixSummary() {
  let withDetections = 0;
  let failedCalls = 0;
  let noDetector = 0;
  let observations = 0;
  for (const event of parsedEvents) {
    const result = evaluateCloudTrail(event.record, eventContext(event, DEFAULT_ALLOW_LISTS));
    if (result.skipped === 'failed-call') failedCalls += 1;
    else if (result.skipped === 'no-detector') noDetector += 1;
    else if (result.detections.length > 0) withDetections += 1;
    observations += result.detections.length;
  }
  return { events: parsedEvents.length, withDetections, benign: parsedEvents.length - withDetections - failedCalls - noDetector, failedCalls, noDetector, observations, detectors: AWS_ACTIVITY_DETECTORS.length };
}

/** The entries already measured: this run's results file, else the recorded one (a scratch run keeps them beside its own). */
function readExisting(): Json {
  for (const candidate of [RESULTS, path.join(RECORDED_RESULTS, NAME)]) {
    if (!existsSync(candidate)) continue;
    try {
      const parsed: unknown = JSON.parse(readFileSync(candidate, 'utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as Json;
    } catch {
      // an unreadable file is replaced
    }
  }
  return {};
}

async function main(): Promise<void> {
  if (bodies.some((body) => shipscan(body) !== naive(body))) throw new Error('the baseline and the registry disagree on the mix: the comparison would be meaningless');
  const registry = throughput(shipscan, bodies);
  const evaluate = throughput(evaluateOnly, parsedEvents);
  const baseline = throughput(naive, bodies);

  const existing = readExisting();
  const entries = typeof existing.entries === 'object' && existing.entries !== null ? (existing.entries as Json) : {};
  const result = {
    bench: 'security-events',
    node: process.version,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
    entries: {
      ...entries,
      registryThroughput: {
        what: 'queue bodies per second through the security-events pure core (parse, route, detect, Observation), one thread',
        unit: 'events/s',
        goalPerSecond: GOAL_PER_SECOND,
        goalMet: registry.medianPerSecond > GOAL_PER_SECOND,
        method: `${ROUNDS} rounds of >= ${ROUND_MS} ms of process CPU time over the mix in turn, after a ${WARMUP_MS} ms warm-up; median events per CPU-second reported (wall-clock rate beside it; the machine is shared, load average ${os.loadavg()[0]!.toFixed(1)} at the start)`,
        mix: mixSummary(),
        shipscan: registry,
        evaluateOnlyPreParsed: evaluate,
        baselineNaive: { description: 'every detector on every event, each on its own JSON round-trip copy (seed 002 handler loop)', ...baseline },
        speedupOverBaseline: Number((registry.medianPerSecond / baseline.medianPerSecond).toFixed(1)),
      },
    },
  };
  await writeFile(RESULTS, `${JSON.stringify(result, null, 2)}\n`);

  const rate = (n: number) => `${Math.round(n).toLocaleString('en-US')}/s`;
  console.log(`security-events (${parsedEvents.length} corpus-derived events, median of ${ROUNDS} rounds, goal > ${GOAL_PER_SECOND.toLocaleString('en-US')}/s)`);
  console.table({
    'registry: parse + detect + observations': { 'events/CPU-s': rate(registry.medianPerSecond), 'events/wall-s': rate(registry.medianPerWallSecond), ops: registry.ops },
    'registry: detect only (pre-parsed)': { 'events/CPU-s': rate(evaluate.medianPerSecond), 'events/wall-s': rate(evaluate.medianPerWallSecond), ops: evaluate.ops },
    'naive baseline (seed 002 loop)': { 'events/CPU-s': rate(baseline.medianPerSecond), 'events/wall-s': rate(baseline.medianPerWallSecond), ops: baseline.ops },
  });
  console.log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
