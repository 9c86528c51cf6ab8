/**
 * Lambda deployments (EventBridge envelopes, raw CloudTrail records, bulk targets): routed through the
 * stack's EventBridge rule (./aws-routing.ts), then handed to the real scanner handler as SQS batches
 * of up to 10. Functions the Lambda stub does not know are created from what the event says (package
 * type, code hash, image). A record the handler hands back for later (exit 40, a busy lock) is
 * redelivered after its delay, as SQS would, a bounded number of times.
 */
import { createHash } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { parseScanInput } from '../../../functions/aws/scanner/scan-request';
import type { RecordOutcome } from '../../../functions/aws/scanner/pipeline';
import { parseScanResult } from '../../../shared/scan-result';
import { emptyCounts } from '../../../shared/severity';
import { s3ClientOptions } from '../../emulators/s3rver';
import type { ItemOfKind } from '../../replay/detect';
import { RESULTS_BUCKET, type LocalAwsStack } from '../../stack/aws-stack';
import type { RunRecorder } from '../recorder';
import type { EventRef, ScanRow } from '../summary';
import { routeAwsEvent } from './aws-routing';
import type { Delivery, Replayer } from './kind';

const BATCH_SIZE = 10;
const MAX_REDELIVERIES = 5;

type Json = Record<string, unknown>;

function recordOf(body: Json): Json | undefined {
  if (typeof body['detail-type'] === 'string') return body.detail as Json;
  if (typeof body.eventName === 'string') return body;
  return undefined;
}

/**
 * Makes the function an event names exist in the Lambda stub, shaped as the event describes it,
 * and its account readable by the scanner (a spoke of the local hub unless it is the local account).
 */
export function prepareFunction(stack: LocalAwsStack, body: Json): void {
  const parsed = parseScanInput(body, { selfFunctionNames: new Set() });
  if (parsed.kind !== 'scan') return;
  const fn = parsed.request.fn;
  stack.addSpokeAccount(fn.account);
  if (stack.lambda.has(fn.arn, fn.region)) return;
  const record = recordOf(body);
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

/** `CreateFunction20150331 orders-api (123456789012, us-east-1)`, `bulk arn:...`. */
export function lambdaEventLabel(item: ItemOfKind<'lambda-deployment'>): string {
  if (item.shape === 'bulk') return `bulk ${String(item.event.functionArn)}`;
  const record = (item.shape === 'eventbridge' ? item.event.detail : item.event) as Json;
  const request = (record.requestParameters ?? {}) as Json;
  const named = typeof request.functionName === 'string' ? request.functionName.replace(/^.*:function:/, '').replace(/:.*$/, '') : undefined;
  const where = [record.recipientAccountId, record.awsRegion].filter((part) => typeof part === 'string').join(', ');
  return [String(record.eventName ?? item.event['detail-type'] ?? '?'), named, where ? `(${where})` : undefined].filter(Boolean).join(' ');
}

async function account(recorder: RunRecorder, s3: S3Client, ref: EventRef, body: unknown, outcome: RecordOutcome, deliveries: number): Promise<void> {
  const name = functionLabel(body);
  const row = { cloud: 'aws' as const, workload: `lambda ${name}`, function: name };
  switch (outcome.kind) {
    case 'scanned':
      recorder.processed(ref);
      recorder.scan({ ...row, status: outcome.policyVerdict ? `${outcome.status} (policy ${outcome.policyVerdict})` : outcome.status, counts: outcome.counts, cacheHit: false, resultKey: `s3://${RESULTS_BUCKET}/${outcome.resultKey}` });
      return;
    case 'cache-hit':
      recorder.processed(ref);
      recorder.scan({ ...row, status: 'CACHED', counts: await countsOf(s3, outcome.resultKey), cacheHit: true, resultKey: `s3://${RESULTS_BUCKET}/${outcome.resultKey}` });
      return;
    case 'skipped':
      recorder.ignored(ref, 'scanner', outcome.reason);
      return;
    case 'unrecognised':
      recorder.failed(ref, `the scanner did not recognise the message: ${outcome.reason}`);
      return;
    case 'retry-later':
      recorder.failed(ref, `still not ready after ${deliveries} deliveries: ${outcome.reason}`);
      return;
    case 'failed':
      recorder.failed(ref, `${outcome.code}: ${outcome.reason}`);
      if (outcome.resultKey) recorder.scan({ ...row, status: `FAILED (${outcome.code})`, counts: emptyCounts(), cacheHit: false, resultKey: `s3://${RESULTS_BUCKET}/${outcome.resultKey}` });
      return;
  }
}

export const lambdaDeployments: Replayer<'lambda-deployment'> = {
  kind: 'lambda-deployment',
  cloud: 'aws',
  label: lambdaEventLabel,
  route: (item) => routeAwsEvent(item),
  async replay(deliveries: Delivery<'lambda-deployment'>[], { stack, recorder }) {
    const aws = stack.aws;
    if (!aws) throw new Error('the AWS half of the embedded stack is not running');
    for (const delivery of deliveries) prepareFunction(aws, delivery.body);
    const s3 = new S3Client(s3ClientOptions(aws.s3Endpoint));
    try {
      let pending = deliveries;
      for (let delivery = 1; pending.length > 0; delivery += 1) {
        const retry: Delivery<'lambda-deployment'>[] = [];
        let wait = 0;
        for (let start = 0; start < pending.length; start += BATCH_SIZE) {
          const batch = pending.slice(start, start + BATCH_SIZE);
          const { records, outcomes, response } = await aws.invoke(batch.map((d) => d.body));
          const byMessage = new Map(records.map((record, index) => [record.messageId, batch[index]!]));
          for (const { record, outcome } of outcomes) {
            const input = byMessage.get(record.messageId)!;
            if (outcome.kind === 'retry-later' && delivery <= MAX_REDELIVERIES) {
              retry.push(input);
              wait = Math.max(wait, outcome.delaySec);
              continue;
            }
            await account(recorder, s3, input.ref, input.body, outcome, delivery);
          }
          // A record that threw before reaching an outcome is a batch item failure SQS would retry.
          const answered = new Set(outcomes.map(({ record }) => record.messageId));
          for (const failure of response.batchItemFailures.filter((f) => !answered.has(f.itemIdentifier))) {
            const input = byMessage.get(failure.itemIdentifier);
            if (input) recorder.failed(input.ref, 'the scanner threw before reaching an outcome (SQS would retry it, then the DLQ keeps it)');
          }
        }
        if (retry.length > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(wait, 5) * 1000));
        pending = retry;
      }
    } finally {
      s3.destroy();
    }
  },
};
