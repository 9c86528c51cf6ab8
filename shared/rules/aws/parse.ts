import type { AllowLists } from '../allow-lists';
import type { AwsEventContext, CloudTrailRecord, CloudTrailUserIdentity } from '../types';
import { isObject, type Json } from './record';

/**
 * What arrives on the security-events queue, told apart by shape: an EventBridge envelope (`detail` is the
 * CloudTrail record), a raw CloudTrail record (replays), a trail file `{ "Records": [...] }`, or an array of
 * any of those (corpus files, `npm start --event`). Every record is checked and copied into a typed
 * CloudTrailRecord (fields of the wrong type are dropped, not trusted); what cannot be read becomes a typed
 * error naming what was expected, beside the records that could, so one bad record does not cost the rest.
 */

export interface ParsedCloudTrailEvent {
  record: CloudTrailRecord;
  /** The EventBridge detail-type, when the record came in an envelope. */
  detailType?: string;
  /** The account the event is about: recipientAccountId, else the envelope's account, else the caller's. */
  account: string;
  region: string;
  partition: string;
  /** Where in the input the record was (`detail`, `[2]`, `Records[5]`): for error reports and logs. */
  path: string;
}

export class CloudTrailInputError extends Error {
  override readonly name = 'CloudTrailInputError';
  constructor(
    /** Where in the input (`''` for the whole message). */
    readonly path: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`${path || 'message'}: expected ${expected}, got ${got}`);
  }
}

export interface CloudTrailInput {
  events: ParsedCloudTrailEvent[];
  errors: CloudTrailInputError[];
}

const SHAPES = 'an EventBridge envelope, a CloudTrail record, a trail file { "Records": [...] } or an array of those';
const ACCOUNT = /^[0-9]{12}$/;

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (isObject(value)) {
    const keys = Object.keys(value);
    return keys.length === 0 ? 'an empty object' : `an object with keys ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`;
  }
  return typeof value === 'string' ? `a string of ${value.length} characters` : `${typeof value} ${String(value).slice(0, 40)}`;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function copyStrings<K extends string>(source: Json, keys: readonly K[]): Partial<Record<K, string>> {
  const out: Partial<Record<K, string>> = {};
  for (const key of keys) {
    const value = text(source[key]);
    if (value !== undefined) out[key] = value;
  }
  return out;
}

function userIdentityOf(value: unknown): CloudTrailUserIdentity | undefined {
  if (!isObject(value)) return undefined;
  const identity: CloudTrailUserIdentity = copyStrings(value, ['type', 'principalId', 'arn', 'accountId', 'userName', 'invokedBy'] as const);
  const session = isObject(value.sessionContext) ? value.sessionContext : undefined;
  if (session) {
    identity.sessionContext = {};
    if (isObject(session.sessionIssuer)) identity.sessionContext.sessionIssuer = copyStrings(session.sessionIssuer, ['type', 'arn', 'userName', 'accountId'] as const);
    if (isObject(session.attributes)) identity.sessionContext.attributes = copyStrings(session.attributes, ['mfaAuthenticated', 'creationDate'] as const);
  }
  return identity;
}

const OPTIONAL_STRINGS = ['eventVersion', 'eventID', 'awsRegion', 'sourceIPAddress', 'userAgent', 'errorCode', 'errorMessage', 'recipientAccountId', 'eventType', 'eventCategory'] as const;

/** The typed copy of a record, or why it is not one. */
function recordOf(value: unknown, path: string): CloudTrailRecord | CloudTrailInputError {
  const expected = 'a CloudTrail record with string eventSource, eventName and an ISO eventTime';
  if (!isObject(value)) return new CloudTrailInputError(path, expected, describe(value));
  const eventSource = text(value.eventSource);
  const eventName = text(value.eventName);
  const eventTime = text(value.eventTime);
  if (!eventSource || !eventName || !eventTime) return new CloudTrailInputError(path, expected, describe(value));
  if (Number.isNaN(Date.parse(eventTime))) return new CloudTrailInputError(path ? `${path}.eventTime` : 'eventTime', 'an ISO 8601 time', JSON.stringify(eventTime.slice(0, 40)));
  const record: CloudTrailRecord = { eventTime, eventSource, eventName, ...copyStrings(value, OPTIONAL_STRINGS) };
  const identity = userIdentityOf(value.userIdentity);
  if (identity) record.userIdentity = identity;
  // A service that changed nothing logs null; another type is not something a rule can read.
  record.requestParameters = isObject(value.requestParameters) ? value.requestParameters : null;
  record.responseElements = isObject(value.responseElements) ? value.responseElements : null;
  if (isObject(value.additionalEventData)) record.additionalEventData = value.additionalEventData;
  if (typeof value.readOnly === 'boolean') record.readOnly = value.readOnly;
  if (Array.isArray(value.resources)) {
    record.resources = value.resources.filter(isObject).map((r) => copyStrings(r, ['ARN', 'type', 'accountId'] as const));
  }
  return record;
}

