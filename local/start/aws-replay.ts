/**
 * Replays AWS events through the embedded scanner: functions the Lambda stub does not know are
 * created from what the event says (package type, code hash, image), then the events go to the
 * scanner handler as SQS batches of up to 10. A record the handler hands back for later (exit 40,
 * a busy lock) is redelivered after its delay, as SQS would, a bounded number of times.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseScanInput } from '../../functions/aws/scanner/scan-request';
import type { RecordOutcome } from '../../functions/aws/scanner/pipeline';
import { parseScanResult } from '../../shared/scan-result';
import { emptyCounts } from '../../shared/severity';
import { s3ClientOptions } from '../emulators/s3rver';
import type { ReplayItem } from '../replay/detect';
import { RESULTS_BUCKET, type LocalAwsStack } from '../stack/aws-stack';
import { emptySummary, type ReplaySummary, type ScanRow } from './summary';

const BATCH_SIZE = 10;
const MAX_REDELIVERIES = 5;

type Json = Record<string, unknown>;

function recordOf(item: Extract<ReplayItem, { cloud: 'aws' }>): Json | undefined {
  if (item.shape === 'eventbridge') return item.event.detail as Json;
  if (item.shape === 'cloudtrail') return item.event;
  return undefined;
}

/**
 * Makes the function an event names exist in the Lambda stub, shaped as the event describes it,
 * and its account readable by the scanner (a spoke of the local hub unless it is the local account).
 */
export function prepareFunction(stack: LocalAwsStack, item: Extract<ReplayItem, { cloud: 'aws' }>): void {
  const parsed = parseScanInput(item.event, { selfFunctionNames: new Set() });
  if (parsed.kind !== 'scan') return;
  const fn = parsed.request.fn;
  stack.addSpokeAccount(fn.account);
  if (stack.lambda.has(fn.arn, fn.region)) return;
  const record = recordOf(item);
  const response = (record?.responseElements ?? {}) as Json;
  const request = (record?.requestParameters ?? {}) as Json;
  const imageUri = typeof (request.code as Json | undefined)?.imageUri === 'string' ? String((request.code as Json).imageUri) : undefined;
  const isImage = response.packageType === 'Image' || imageUri !== undefined;
  if (isImage) {
    const repository = `${fn.account}.dkr.ecr.${fn.region}.amazonaws.com/${fn.name}`;
    const digest = `sha256:${createHash('sha256').update(imageUri ?? repository).digest('hex')}`;
    stack.lambda.putFunction({
      name: fn.name,
      account: fn.account,
      region: fn.region,
      partition: fn.partition,
      packageType: 'Image',
      imageUri: imageUri ?? `${repository}:latest`,
      resolvedImageUri: `${(imageUri ?? repository).replace(/[:@][^/]*$/, '')}@${digest}`,
    });
  } else {
    stack.lambda.putFunction({
      name: fn.name,
      account: fn.account,
      region: fn.region,
      partition: fn.partition,
      packageType: 'Zip',
      runtime: typeof response.runtime === 'string' ? response.runtime : undefined,
      codeSha256: typeof response.codeSha256 === 'string' ? response.codeSha256 : undefined,
    });
  }
}

async function countsOf(s3: S3Client, key: string): Promise<ScanRow['counts']> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: RESULTS_BUCKET, Key: key }));
    return parseScanResult(JSON.parse(await object.Body!.transformToString())).counts;
  } catch {
    return emptyCounts();
  }
}

function functionLabel(body: unknown): string {
  const parsed = parseScanInput(body, { selfFunctionNames: new Set() });
  return parsed.kind === 'scan' ? parsed.request.fn.name : parsed.kind === 'skip' && parsed.fn ? parsed.fn.name : '-';
}

export async function replayAws(stack: LocalAwsStack, items: Extract<ReplayItem, { cloud: 'aws' }>[]): Promise<ReplaySummary> {
  const summary = emptySummary();
  summary.events = items.length;
  for (const item of items) prepareFunction(stack, item);
  const s3 = new S3Client(s3ClientOptions(stack.s3Endpoint));
  let pending: unknown[] = items.map((item) => item.event);
  for (let delivery = 0; pending.length > 0; delivery += 1) {
    const retry: unknown[] = [];
    let wait = 0;
    for (let start = 0; start < pending.length; start += BATCH_SIZE) {
      const batch = pending.slice(start, start + BATCH_SIZE);
      const { outcomes, response } = await stack.invoke(batch);
      for (const { record, outcome } of outcomes) {
        const body: unknown = JSON.parse(record.body);
        if (outcome.kind === 'retry-later' && delivery < MAX_REDELIVERIES) {
          retry.push(body);
          wait = Math.max(wait, outcome.delaySec);
          continue;
        }
        await account(summary, s3, body, outcome);
      }
      // A record that threw before reaching an outcome is a batch item failure SQS would retry.
      const answered = new Set(outcomes.map(({ record }) => record.messageId));
      summary.failed += response.batchItemFailures.filter((failure) => !answered.has(failure.itemIdentifier)).length;
    }
    if (retry.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5) * 1000));
    pending = retry;
  }
  s3.destroy();
  return summary;
}

async function account(summary: ReplaySummary, s3: S3Client, body: unknown, outcome: RecordOutcome): Promise<void> {
  const name = functionLabel(body);
  switch (outcome.kind) {
    case 'scanned':
      summary.processed += 1;
      summary.scans.push({ cloud: 'aws', workload: `lambda ${name}`, function: name, status: outcome.policyVerdict ? `${outcome.status} (policy ${outcome.policyVerdict})` : outcome.status, counts: outcome.counts, cacheHit: false, resultKey: `s3://${RESULTS_BUCKET}/${outcome.resultKey}` });
      return;
    case 'cache-hit':
      summary.processed += 1;
      summary.scans.push({ cloud: 'aws', workload: `lambda ${name}`, function: name, status: 'CACHED', counts: await countsOf(s3, outcome.resultKey), cacheHit: true, resultKey: `s3://${RESULTS_BUCKET}/${outcome.resultKey}` });
      return;
    case 'skipped':
      summary.ignored += 1;
      return;
    case 'unrecognised':
      summary.failed += 1;
      return;
    case 'retry-later':
      summary.failed += 1;
      summary.scans.push({ cloud: 'aws', workload: `lambda ${name}`, function: name, status: `NOT READY (${outcome.reason})`, counts: emptyCounts(), cacheHit: false, resultKey: '-' });
      return;
    case 'failed':
      summary.failed += 1;
      summary.scans.push({ cloud: 'aws', workload: `lambda ${name}`, function: name, status: `FAILED (${outcome.code})`, counts: emptyCounts(), cacheHit: false, resultKey: outcome.resultKey ? `s3://${RESULTS_BUCKET}/${outcome.resultKey}` : '-' });
      return;
  }
}
