/**
 * Turns one message of the object queue into the objects it announces. Three sources, each with its own key
 * encoding (what GetObject needs is the key itself):
 * - CloudTrail data events (`PutObject`, `CompleteMultipartUpload`, `CopyObject`; the EventBridge envelope, the
 *   raw record, or a trail file's `{ "Records": [...] }`): `requestParameters.key` is the key as S3 received it,
 *   already decoded, so it is taken as is; a record without it names the object in `resources[]` as
 *   `arn:aws:s3:::<bucket>/<key>`, also raw.
 * - S3 "Object Created" events on EventBridge: `detail.object.key` is URL-encoded with `%XX` escapes and a `+`
 *   is a plus sign (not a space), so it is percent-decoded only.
 * - S3 event notification records (`Records[].s3`, as S3 sends to SQS / SNS / Lambda): keys are form-encoded, a
 *   space is `+`, so `+` becomes a space before the `%XX` escapes are decoded.
 * A malformed escape leaves the key as it arrived (rather than guessing), and the GetObject then says whether
 * the object exists.
 */

export type ObjectEventName = 'PutObject' | 'CompleteMultipartUpload' | 'CopyObject' | 'POST Object';
export type ObjectSource = 'cloudtrail' | 'object-created' | 's3-notification';

export interface ObjectRequest {
  /** The bucket owner's account: the role to read with is there. */
  account: string;
  region: string;
  bucket: string;
  key: string;
  versionId?: string;
  /** As the event says (absent when it does not say, e.g. CompleteMultipartUpload in CloudTrail). */
  size?: number;
  eventName: ObjectEventName;
  source: ObjectSource;
  eventId?: string;
  eventTime?: string;
  /** Principal that wrote the object, when the event names one. */
  actor?: string;
}

export type ParsedObjectEvent =
  | { kind: 'object'; request: ObjectRequest }
  /** Well formed but nothing to read (a failed call, another API). */
  | { kind: 'skip'; reason: string }
  | { kind: 'unrecognised'; reason: string };

type Json = Record<string, unknown>;

