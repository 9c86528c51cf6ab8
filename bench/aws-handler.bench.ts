/**
 * AWS scanner bundles and handler overhead.
 *   1. bundle sizes (esbuild, minified, SDK included)
 *   2. cold `require` time of each bundle in a fresh node process (baseline: requiring the same SDK
 *      clients and Powertools unbundled from node_modules)
 *   3. handler overhead per event, qscanner excluded (an engine that answers at once), over 500
 *      events against dynalite + s3rver and mocked Lambda/SNS: a first scan per event (parse,
 *      GetFunction, lock, S3 put, cache put, tags, SNS, EMF) and a cache hit per event
 * Run: npx tsx bench/aws-handler.bench.ts  -> aws-handler.json (in bench/results/ only with npm run bench -- --write)
 */
import { execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { GetFunctionCommand, LambdaClient, TagResourceCommand } from '@aws-sdk/client-lambda';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { lambdaContext, sqsEvent } from '../local/lambda-invocation';
import { BULK_ENV, coldRequire, SCANNER_ENV } from './support/cold-require';
import { buildAwsFunctions } from '../functions/build';
import { AccountClients, SpokeCredentials } from '../functions/aws/account-access';
import { ResultStore } from '../functions/aws/result-store';
import { CACHE_TABLE_SCHEMA, ScanCache } from '../functions/aws/scan-cache';
import type { ScanEngine } from '../functions/aws/scan-engine';
import { createScannerHandler } from '../functions/aws/scanner/handler';
import { startDynalite } from '../local/emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../local/emulators/s3rver';
import { resultsFile } from './support/results';

const EVENTS = 500;
const REQUIRE_RUNS = 15;
const ROOT = path.resolve(__dirname, '..');

function percentile(sorted: number[], p: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

function stats(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 100) / 100;
  return { n: sorted.length, p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), max: round(sorted[sorted.length - 1]!) };
}


const context = lambdaContext(900_000);

async function handlerOverhead() {
  const dynamo = await startDynalite();
  const s3 = await startS3rver({ buckets: ['bench-results'] });
  const lambdaMock = mockClient(LambdaClient);
  const snsMock = mockClient(SNSClient);
  try {
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    await dynamoClient.send(new CreateTableCommand({ TableName: 'bench-cache', ...CACHE_TABLE_SCHEMA }));
    lambdaMock.on(GetFunctionCommand).callsFake((input: { FunctionName: string }) => {
      const index = Number(input.FunctionName.split('-').pop());
      return {
        Configuration: { FunctionArn: input.FunctionName, CodeSha256: Buffer.from(`code-${index}`).toString('base64'), PackageType: 'Zip', State: 'Active', LastUpdateStatus: 'Successful', Runtime: 'nodejs22.x' },
        Tags: {},
      };
    });
    lambdaMock.on(TagResourceCommand).resolves({});
    snsMock.on(PublishCommand).resolves({ MessageId: 'x' });
    // Stand-in for qscanner: a finished result at once, so only the handler's own work is timed.
    const engine: ScanEngine = {
      async scan(job) {
        const now = new Date().toISOString();
        return {
          kind: 'ok',
          exitCode: 0,
          result: {
            schemaVersion: 1,
            scanId: job.scanId,
            status: 'COMPLETED',
            target: job.resultTarget,
            engine: { name: 'qscanner' },
            startedAt: now,
            completedAt: now,
            counts: { critical: 1, high: 0, medium: 0, low: 0, informational: 0, total: 1 },
            vulnerabilities: [{ id: 'qid-1', cves: ['CVE-2024-0001'], title: 'x', severity: 'CRITICAL', sourceSeverity: 5 }],
          },
        };
      },
    };
    const handler = createScannerHandler({
      settings: {
        resultsBucket: 'bench-results',
        findingsTopicArn: SCANNER_ENV.FINDINGS_TOPIC_ARN,
        cacheTtlDays: 30,
        partialCacheTtlMinutes: 60,
        severityThreshold: 'HIGH',
        tagFunctions: true,
        selfFunctionNames: new Set(),
        scanTimeoutMs: 600_000,
        readyWaitMs: 0,
        retryDelaySec: 60,
        lockTtlMs: 900_000,
        scanProfile: 'pkg+secret',
      },
      accounts: new AccountClients(new SpokeCredentials(new STSClient({ region: 'us-east-1' }), [])),
      cache: new ScanCache(DynamoDBDocumentClient.from(dynamoClient), 'bench-cache'),
      store: new ResultStore(new S3Client(s3ClientOptions(s3.endpoint)), 'bench-results'),
      sns: new SNSClient({ region: 'us-east-1' }),
      sqs: new SQSClient({ region: 'us-east-1' }),
      engine,
      logger: new Logger({ serviceName: 'shipscan-scanner' }),
      metrics: new Metrics({ serviceName: 'shipscan-scanner', namespace: 'Shipscan' }),
    });
    const run = async (label: string) => {
      const samples: number[] = [];
      const write = process.stdout.write.bind(process.stdout);
      let logBytes = 0;
      // Logs and EMF still get serialised; only the terminal write is skipped.
      process.stdout.write = ((chunk: string | Uint8Array) => ((logBytes += chunk.length), true)) as typeof process.stdout.write;
      try {
        for (let i = 0; i < EVENTS; i++) {
          const event = sqsEvent([{ functionArn: `arn:aws:lambda:us-east-1:111111111111:function:bench-fn-${i}`, reason: 'bulk' }]);
          const started = performance.now();
          const response = await handler(event, context);
          samples.push(performance.now() - started);
          if (response.batchItemFailures.length > 0) throw new Error(`${label}: event ${i} failed`);
        }
      } finally {
        process.stdout.write = write;
      }
      return { ...stats(samples), logBytesPerEvent: Math.round(logBytes / EVENTS) };
    };
    // Warm-up so connection setup and JIT are not billed to the first samples.
    const firstScan = await run('first scan');
    const cacheHit = await run('cache hit');
    return { firstScan, cacheHit };
  } finally {
    lambdaMock.restore();
    snsMock.restore();
    await dynamo.stop();
    await s3.stop();
  }
}

