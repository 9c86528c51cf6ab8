/**
 * S3 object writes (the artifacts capability): CloudTrail data events (raw records, which are wrapped in the
 * envelope EventBridge puts around them, envelopes, trail files), S3's Object Created events and S3 event
 * notification records. Envelopes pass the same EventBridge rules the stack deploys for `aws.artifacts`
 * (aws/artifact-patterns.ts; no bucket or prefix filter locally, the stack's own bucket excluded); notification
 * records go to the object queue directly, as S3 sends them. Before the replay, every bucket an event names
 * exists in s3rver and the objects get the bytes of the `--object` files (see assignObjectFiles); then the real
 * object scanner handler runs on SQS batches of up to 10, redelivering what it hands back for later.
 */
import * as path from 'node:path';
import { objectCreatedPattern, objectWritePattern, type ObjectPatternOptions } from '../../../aws/artifact-patterns';
import { parseObjectEvent, type ObjectRequest } from '../../../functions/aws/artifacts/object-event';
import type { ObjectOutcome, ObjectSummary } from '../../../functions/aws/artifacts/object-pipeline';
import { evaluatePattern } from '../../../shared/event-pattern/match';
import { emptyCounts } from '../../../shared/severity';
import type { ItemOfKind } from '../../replay/detect';
import { RESULTS_BUCKET } from '../../stack/aws-stack';
import type { RunRecorder } from '../recorder';
import type { EventRef, ObjectRow, ScanRow } from '../summary';
import { cloudTrailEnvelope } from './aws-routing';
import type { Delivery, Replayer, Route } from './kind';

const BATCH_SIZE = 10;
const MAX_DELIVERIES = 5;
export const LOCAL_OBJECT_RULE = 'shipscan-local-objects';
export const LOCAL_OBJECT_CREATED_RULE = 'shipscan-local-objects-created';
/** Who settles what the rules let through (the tables name it). */
export const OBJECT_SCANNER = 'object scanner';

type Json = Record<string, unknown>;

/** The local stack's `aws.artifacts`: every bucket and key, never the stack's own results bucket. */
export function localObjectPatternOptions(): ObjectPatternOptions {
  return { includeBuckets: [], excludeBuckets: [], includePrefixes: [], excludePrefixes: [], ownBuckets: [RESULTS_BUCKET] };
}

export function routeS3Object(item: ItemOfKind<'s3-object'>, options: ObjectPatternOptions = localObjectPatternOptions()): Route {
  // S3 sends notification records to the queue itself: the bucket's notification configuration is the filter.
  if (item.shape === 'notification') return { deliver: true, body: item.event };
  const envelope = item.shape === 'cloudtrail' ? cloudTrailEnvelope(item.event) : item.event;
  const created = envelope['detail-type'] === 'Object Created';
  const verdict = evaluatePattern(created ? objectCreatedPattern(options) : objectWritePattern(options), envelope);
  if (verdict.matched) return { deliver: true, body: envelope };
  return { deliver: false, by: `EventBridge rule ${created ? LOCAL_OBJECT_CREATED_RULE : LOCAL_OBJECT_RULE}`, reason: verdict.reason };
}

function requestOf(body: Json): ObjectRequest | undefined {
  const parsed = parseObjectEvent(body);
  return parsed.kind === 'object' ? parsed.request : undefined;
}

/** `PutObject s3://shop-releases/app.tar.gz (123456789012, us-east-1)`. */
export function s3ObjectLabel(item: ItemOfKind<'s3-object'>): string {
  const parsed = parseObjectEvent(item.event);
  if (parsed.kind !== 'object') return `S3 ${String(item.event.eventName ?? item.event['detail-type'] ?? 'event')}`;
  const { request } = parsed;
  return `${request.eventName} s3://${request.bucket}/${request.key} (${request.account}, ${request.region})`;
}

export interface ObjectSlot {
  bucket: string;
  key: string;
}

const slotId = (slot: ObjectSlot) => `${slot.bucket}\u0000${slot.key}`;

/**
 * Which `--object` file stands for which object (each distinct bucket + key once, in event order): the file whose
 * name is the key's last segment; otherwise the files no object claimed by name, in order; a single file stands
 * for every object. An object left without a file is not uploaded: the scanner finds it missing and records it
 * as gone, as for an object deleted before it was read.
 */
export function assignObjectFiles(slots: readonly ObjectSlot[], files: readonly string[]): Map<string, string> {
  const assigned = new Map<string, string>();
  const distinct = [...new Map(slots.map((slot) => [slotId(slot), slot])).values()];
  const byName = new Set<string>();
  for (const slot of distinct) {
    const name = slot.key.split('/').pop() ?? slot.key;
    const file = files.find((candidate) => path.basename(candidate) === name);
    if (file) {
      assigned.set(slotId(slot), file);
      byName.add(file);
    }
  }
  const rest = files.length === 1 ? [...files] : files.filter((file) => !byName.has(file));
  let next = 0;
  for (const slot of distinct) {
    if (assigned.has(slotId(slot)) || rest.length === 0) continue;
    if (files.length === 1) assigned.set(slotId(slot), rest[0]!);
    else if (next < rest.length) assigned.set(slotId(slot), rest[next++]!);
  }
  return assigned;
}

export function objectFileFor(assigned: Map<string, string>, slot: ObjectSlot): string | undefined {
  return assigned.get(slotId(slot));
}

