/**
 * The security-events handler per event on dynalite and s3rver, AWS API latency excluded: the production
 * wiring (createSecurityEventsHandlerFromEnv: parse, detectors, lifecycle, conditional writes to the findings
 * table, notification outbox, SNS and SES notices composed with Nodemailer, EMF metrics, logs) with SNS and
 * SES answered in process. Each invocation's time is taken, and what its DynamoDB and S3 calls spent in
 * flight (request sent until response read, on dynalite / s3rver, which run in this process) is subtracted:
 * what is left is the handler's own work. Measured twice: as CPU time of the process (the goal's measure: on
 * a shared machine wall time measures the neighbours too, as in the registry bench) and as wall time (kept
 * beside it with the load average), and the wall time with the emulators as a third view.
 * One event per invocation, as a quiet queue delivers them, over the corpus-derived mix repeated in
 * PASSES accounts (each pass a new account, so its findings open and notify again), then every event
 * delivered a second time (each finding exists and was notified: nothing is sent twice).
 * Beside it a naive baseline as seed 002's handler would run: every detector on its own JSON copy of the
 * event, each detection written with an unconditional PutItem and sent to SNS and SES every time.
 * Goal: p95 < 50 ms per event.
 * The results file is shared: this bench writes only `entries.handlerPerEvent` and keeps the other entries.
 * Run: npm run bench -- security-events-handler --write  -> bench/results/security-events.json
 */
import { existsSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { SendEmailCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { createSecurityEventsHandlerFromEnv } from '../functions/aws/security-events/from-env';
import type { SecurityEventOutcome } from '../functions/aws/security-events/pipeline';
import { startDynalite } from '../local/emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../local/emulators/s3rver';
import { lambdaContext, sqsEvent } from '../local/lambda-invocation';
import { answerLocally } from '../local/stack/local-answers';
import { findingsTableSchema } from '../shared/findings/tables';
import { DEFAULT_ALLOW_LISTS } from '../shared/rules/allow-lists';
import { AWS_ACTIVITY_DETECTORS, canonicalEventName, partitionOf, toObservation } from '../shared/rules/aws';
import type { AwsEventContext, CloudTrailRecord } from '../shared/rules/types';
import { securityEventMix } from '../test/rules/aws/support/mix';
import { RECORDED_RESULTS, resultsFile } from './support/results';

const PASSES = 10;
const GOAL_P95_MS = 50;
const NAME = 'security-events.json';
const REGION = 'us-east-1';
const CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const TOPIC = `arn:aws:sns:${REGION}:111111111111:shipscan-findings`;

type Json = Record<string, unknown>;

/** The mix moved to another account: the caller, the recipient and the envelope (resources named in the call stay). */
function inAccount(input: Json, account: string): Json {
  const copy = structuredClone(input);
  const record = (typeof copy.detail === 'object' && copy.detail !== null ? copy.detail : copy) as Json;
  record.recipientAccountId = account;
  if (typeof record.userIdentity === 'object' && record.userIdentity !== null) (record.userIdentity as Json).accountId = account;
  if ('account' in copy) copy.account = account;
  return copy;
}

/**
 * Time spent with at least one DynamoDB or S3 call in flight (overlapping calls counted once), as wall time
 * and as this process's CPU time (the emulators run in this process: their work is in the second).
 */
const api = { ms: 0, cpuMs: 0, inFlight: 0, since: 0, cpuSince: 0 };

/** CPU time of this process in ms (user + system, all threads). */
function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

interface MiddlewareStackHolder {
  middlewareStack: { add(middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>, options: { step: 'initialize'; priority: 'high'; name: string }): void };
}

/** Counts the client's calls into `api`, from the first middleware step to the parsed response. */
function timed<T>(client: T): T {
  (client as unknown as MiddlewareStackHolder).middlewareStack.add(
    (next) => async (args) => {
      if (api.inFlight++ === 0) {
        api.since = performance.now();
        api.cpuSince = cpuMs();
      }
      try {
        return await next(args);
      } finally {
        if (--api.inFlight === 0) {
          api.ms += performance.now() - api.since;
          api.cpuMs += cpuMs() - api.cpuSince;
        }
      }
    },
    { step: 'initialize', priority: 'high', name: 'benchApiTimer' },
  );
  return client;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), p99: round(percentile(sorted, 99)), max: round(sorted[sorted.length - 1]!) };
}