async function main() {
  const bundles = await buildAwsFunctions();
  const scannerBundle = path.join(ROOT, 'functions/dist/aws/scanner/index.js');
  const bulkBundle = path.join(ROOT, 'functions/dist/aws/bulk/index.js');
  const scannerRequire = stats(coldRequire(`require(${JSON.stringify(scannerBundle)})`, SCANNER_ENV, REQUIRE_RUNS));
  const bulkRequire = stats(coldRequire(`require(${JSON.stringify(bulkBundle)})`, BULK_ENV, REQUIRE_RUNS));
  const baselineModules = [
    '@aws-sdk/client-lambda',
    '@aws-sdk/client-s3',
    '@aws-sdk/client-dynamodb',
    '@aws-sdk/lib-dynamodb',
    '@aws-sdk/client-sns',
    '@aws-sdk/client-sqs',
    '@aws-sdk/client-sts',
    '@aws-sdk/client-ecr',
    '@aws-sdk/client-secrets-manager',
    '@aws-lambda-powertools/logger',
    '@aws-lambda-powertools/metrics',
    '@aws-lambda-powertools/tracer',
    '@aws-lambda-powertools/batch',
    'zod',
  ];
  const baselineRequire = stats(coldRequire(baselineModules.map((m) => `require(${JSON.stringify(m)})`).join(';'), {}, REQUIRE_RUNS));
  const overhead = await handlerOverhead();

  const results = {
    bench: 'aws-handler',
    node: process.version,
    date: new Date().toISOString(),
    bundles: bundles.map((b) => ({ name: b.name, bytes: b.bytes, kib: Math.round(b.bytes / 102.4) / 10, mapBytes: b.mapBytes, buildMs: Math.round(b.ms) })),
    coldRequireMs: { scanner: scannerRequire, bulk: bulkRequire, baselineUnbundledSdkAndPowertools: baselineRequire },
    handlerOverheadMsPerEvent: { events: EVENTS, ...overhead },
  };
  await writeFile(resultsFile('aws-handler.json'), `${JSON.stringify(results, null, 2)}\n`);

  console.log('bundle            size KiB   build ms');
  for (const b of results.bundles) console.log(`${b.name.padEnd(16)} ${String(b.kib).padStart(9)} ${String(b.buildMs).padStart(10)}`);
  console.log('\ncold require (ms)          p50      p95');
  for (const [name, s] of Object.entries(results.coldRequireMs)) console.log(`${name.padEnd(34)} ${String(s.p50).padStart(7)} ${String(s.p95).padStart(8)}`);
  console.log(`\nhandler overhead per event, ${EVENTS} events, qscanner excluded (ms)   p50      p95`);
  console.log(`first scan (S3 + DynamoDB + tags + SNS)                         ${String(overhead.firstScan.p50).padStart(6)} ${String(overhead.firstScan.p95).padStart(8)}`);
  console.log(`cache hit (DynamoDB + tags)                                     ${String(overhead.cacheHit.p50).padStart(6)} ${String(overhead.cacheHit.p95).padStart(8)}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