/** The partition of a region (falling back to the caller's ARN for regions it does not know). */
export function partitionOf(region: string, callerArn?: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  const fromArn = callerArn ? /^arn:([a-z-]+):/.exec(callerArn)?.[1] : undefined;
  return fromArn ?? 'aws';
}

function eventOf(value: unknown, path: string, envelope: Json | undefined, out: CloudTrailInput): void {
  const record = recordOf(value, path);
  if (record instanceof CloudTrailInputError) {
    out.errors.push(record);
    return;
  }
  const accountCandidates = [record.recipientAccountId, text(envelope?.account), record.userIdentity?.accountId];
  const account = accountCandidates.find((a): a is string => a !== undefined && ACCOUNT.test(a));
  if (!account) {
    out.errors.push(new CloudTrailInputError(path, "a 12-digit account id in recipientAccountId, the envelope's account or userIdentity.accountId", accountCandidates.filter(Boolean).map((a) => JSON.stringify(a)).join(', ') || 'none'));
    return;
  }
  const region = record.awsRegion ?? text(envelope?.region);
  if (!region) {
    out.errors.push(new CloudTrailInputError(path, "a region in awsRegion or the envelope's region", 'none'));
    return;
  }
  const detailType = text(envelope?.['detail-type']);
  out.events.push({ record, ...(detailType ? { detailType } : {}), account, region, partition: partitionOf(region, record.userIdentity?.arn), path });
}

function isEnvelope(value: Json): boolean {
  return 'detail-type' in value || ('detail' in value && 'source' in value);
}

function oneItem(value: unknown, path: string, out: CloudTrailInput, allowNesting: boolean): void {
  if (Array.isArray(value)) {
    if (!allowNesting) {
      out.errors.push(new CloudTrailInputError(path, 'an envelope or a record, not a nested array', describe(value)));
      return;
    }
    value.forEach((item, i) => oneItem(item, `${path}[${i}]`, out, false));
    return;
  }
  if (!isObject(value)) {
    out.errors.push(new CloudTrailInputError(path, SHAPES, describe(value)));
    return;
  }
  if (isEnvelope(value)) {
    const detailType = text(value['detail-type']);
    // API calls, console sign-ins and service events all come "via CloudTrail"; anything else is another service's event.
    if (detailType !== undefined && !detailType.endsWith('via CloudTrail')) {
      out.errors.push(new CloudTrailInputError(`${path}['detail-type']`, 'a CloudTrail detail-type ("AWS API Call via CloudTrail", "AWS Console Sign In via CloudTrail"...)', JSON.stringify(detailType)));
      return;
    }
    eventOf(value.detail, path ? `${path}.detail` : 'detail', value, out);
    return;
  }
  if (allowNesting && Array.isArray(value.Records)) {
    value.Records.forEach((item, i) => eventOf(item, `${path}Records[${i}]`, undefined, out));
    return;
  }
  if ('eventName' in value || 'eventSource' in value) {
    eventOf(value, path, undefined, out);
    return;
  }
  out.errors.push(new CloudTrailInputError(path, SHAPES, describe(value)));
}

/** Reads an already-parsed JSON value. */
export function parseCloudTrailInput(input: unknown): CloudTrailInput {
  const out: CloudTrailInput = { events: [], errors: [] };
  oneItem(input, '', out, true);
  return out;
}

/** Reads a queue message body. */
export function parseCloudTrailMessage(body: string): CloudTrailInput {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { events: [], errors: [new CloudTrailInputError('', 'a JSON message', `${body.length} characters that are not JSON`)] };
  }
  return parseCloudTrailInput(json);
}

/** The context detectors get for a parsed event. */
export function eventContext(event: ParsedCloudTrailEvent, allowLists: AllowLists): AwsEventContext {
  const ctx: AwsEventContext = { allowLists, account: event.account, region: event.region, partition: event.partition };
  if (event.detailType) ctx.detailType = event.detailType;
  return ctx;
}
