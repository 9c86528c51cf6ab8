/**
 * Tells replayable events apart by their shape, so `npm start -- --event <file>` accepts whatever
 * a user captured: Event Grid events (Event Grid schema or CloudEvents 1.0, one or an array),
 * EventBridge envelopes, raw CloudTrail records (one, an array, or a trail file's `{ Records }`),
 * S3 object writes (data events, Object Created, notification records) and bulk-scan targets
 * `{ functionArn, reason: "bulk" }`.
 */
export type ReplayItem =
  | { kind: 'container-deployment'; cloud: 'azure'; shape: 'eventgrid' | 'cloudevents'; event: Record<string, unknown> }
  | { kind: 'lambda-deployment'; cloud: 'aws'; shape: 'eventbridge' | 'cloudtrail' | 'bulk'; event: Record<string, unknown> }
  | { kind: 's3-object'; cloud: 'aws'; shape: S3ObjectShape; event: Record<string, unknown> }
  | { kind: 'unknown'; cloud: 'unknown'; shape: 'unknown'; event: unknown; reason: string };

/** The kinds of event a replayer handles (local/start/kinds); a new kind adds a member here and a replayer there. */
export type ReplayKind = Exclude<ReplayItem['kind'], 'unknown'>;
export type ItemOfKind<K extends ReplayKind> = Extract<ReplayItem, { kind: K }>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/**
 * S3 object writes (the artifacts capability): CloudTrail data events (raw or in their EventBridge envelope),
 * S3's own Object Created events and S3 event notification records. Other S3 calls (CreateBucket...) stay
 * deployment events, which the deployment rule drops with its reason.
 */
export type S3ObjectShape = 'eventbridge' | 'cloudtrail' | 'notification';
const S3_OBJECT_WRITES = new Set(['PutObject', 'CompleteMultipartUpload', 'CopyObject']);

function s3ObjectShape(event: Record<string, unknown>): S3ObjectShape | undefined {
  const s3Write = (record: Record<string, unknown>) => record.eventSource === 's3.amazonaws.com' && S3_OBJECT_WRITES.has(String(record.eventName));
  if (isObject(event.detail) && event.source === 'aws.s3') {
    if (event['detail-type'] === 'Object Created') return 'eventbridge';
    if (event['detail-type'] === 'AWS API Call via CloudTrail' && s3Write(event.detail)) return 'eventbridge';
    return undefined;
  }
  if (event.eventSource === 'aws:s3' && typeof event.eventName === 'string' && event.eventName.startsWith('ObjectCreated:')) return 'notification';
  return s3Write(event) ? 'cloudtrail' : undefined;
}

function classifyOne(event: unknown): ReplayItem {
  if (!isObject(event)) return { kind: 'unknown', cloud: 'unknown', shape: 'unknown', event, reason: 'expected a JSON object' };
  const s3Object = s3ObjectShape(event);
  if (s3Object) return { kind: 's3-object', cloud: 'aws', shape: s3Object, event };
  if (typeof event.specversion === 'string' && typeof event.type === 'string' && 'source' in event) {
    return { kind: 'container-deployment', cloud: 'azure', shape: 'cloudevents', event };
  }
  if (typeof event.eventType === 'string' && typeof event.subject === 'string' && 'data' in event) {
    return { kind: 'container-deployment', cloud: 'azure', shape: 'eventgrid', event };
  }
  if (typeof event['detail-type'] === 'string' && typeof event.source === 'string' && isObject(event.detail)) {
    return { kind: 'lambda-deployment', cloud: 'aws', shape: 'eventbridge', event };
  }
  if (typeof event.eventName === 'string' && typeof event.eventSource === 'string') {
    return { kind: 'lambda-deployment', cloud: 'aws', shape: 'cloudtrail', event };
  }
  if (typeof event.functionArn === 'string' && event.reason === 'bulk') {
    return { kind: 'lambda-deployment', cloud: 'aws', shape: 'bulk', event };
  }
  return {
    kind: 'unknown',
    cloud: 'unknown',
    shape: 'unknown',
    event,
    reason:
      'not an Event Grid event (eventType+subject+data), a CloudEvent (specversion+type+source), an EventBridge envelope (detail-type+source+detail), a CloudTrail record (eventName+eventSource) or a bulk target ({functionArn, reason: "bulk"})',
  };
}

/** Splits one parsed file into the events it holds, each with its shape. */
export function classifyEvents(document: unknown): ReplayItem[] {
  if (Array.isArray(document)) return document.flatMap((item) => classifyEvents(item));
  if (isObject(document) && Array.isArray(document.Records) && Object.keys(document).length === 1) {
    return document.Records.flatMap((item) => classifyEvents(item));
  }
  return [classifyOne(document)];
}