interface Timing {
  /** Per event: wall time minus the DynamoDB / S3 calls' time in flight. */
  samples: number[];
  /**
   * Per event: CPU time of the process minus the CPU time spent while DynamoDB / S3 calls were in flight.
   * On a shared machine the wall time measures the neighbours too; this is what one core spends on the
   * handler's own work (garbage collection included).
   */
  cpu: number[];
  /** Per event: wall time, emulator calls included. */
  wall: number[];
  logBytes: number;
}

/** Times `fn` on each body in turn; logs and EMF are still serialised, only the terminal write is skipped. */
async function timeEach(bodies: readonly string[], fn: (body: string) => Promise<void>): Promise<Timing> {
  const timing: Timing = { samples: [], cpu: [], wall: [], logBytes: 0 };
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  const sink = ((chunk: string | Uint8Array) => ((timing.logBytes += chunk.length), true)) as typeof process.stdout.write;
  process.stdout.write = sink;
  process.stderr.write = sink;
  try {
    for (const body of bodies) {
      const apiBefore = api.ms;
      const apiCpuBefore = api.cpuMs;
      const cpuStart = cpuMs();
      const started = performance.now();
      await fn(body);
      const wall = performance.now() - started;
      timing.wall.push(wall);
      timing.samples.push(wall - (api.ms - apiBefore));
      timing.cpu.push(cpuMs() - cpuStart - (api.cpuMs - apiCpuBefore));
    }
  } finally {
    process.stdout.write = out;
    process.stderr.write = err;
  }
  return timing;
}

/**
 * Seed 002's handler: every detector tried on its own JSON copy of the event, each deciding from the name
 * whether it applies; each alert written as is (no lifecycle, no condition) and sent to SNS and SES, every
 * time the event arrives.
 */
function naiveHandler(doc: DynamoDBDocumentClient, table: string, sns: SNSClient, ses: SESv2Client): (body: string) => Promise<number> {
  return async (body) => {
    const event = JSON.parse(body) as Json;
    let alerts = 0;
    for (const detector of AWS_ACTIVITY_DETECTORS) {
      const copy = JSON.parse(JSON.stringify(event)) as Json;
      const detail = (typeof copy.detail === 'object' && copy.detail !== null ? copy.detail : copy) as Json;
      const eventSource = String(detail.eventSource);
      if (eventSource !== detector.eventSource || detail.errorCode) continue;
      if (!detector.eventNames.includes(canonicalEventName(eventSource, String(detail.eventName)))) continue;
      const region = String(detail.awsRegion ?? copy.region);
      const ctx: AwsEventContext = { allowLists: DEFAULT_ALLOW_LISTS, account: String(detail.recipientAccountId ?? copy.account), region, partition: partitionOf(region) };
      const record = detail as unknown as CloudTrailRecord; // the seed trusts the event's shape as it comes
      let detections;
      try {
        detections = detector.match(record, ctx);
      } catch {
        continue; // the seed logs and moves on
      }
      for (const detection of detections) {
        if (detection.outcome !== 'fail') continue;
        const observation = toObservation(detector, detection, record, ctx);
        const text = `${observation.severity} ${detector.id}: ${observation.title} (${observation.resource.id})`;
        await doc.send(new PutCommand({ TableName: table, Item: { pk: `${detector.id}#${observation.resource.id}#${observation.subject}`, sk: 'alert', observation } }));
        await sns.send(new PublishCommand({ TopicArn: TOPIC, Subject: 'shipscan alert', Message: JSON.stringify(observation) }));
        await ses.send(new SendEmailCommand({ FromEmailAddress: 'shipscan@example.com', Destination: { ToAddresses: ['secops@example.com'] }, Content: { Simple: { Subject: { Data: text }, Body: { Text: { Data: JSON.stringify(observation, null, 2) } } } } }));
        alerts += 1;
      }
    }
    return alerts;
  };
}

