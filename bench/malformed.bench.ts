/**
 * What one deployment message full of malformed events costs `onDeployment`: 1,000 and 10,000 `{}`
 * events, and a 64 KB body of `[1,1,...]` (the largest a Storage queue message can be), each handed to
 * the deployed handler code over in-memory storage. Reports the time (median of up to 5 runs) and how
 * many error records and telemetry events each message left (after one warm-up run).
 * Run: npx tsx bench/malformed.bench.ts  -> malformed.json (in bench/results/ only with npm run bench -- --write)
 */
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { memoryDeployment } from '../test/support/memory-deployment';
import { resultsFile } from './support/results';

const MAX_RUNS = 5;
const MAX_TOTAL_MS = 2_000;

interface Case {
  name: string;
  events: number;
  body: string;
}

const QUEUE_MESSAGE_BYTES = 64 * 1024;
const ones = Math.floor((QUEUE_MESSAGE_BYTES - 1) / 2);

const CASES: Case[] = [
  { name: '1,000 {} events', events: 1_000, body: JSON.stringify(Array.from({ length: 1_000 }, () => ({}))) },
  { name: '10,000 {} events', events: 10_000, body: JSON.stringify(Array.from({ length: 10_000 }, () => ({}))) },
  { name: `64 KB of [1,1,...] (${ones.toLocaleString('en-US')} events)`, events: ones, body: JSON.stringify(Array.from({ length: ones }, () => 1)) },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function measure(c: Case) {
  const times: number[] = [];
  let errorRecords = 0;
  let telemetryEvents = 0;
  let outcomes = 0;
  let total = 0;
  // One run first: it pays for compiling the handler's code, not for the message.
  await memoryDeployment().handle(c.body, { id: 'warm-up' });
  while (times.length < MAX_RUNS && (times.length === 0 || total < MAX_TOTAL_MS)) {
    const deployment = memoryDeployment();
    const start = performance.now();
    const outcome = await deployment.handle(c.body, { id: `malformed-${times.length}` });
    const ms = performance.now() - start;
    times.push(ms);
    total += ms;
    errorRecords = deployment.stores.results.names('errors/').length;
    telemetryEvents = deployment.telemetry.events.length;
    outcomes = outcome.events.length;
  }
  return { name: c.name, events: c.events, bodyBytes: Buffer.byteLength(c.body), runs: times.length, ms: Number(median(times).toFixed(1)), errorRecords, telemetryEvents, outcomes };
}

async function main(): Promise<void> {
  const results = [];
  for (const c of CASES) results.push(await measure(c));
  const result = {
    bench: 'malformed',
    node: process.version,
    date: new Date().toISOString(),
    machine: `${os.cpus().length} cores`,
    method: `onDeployment (deployed handler code, in-memory storage) on one message; median of up to ${MAX_RUNS} runs`,
    cases: results,
  };
  const out = resultsFile('malformed.json');
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log('malformed events in one deployment message');
  console.table(Object.fromEntries(results.map((r) => [r.name, { 'body bytes': r.bodyBytes, ms: r.ms, 'error records': r.errorRecords, 'telemetry events': r.telemetryEvents }])));
  console.log(`wrote ${path.relative(process.cwd(), out)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