function objectRow(object: ObjectSummary | undefined): ObjectRow | undefined {
  if (!object) return undefined;
  return {
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId ?? null,
    ...(object.sha256 ? { sha256: object.sha256 } : {}),
    ...(object.mime ? { mime: object.mime } : {}),
    ...(object.size !== undefined ? { size: object.size } : {}),
  };
}

function row(object: ObjectSummary | undefined, fields: Pick<ScanRow, 'status' | 'counts' | 'cacheHit'> & { resultKey?: string }): ScanRow {
  const shown = objectRow(object);
  return {
    cloud: 'aws',
    workload: shown ? `s3 ${shown.bucket}/${shown.key}` : 's3 -',
    status: fields.status,
    counts: fields.counts,
    cacheHit: fields.cacheHit,
    resultKey: fields.resultKey ? `s3://${RESULTS_BUCKET}/${fields.resultKey}` : '-',
    ...(shown ? { object: shown } : {}),
  };
}

/** Settles one event from the outcomes of the objects its message announced (one, or a trail file's records). */
function account(recorder: RunRecorder, ref: EventRef, outcomes: readonly ObjectOutcome[], deliveries: number): void {
  const problems: string[] = [];
  const dropped: string[] = [];
  let done = 0;
  for (const outcome of outcomes) {
    switch (outcome.kind) {
      case 'scanned':
        done += 1;
        recorder.scan(row(outcome.object, { status: outcome.limit ? `${outcome.status} (${outcome.limit})` : outcome.status, counts: outcome.counts, cacheHit: false, resultKey: outcome.resultKey }));
        break;
      case 'cache-hit':
        done += 1;
        recorder.scan(row(outcome.object, { status: 'CACHED', counts: outcome.counts, cacheHit: true, resultKey: outcome.resultKey }));
        break;
      case 'skipped':
        // Recorded by the scanner (a SKIPPED ScanResult): a row, and the event counts as ignored with the reason.
        recorder.scan(row(outcome.object, { status: `SKIPPED (${outcome.code})`, counts: emptyCounts(), cacheHit: false, ...(outcome.resultKey ? { resultKey: outcome.resultKey } : {}) }));
        dropped.push(`${outcome.code}: ${outcome.reason}`);
        break;
      case 'ignored':
        dropped.push(outcome.reason);
        break;
      case 'unrecognised':
        problems.push(`the object scanner did not recognise the message: ${outcome.reason}`);
        break;
      case 'retry-later':
        problems.push(`still not ready after ${deliveries} deliveries: ${outcome.reason}`);
        break;
      case 'failed':
        if (outcome.resultKey) recorder.scan(row(outcome.object, { status: `FAILED (${outcome.code})`, counts: emptyCounts(), cacheHit: false, resultKey: outcome.resultKey }));
        problems.push(`${outcome.code}: ${outcome.reason}`);
        break;
    }
  }
  if (problems.length > 0) recorder.failed(ref, problems.join('; '));
  else if (done > 0) recorder.processed(ref);
  else if (dropped.length > 0) recorder.ignored(ref, OBJECT_SCANNER, dropped.join('; '));
  else recorder.failed(ref, 'no outcome from the object scanner');
}

export const s3Objects: Replayer<'s3-object'> = {
  kind: 's3-object',
  cloud: 'aws',
  label: s3ObjectLabel,
  route: (item) => routeS3Object(item),
  async replay(deliveries: Delivery<'s3-object'>[], { stack, recorder, objects, progress }) {
    const aws = stack.aws;
    if (!aws) throw new Error('the AWS half of the embedded stack is not running');
    const slots = deliveries.map((d) => requestOf(d.body)).filter((r): r is ObjectRequest => r !== undefined);
    const files = assignObjectFiles(slots, objects);
    const uploaded = new Set<string>();
    for (const slot of slots) {
      await aws.ensureBucket(slot.bucket);
      const file = objectFileFor(files, slot);
      if (!file || uploaded.has(slotId(slot))) continue;
      uploaded.add(slotId(slot));
      await aws.putObject(slot.bucket, slot.key, { path: file });
      progress(`aws: ${path.basename(file)} uploaded to s3://${slot.bucket}/${slot.key}`);
    }
    let pending = deliveries;
    for (let delivery = 1; pending.length > 0; delivery += 1) {
      const retry: Delivery<'s3-object'>[] = [];
      for (let start = 0; start < pending.length; start += BATCH_SIZE) {
        const batch = pending.slice(start, start + BATCH_SIZE);
        const { records, outcomes, response } = await aws.invokeObjects(batch.map((d) => d.body), delivery);
        const byMessage = new Map(records.map((record, index) => [record.messageId, batch[index]!]));
        const handedBack = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
        for (const { record, outcomes: found } of outcomes) {
          const input = byMessage.get(record.messageId)!;
          const later = found.some((o) => o.kind === 'retry-later');
          if (later && delivery < MAX_DELIVERIES) {
            retry.push(input);
            continue;
          }
          if (found.length === 0 && handedBack.has(record.messageId)) {
            recorder.failed(input.ref, 'the object scanner threw before reaching an outcome (SQS would retry it, then the DLQ keeps it)');
            continue;
          }
          account(recorder, input.ref, found, delivery);
        }
      }
      // The in-flight scan that made a record wait has finished by now (records run one after another).
      pending = retry;
    }
  },
};