const CLOUDTRAIL_EVENTS = new Set(['PutObject', 'CompleteMultipartUpload', 'CopyObject']);
const OBJECT_CREATED_REASONS = new Set(['PutObject', 'POST Object', 'CopyObject', 'CompleteMultipartUpload']);
/** Trail files hold thousands of records; a message is one delivery, so a bound keeps it one invocation's work. */
export const MAX_RECORDS_PER_MESSAGE = 100;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function size(value: unknown): number | undefined {
  const n = typeof value === 'string' ? Number(value) : value;
  return typeof n === 'number' && Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * `%XX` escapes as UTF-8; with `plusIsSpace`, `+` is a space first (form encoding). Returns the input unchanged
 * when an escape is malformed or the bytes are not UTF-8.
 */
export function decodeKey(encoded: string, options: { plusIsSpace: boolean }): string {
  const spaced = options.plusIsSpace ? encoded.replace(/\+/g, ' ') : encoded;
  if (!spaced.includes('%')) return spaced;
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

const ACCOUNT = /^[0-9]{12}$/;

function objectFromArn(resources: unknown, bucket: string): string | undefined {
  if (!Array.isArray(resources)) return undefined;
  const prefix = `arn:aws:s3:::${bucket}/`;
  for (const resource of resources) {
    if (!isObject(resource)) continue;
    const arn = text(resource.ARN) ?? text(resource.arn);
    if (resource.type === 'AWS::S3::Object' && arn?.startsWith(prefix)) return arn.slice(prefix.length) || undefined;
  }
  return undefined;
}

function bucketOwner(resources: unknown): string | undefined {
  if (!Array.isArray(resources)) return undefined;
  for (const resource of resources) {
    if (!isObject(resource) || resource.type !== 'AWS::S3::Bucket') continue;
    const owner = text(resource.accountId) ?? text(resource.accountid);
    if (owner && ACCOUNT.test(owner)) return owner;
  }
  return undefined;
}

function fromCloudTrail(record: Json, envelope: Json | undefined): ParsedObjectEvent {
  const eventName = text(record.eventName);
  if (!eventName) return { kind: 'unrecognised', reason: 'CloudTrail record without eventName' };
  if (record.eventSource !== 's3.amazonaws.com') return { kind: 'skip', reason: `event ${eventName} from ${text(record.eventSource) ?? 'an unknown source'} is not an S3 call` };
  if (!CLOUDTRAIL_EVENTS.has(eventName)) return { kind: 'skip', reason: `S3 event ${eventName} writes no new object` };
  const errorCode = text(record.errorCode);
  if (errorCode) return { kind: 'skip', reason: `call ${eventName} failed with ${errorCode}` };
  const request = isObject(record.requestParameters) ? record.requestParameters : {};
  const response = isObject(record.responseElements) ? record.responseElements : {};
  const bucket = text(request.bucketName);
  if (!bucket) return { kind: 'unrecognised', reason: `${eventName} record names no bucket (requestParameters.bucketName)` };
  const key = text(request.key) ?? objectFromArn(record.resources, bucket);
  if (!key) return { kind: 'unrecognised', reason: `${eventName} record names no object key (requestParameters.key or an AWS::S3::Object resource)` };
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const account = bucketOwner(record.resources) ?? text(record.recipientAccountId) ?? text(envelope?.account);
  const region = text(record.awsRegion) ?? text(envelope?.region);
  if (!account || !ACCOUNT.test(account)) return { kind: 'unrecognised', reason: `${eventName} record names no 12-digit bucket owner account` };
  if (!region) return { kind: 'unrecognised', reason: `${eventName} record names no region` };
  const extra = isObject(record.additionalEventData) ? record.additionalEventData : {};
  // bytesTransferredIn is the request body: the object for PutObject, a small XML list for CompleteMultipartUpload.
  const bytes = eventName === 'PutObject' ? size(extra.bytesTransferredIn) : undefined;
  const versionId = text(response['x-amz-version-id']);
  const eventId = text(record.eventID) ?? text(envelope?.id);
  const eventTime = text(record.eventTime) ?? text(envelope?.time);
  const actor = text(identity.arn);
  return {
    kind: 'object',
    request: {
      account,
      region,
      bucket,
      key,
      ...(versionId ? { versionId } : {}),
      ...(bytes !== undefined && bytes > 0 ? { size: bytes } : {}),
      eventName: eventName as ObjectEventName,
      source: 'cloudtrail',
      ...(eventId ? { eventId } : {}),
      ...(eventTime ? { eventTime } : {}),
      ...(actor ? { actor } : {}),
    },
  };
}

function fromObjectCreated(envelope: Json): ParsedObjectEvent {
  const detail = isObject(envelope.detail) ? envelope.detail : {};
  const bucket = text(isObject(detail.bucket) ? detail.bucket.name : undefined);
  const object = isObject(detail.object) ? detail.object : {};
  const rawKey = text(object.key);
  const account = text(envelope.account);
  const region = text(envelope.region);
  if (!bucket || !rawKey) return { kind: 'unrecognised', reason: 'Object Created event without detail.bucket.name and detail.object.key' };
  if (!account || !ACCOUNT.test(account) || !region) return { kind: 'unrecognised', reason: 'Object Created event without a 12-digit account and a region' };
  const reason = text(detail.reason);
  if (reason && !OBJECT_CREATED_REASONS.has(reason)) return { kind: 'skip', reason: `Object Created with reason ${reason}` };
  const versionId = text(object['version-id']);
  const bytes = size(object.size);
  const eventId = text(envelope.id);
  const eventTime = text(envelope.time);
  const requester = text(detail.requester);
  return {
    kind: 'object',
    request: {
      account,
      region,
      bucket,
      key: decodeKey(rawKey, { plusIsSpace: false }),
      ...(versionId ? { versionId } : {}),
      ...(bytes !== undefined ? { size: bytes } : {}),
      eventName: (reason ?? 'PutObject') as ObjectEventName,
      source: 'object-created',
      ...(eventId ? { eventId } : {}),
      ...(eventTime ? { eventTime } : {}),
      ...(requester ? { actor: requester } : {}),
    },
  };
}

function fromNotification(record: Json): ParsedObjectEvent {
  const eventName = text(record.eventName) ?? '';
  if (!eventName.startsWith('ObjectCreated:')) return { kind: 'skip', reason: `S3 notification ${eventName || '(no eventName)'} is not an object creation` };
  const s3 = isObject(record.s3) ? record.s3 : {};
  const bucketInfo = isObject(s3.bucket) ? s3.bucket : {};
  const object = isObject(s3.object) ? s3.object : {};
  const bucket = text(bucketInfo.name);
  const rawKey = text(object.key);
  const region = text(record.awsRegion);
  // Notifications name no account; the bucket's owner is the one the stack reads, and the replay sets it.
  const account = text(record.recipientAccountId) ?? text((record.userIdentity as Json | undefined)?.accountId);
  if (!bucket || !rawKey || !region) return { kind: 'unrecognised', reason: 'S3 notification without s3.bucket.name, s3.object.key and awsRegion' };
  if (!account || !ACCOUNT.test(account)) return { kind: 'unrecognised', reason: 'S3 notification without a 12-digit account (recipientAccountId)' };
  const versionId = text(object.versionId);
  const bytes = size(object.size);
  const kind = eventName.slice('ObjectCreated:'.length);
  const names: Record<string, ObjectEventName> = { Put: 'PutObject', Post: 'POST Object', Copy: 'CopyObject', CompleteMultipartUpload: 'CompleteMultipartUpload' };
  return {
    kind: 'object',
    request: {
      account,
      region,
      bucket,
      key: decodeKey(rawKey, { plusIsSpace: true }),
      ...(versionId ? { versionId } : {}),
      ...(bytes !== undefined ? { size: bytes } : {}),
      eventName: names[kind] ?? 'PutObject',
      source: 's3-notification',
    },
  };
}

/** One event (not a list) of any of the three sources. */
export function parseObjectEvent(event: unknown): ParsedObjectEvent {
  if (!isObject(event)) return { kind: 'unrecognised', reason: `expected a JSON object, got ${event === null ? 'null' : Array.isArray(event) ? 'array' : typeof event}` };
  if ('detail-type' in event || ('detail' in event && 'source' in event)) {
    const detailType = text(event['detail-type']);
    if (!isObject(event.detail)) return { kind: 'unrecognised', reason: 'EventBridge envelope without a detail object' };
    if (detailType === 'Object Created' && event.source === 'aws.s3') return fromObjectCreated(event);
    if (detailType === 'AWS API Call via CloudTrail') return fromCloudTrail(event.detail, event);
    return { kind: 'skip', reason: `EventBridge event ${detailType ?? '(no detail-type)'} from ${text(event.source) ?? '?'} announces no object` };
  }
  if ('eventName' in event && 'eventSource' in event) {
    return event.eventSource === 'aws:s3' ? fromNotification(event) : fromCloudTrail(event, undefined);
  }
  return { kind: 'unrecognised', reason: `unknown message shape with keys ${Object.keys(event).slice(0, 10).join(', ') || '(none)'}` };
}

/**
 * A message body: one event, a one-event array, or a file of records (`{ "Records": [...] }`: a CloudTrail trail
 * file or an S3 notification), each record its own object (at most MAX_RECORDS_PER_MESSAGE).
 */
export function parseObjectMessage(body: unknown): ParsedObjectEvent[] {
  if (typeof body !== 'string') return [{ kind: 'unrecognised', reason: `message body is not text (got ${body === null ? 'null' : typeof body})` }];
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return [{ kind: 'unrecognised', reason: `message body is not JSON (${body.length} characters)` }];
  }
  let records: unknown[] = [json];
  if (Array.isArray(json)) records = json;
  else if (isObject(json) && Array.isArray(json.Records) && Object.keys(json).length === 1) records = json.Records;
  if (records.length === 0) return [{ kind: 'unrecognised', reason: 'an empty list of events' }];
  if (records.length > MAX_RECORDS_PER_MESSAGE) return [{ kind: 'unrecognised', reason: `${records.length} records in one message (at most ${MAX_RECORDS_PER_MESSAGE})` }];
  return records.map(parseObjectEvent);
}

export interface ObjectFilter {
  /** Exact bucket names; empty: every bucket. */
  includeBuckets: readonly string[];
  excludeBuckets: readonly string[];
  /** Key prefixes; empty: every key. */
  includePrefixes: readonly string[];
  excludePrefixes: readonly string[];
  /** The stack's own buckets (results, logs, trail): never read, never recorded (a record there would loop). */
  ownBuckets: readonly string[];
}

export type FilterVerdict = { pass: true } | { pass: false; own: boolean; code: 'EXCLUDED_BUCKET' | 'EXCLUDED_PREFIX'; reason: string };

/** The same choice the EventBridge rule makes (aws/artifact-patterns.ts), again here for events that reach the queue some other way. */
export function filterObject(request: Pick<ObjectRequest, 'bucket' | 'key'>, filter: ObjectFilter): FilterVerdict {
  if (filter.ownBuckets.includes(request.bucket)) return { pass: false, own: true, code: 'EXCLUDED_BUCKET', reason: `bucket ${request.bucket} belongs to this stack` };
  if (filter.excludeBuckets.includes(request.bucket)) return { pass: false, own: false, code: 'EXCLUDED_BUCKET', reason: `bucket ${request.bucket} is excluded` };
  if (filter.includeBuckets.length > 0 && !filter.includeBuckets.includes(request.bucket)) {
    return { pass: false, own: false, code: 'EXCLUDED_BUCKET', reason: `bucket ${request.bucket} is not among the configured buckets` };
  }
  const excluded = filter.excludePrefixes.find((prefix) => request.key.startsWith(prefix));
  if (excluded !== undefined) return { pass: false, own: false, code: 'EXCLUDED_PREFIX', reason: `key prefix ${excluded} is excluded` };
  if (filter.includePrefixes.length > 0 && !filter.includePrefixes.some((prefix) => request.key.startsWith(prefix))) {
    return { pass: false, own: false, code: 'EXCLUDED_PREFIX', reason: 'key is under none of the configured prefixes' };
  }
  return { pass: true };
}
