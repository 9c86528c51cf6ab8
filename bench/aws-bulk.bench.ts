/**
 * Bulk scan of 10,000 mocked functions (one account, two regions, 5,000 each): ListFunctions pages
 * of 50, one tagging query per region, SendMessageBatch of 10 with the seed's pacing (BATCH_SIZE 100,
 * MAX_WORKERS 10, INVOCATION_DELAY_MS 100). Run three ways: mocks answering at once, mocks with
 * simulated API latency, and without the pacing delay (pure overhead).
 * Run: npx tsx bench/aws-bulk.bench.ts  -> aws-bulk.json (in bench/results/ only with npm run bench -- --write)
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { LambdaClient, ListFunctionsCommand } from '@aws-sdk/client-lambda';
import { GetResourcesCommand, ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SendMessageBatchCommand, SQSClient, type SendMessageBatchRequestEntry } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { ECRClient } from '@aws-sdk/client-ecr';
import { Logger } from '@aws-lambda-powertools/logger';
import { mockClient } from 'aws-sdk-client-mock';
import { AccountClients, SpokeCredentials } from '../functions/aws/account-access';
import { runBulkScan, type BulkSummary } from '../functions/aws/bulk/bulk-scan';
import { resultsFile } from './support/results';

const FUNCTIONS_PER_REGION = 5_000;
const REGIONS = ['eu-west-1', 'us-east-1'];
/** Lambda's 900 s limit; the bulk function should use a small part of it. */
const LAMBDA_TIMEOUT_MS = 900_000;

const delay = (ms: number) => (ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve());

async function scenario(label: string, latency: { list: number; send: number }, invocationDelayMs: number) {
  const instanceMocks: { restore(): void }[] = [];
  const taggingMock = mockClient(ResourceGroupsTaggingAPIClient);
  const sqsMock = mockClient(SQSClient);
  let sendCalls = 0;
  let listCalls = 0;
  try {
    taggingMock.on(GetResourcesCommand).callsFake(async () => {
      await delay(latency.list);
      return { ResourceTagMappingList: [{ ResourceARN: 'arn:aws:lambda:eu-west-1:111111111111:function:fn-1' }] };
    });
    sqsMock.on(SendMessageBatchCommand).callsFake(async (input: { Entries: SendMessageBatchRequestEntry[] }) => {
      sendCalls += 1;
      await delay(latency.send);
      return { Successful: input.Entries.map((e) => ({ Id: e.Id, MessageId: 'm', MD5OfMessageBody: '' })), Failed: [] };
    });
    const started = performance.now();
    const summary: BulkSummary = await runBulkScan(
      { dryRun: false },
      {
        settings: {
          queueUrl: 'https://sqs.eu-west-1.amazonaws.com/111111111111/scan',
          excludePatterns: [/^fn-49\d\d$/],
          selfFunctionNames: new Set(),
          regions: REGIONS,
          batchSize: 100,
          maxWorkers: 10,
          invocationDelayMs,
        },
        // Per-instance mocks: each region's client answers with that region's functions.
        accounts: new AccountClients(new SpokeCredentials(new STSClient({ region: 'eu-west-1' }), []), <T extends LambdaClient | ECRClient>(client: T): T => {
          if (client instanceof LambdaClient) {
            const mock = mockClient(client);
            instanceMocks.push(mock);
            mock.on(ListFunctionsCommand).callsFake(async (input: { Marker?: string; MaxItems?: number }) => {
              listCalls += 1;
              await delay(latency.list);
              const region = await client.config.region();
              const start = input.Marker ? Number(input.Marker) : 0;
              const size = input.MaxItems ?? 50;
              const end = Math.min(start + size, FUNCTIONS_PER_REGION);
              const Functions = [];
              for (let i = start; i < end; i++) Functions.push({ FunctionName: `fn-${i}`, FunctionArn: `arn:aws:lambda:${region}:111111111111:function:fn-${i}` });
              return { Functions, ...(end < FUNCTIONS_PER_REGION ? { NextMarker: String(end) } : {}) };
            });
          }
          return client;
        }),
        tagging: (_account, region) => new ResourceGroupsTaggingAPIClient({ region }),
        sqs: new SQSClient({ region: 'eu-west-1' }),
        logger: new Logger({ serviceName: 'shipscan-bulk', logLevel: 'WARN' }),
        remainingMs: () => LAMBDA_TIMEOUT_MS - (performance.now() - started),
      },
    );
    const ms = Math.round(performance.now() - started);
    const { listed, excluded, enqueued, failed } = summary;
    return { label, latencyMs: latency, invocationDelayMs, ms, shareOfLambdaTimeout: Math.round((ms / LAMBDA_TIMEOUT_MS) * 1000) / 1000, listed, excluded, enqueued, failed, listCalls, sendCalls };
  } finally {
    for (const mock of instanceMocks) mock.restore();
    taggingMock.restore();
    sqsMock.restore();
  }
}

async function main() {
  const runs = [
    await scenario('instant mocks, seed pacing', { list: 0, send: 0 }, 100),
    await scenario('simulated latency (ListFunctions 80 ms, SendMessageBatch 20 ms), seed pacing', { list: 80, send: 20 }, 100),
    await scenario('instant mocks, no pacing delay (overhead only)', { list: 0, send: 0 }, 0),
  ];
  const results = { bench: 'aws-bulk', node: process.version, date: new Date().toISOString(), functions: FUNCTIONS_PER_REGION * REGIONS.length, runs };
  await writeFile(resultsFile('aws-bulk.json'), `${JSON.stringify(results, null, 2)}\n`);
  console.log(`bulk scan of ${results.functions} mocked functions`);
  console.log('scenario                                                                       ms   listed excluded enqueued failed');
  for (const r of runs) {
    console.log(`${r.label.padEnd(76)} ${String(r.ms).padStart(6)} ${String(r.listed).padStart(8)} ${String(r.excluded).padStart(8)} ${String(r.enqueued).padStart(8)} ${String(r.failed).padStart(6)}`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
