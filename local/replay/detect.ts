import { DEFAULT_REGISTRY } from '../../shared/rules/aws';
import { WATCHED_OPERATIONS } from '../../azure/names';
import { parseJsonObjectText } from '../../shared/event-grid';
import { armOperationNames } from '../../shared/rules/azure/registry';

/**
 * Tells replayable events apart by their shape, so `npm start -- --event <file>` accepts whatever
 * a user captured: Event Grid events (Event Grid schema or CloudEvents 1.0, one or an array),
 * EventBridge envelopes, raw CloudTrail records (one, an array, or a trail file's `{ Records }`),
 * S3 object writes (data events, Object Created, notification records) and bulk-scan targets
 * `{ functionArn, reason: "bulk" }`. AWS calls a security-event detector handles
 * (AuthorizeSecurityGroupIngress, PutBucketPolicy, StopLogging, ConsoleLogin...) are security events; the
 * Lambda deployment calls and everything else stay with the deployment replayer (the two rules share no name).
 * ARM events of an operation the security rules react to are security events; container writes stay
 * deployments (the system topic delivers them to both subscriptions, and the deployment replayer passes them
 * on: ./start/kinds/security-fan-out.ts).
 */
export type ReplayItem =
  | { kind: 'container-deployment'; cloud: 'azure'; shape: 'eventgrid' | 'cloudevents'; event: Record<string, unknown> }
  | { kind: 'image-push'; cloud: 'azure'; shape: 'eventgrid' | 'cloudevents'; event: Record<string, unknown> }
  | { kind: 'azure-security-event'; cloud: 'azure'; shape: 'eventgrid' | 'cloudevents'; event: Record<string, unknown> }
  | { kind: 'lambda-deployment'; cloud: 'aws'; shape: 'eventbridge' | 'cloudtrail' | 'bulk'; event: Record<string, unknown> }
  | { kind: 's3-object'; cloud: 'aws'; shape: S3ObjectShape; event: Record<string, unknown> }
  | { kind: 'aws-security-event'; cloud: 'aws'; shape: 'eventbridge' | 'cloudtrail'; event: Record<string, unknown> }
  | { kind: 'unknown'; cloud: 'unknown'; shape: 'unknown'; event: unknown; reason: string };

/** The kinds of event a replayer handles (local/start/kinds); a new kind adds a member here and a replayer there. */
export type ReplayKind = Exclude<ReplayItem['kind'], 'unknown'>;
export type ItemOfKind<K extends ReplayKind> = Extract<ReplayItem, { kind: K }>;

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Event types of the artifact sources (registry and storage system topics); every other Event Grid event is an ARM event. */
const AZURE_ARTIFACT_KINDS: Readonly<Record<string, 'image-push'>> = {
  'microsoft.containerregistry.imagepushed': 'image-push',
};

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

/** Whether a detector of the security-events registry handles the record's call (its name and source). */
function isSecurityCall(record: unknown): boolean {
  return isObject(record) && typeof record.eventSource === 'string' && typeof record.eventName === 'string' && DEFAULT_REGISTRY.detectorsFor(record.eventSource, record.eventName).length > 0;
}

/** Operations only the security subscriptions carry (lower-case; container writes go to the deployment scanner first). */
const SECURITY_ONLY_OPERATIONS = new Set(
  armOperationNames()
    .operationNames.map((name) => name.toLowerCase())
    .filter((name) => !WATCHED_OPERATIONS.some((watched) => watched.toLowerCase() === name)),
);

/** `data.operationName` of an Event Grid or CloudEvents event, data given as an object or as JSON text. */
function operationOf(event: Record<string, unknown>): string | undefined {
  const data = parseJsonObjectText(event.data);
  return isObject(data) && typeof data.operationName === 'string' ? data.operationName : undefined;
}

function azureKind(event: Record<string, unknown>): 'container-deployment' | 'azure-security-event' {
  return SECURITY_ONLY_OPERATIONS.has(operationOf(event)?.trim().toLowerCase() ?? '') ? 'azure-security-event' : 'container-deployment';
}

function classifyOne(event: unknown): ReplayItem {
  if (!isObject(event)) return { kind: 'unknown', cloud: 'unknown', shape: 'unknown', event, reason: 'expected a JSON object' };
  const s3Object = s3ObjectShape(event);
  if (s3Object) return { kind: 's3-object', cloud: 'aws', shape: s3Object, event };
  if (typeof event.specversion === 'string' && typeof event.type === 'string' && 'source' in event) {
    return { kind: AZURE_ARTIFACT_KINDS[event.type.toLowerCase()] ?? azureKind(event), cloud: 'azure', shape: 'cloudevents', event };
  }
  if (typeof event.eventType === 'string' && typeof event.subject === 'string' && 'data' in event) {
    return { kind: AZURE_ARTIFACT_KINDS[event.eventType.toLowerCase()] ?? azureKind(event), cloud: 'azure', shape: 'eventgrid', event };
  }
  if (typeof event['detail-type'] === 'string' && typeof event.source === 'string' && isObject(event.detail)) {
    return isSecurityCall(event.detail) ? { kind: 'aws-security-event', cloud: 'aws', shape: 'eventbridge', event } : { kind: 'lambda-deployment', cloud: 'aws', shape: 'eventbridge', event };
  }
  if (typeof event.eventName === 'string' && typeof event.eventSource === 'string') {
    return isSecurityCall(event) ? { kind: 'aws-security-event', cloud: 'aws', shape: 'cloudtrail', event } : { kind: 'lambda-deployment', cloud: 'aws', shape: 'cloudtrail', event };
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