function readExisting(file: string): Json {
  for (const candidate of [file, path.join(RECORDED_RESULTS, NAME)]) {
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
  const dynamo = await startDynalite();
  const s3 = await startS3rver();
  const rawDynamo = timed(new DynamoDBClient({ endpoint: dynamo.endpoint, region: REGION, credentials: CREDENTIALS }));
  const s3Client = timed(new S3Client(s3ClientOptions(s3.endpoint)));
  try {
    await rawDynamo.send(new CreateTableCommand({ TableName: 'findings', ...findingsTableSchema() }));
    await rawDynamo.send(new CreateTableCommand({ TableName: 'naive-alerts', AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, { AttributeName: 'sk', AttributeType: 'S' }], KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, { AttributeName: 'sk', KeyType: 'RANGE' }], BillingMode: 'PAY_PER_REQUEST' }));
    await s3Client.send(new CreateBucketCommand({ Bucket: 'bench-results' }));
    const doc = DynamoDBDocumentClient.from(rawDynamo, { marshallOptions: { removeUndefinedValues: true } });
    let sent = 0;
    const sns = answerLocally(new SNSClient({ region: REGION, credentials: CREDENTIALS }), () => ({ MessageId: `sns-${++sent}` }));
    const ses = answerLocally(new SESv2Client({ region: REGION, credentials: CREDENTIALS }), () => ({ MessageId: `ses-${++sent}` }));

    const outcomes: SecurityEventOutcome[] = [];
    const handler = createSecurityEventsHandlerFromEnv({
      env: {
        ...process.env,
        AWS_REGION: REGION,
        FINDINGS_TABLE: 'findings',
        FINDINGS_TOPIC_ARN: TOPIC,
        RESULTS_BUCKET: 'bench-results',
        FINDINGS_SETTINGS: JSON.stringify({ email: { from: 'shipscan@example.com', to: ['secops@example.com'] } }),
        POWERTOOLS_SERVICE_NAME: 'shipscan-security-events',
        METRICS_NAMESPACE: 'Shipscan',
        // No X-Ray daemon here; tracing's cost is the daemon's UDP send, which is not the handler's work.
        POWERTOOLS_TRACE_ENABLED: 'false',
      },
      clients: { dynamo: doc, s3: s3Client, sns, ses },
      onOutcome: (_record, outcome) => outcomes.push(outcome),
    });
    const context = lambdaContext(60_000, 'shipscan-security-events');
    const invoke = async (body: string) => {
      const response = await handler(sqsEvent([JSON.parse(body)]), context);
      if (response.batchItemFailures.length > 0) throw new Error('a bench event failed');
    };

    const mix = securityEventMix();
    const bodies = Array.from({ length: PASSES }, (_, pass) => mix.map((entry) => JSON.stringify(inAccount(entry.input, `20000000000${pass}`)))).flat();
    // Warm-up in an account of its own: connections, JIT and the recorder's first build (the notify
    // settings) are not billed to the samples.
    const warmup = mix.map((entry) => JSON.stringify(inAccount(entry.input, '299999999999')));
    await timeEach(warmup, invoke);
    outcomes.length = 0;
    const sentBefore = sent;
    const first = await timeEach(bodies, invoke);
    const transitions = outcomes.reduce((n, o) => n + (o.kind === 'processed' ? o.transitions.length : 0), 0);
    const noticesFirst = sent - sentBefore;
    outcomes.length = 0;
    const sentBeforeRedelivery = sent;
    const again = await timeEach(bodies, invoke);
    const transitionsAgain = outcomes.reduce((n, o) => n + (o.kind === 'processed' ? o.transitions.length : 0), 0);
    const noticesAgain = sent - sentBeforeRedelivery;

    const naive = naiveHandler(doc, 'naive-alerts', sns, ses);
    await timeEach(warmup, async (body) => void (await naive(body)));
    const sentBeforeNaive = sent;
    const naiveFirst = await timeEach(bodies, async (body) => void (await naive(body)));
    const naiveNotices = sent - sentBeforeNaive;
    const sentBeforeNaiveAgain = sent;
    const naiveAgain = await timeEach(bodies, async (body) => void (await naive(body)));
    const naiveNoticesAgain = sent - sentBeforeNaiveAgain;

    const all = stats([...first.samples, ...again.samples]);
    const allWall = stats([...first.wall, ...again.wall]);
    const allCpu = stats([...first.cpu, ...again.cpu]);
    const naiveCpu = stats([...naiveFirst.cpu, ...naiveAgain.cpu]);
    const file = resultsFile(NAME);
    const existing = readExisting(file);
    const entries = typeof existing.entries === 'object' && existing.entries !== null ? (existing.entries as Json) : {};
    const result = {
      ...existing,
      bench: 'security-events',
      node: process.version,
      date: new Date().toISOString(),
      machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`,
      entries: {
        ...entries,
        handlerPerEvent: {
          what: 'security-events handler per event (one-record SQS invocations), production wiring on dynalite + s3rver, SNS and SES answered in process; DynamoDB and S3 calls in flight excluded (AWS API latency), as CPU time and as wall time; the wall time with the emulators beside them',
          unit: 'ms',
          goalP95Ms: GOAL_P95_MS,
          goalMeasure: 'shipscan.cpuExcludingApi.all.p95',
          p95Ms: allCpu.p95,
          goalMet: allCpu.p95 < GOAL_P95_MS,
          wallExcludingApiP95Ms: all.p95,
          goalMetOnWallExcludingApi: all.p95 < GOAL_P95_MS,
          method: `${mix.length}-event corpus-derived mix in ${PASSES} accounts (${bodies.length} events), then the same ${bodies.length} events delivered again, one event per invocation, after a warm-up over the mix in an account of its own; per invocation, process CPU time and wall time, each minus what its DynamoDB and S3 calls took while in flight (load average ${os.loadavg()[0]!.toFixed(1)} at the start, ${os.cpus().length} cores shared)`,
          shipscan: {
            deliveries: { first: { events: bodies.length, transitions, notices: noticesFirst }, redelivery: { events: bodies.length, transitions: transitionsAgain, notices: noticesAgain } },
            wallExcludingApi: { all, firstDelivery: stats(first.samples), redelivery: stats(again.samples) },
            cpuExcludingApi: { all: allCpu, firstDelivery: stats(first.cpu), redelivery: stats(again.cpu) },
            wallWithEmulators: { all: allWall, firstDelivery: stats(first.wall), redelivery: stats(again.wall) },
            logBytesPerEvent: Math.round((first.logBytes + again.logBytes) / (bodies.length * 2)),
          },
          baselineNaive: {
            description: 'seed 002 loop: every detector on its own JSON copy of the event, each alert an unconditional PutItem plus an SNS and an SES send, every delivery',
            deliveries: { first: { events: bodies.length, notices: naiveNotices }, redelivery: { events: bodies.length, notices: naiveNoticesAgain } },
            wallExcludingApi: { all: stats([...naiveFirst.samples, ...naiveAgain.samples]), firstDelivery: stats(naiveFirst.samples), redelivery: stats(naiveAgain.samples) },
            cpuExcludingApi: { all: naiveCpu, firstDelivery: stats(naiveFirst.cpu), redelivery: stats(naiveAgain.cpu) },
            wallWithEmulators: { all: stats([...naiveFirst.wall, ...naiveAgain.wall]) },
          },
        },
      },
    };
    await writeFile(file, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`security-events handler per event (${bodies.length} events, each delivered twice; goal p95 < ${GOAL_P95_MS} ms)`);
    console.table({
      'shipscan, all, CPU excluding API': allCpu,
      'shipscan, first delivery, CPU excluding API': stats(first.cpu),
      'shipscan, redelivery, CPU excluding API': stats(again.cpu),
      'shipscan, all, wall excluding API': all,
      'shipscan, all, wall with emulators': allWall,
      'naive baseline, all, CPU excluding API': naiveCpu,
      'naive baseline, all, wall excluding API': stats([...naiveFirst.samples, ...naiveAgain.samples]),
      'naive baseline, all, wall with emulators': stats([...naiveFirst.wall, ...naiveAgain.wall]),
    });
    console.log(`notices: shipscan ${noticesFirst} then ${noticesAgain} on redelivery; naive ${naiveNotices} then ${naiveNoticesAgain}`);
    console.log(`wrote ${file}`);
  } finally {
    rawDynamo.destroy();
    s3Client.destroy();
    await dynamo.stop();
    await s3.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
