import { FunctionIdError, resolveFunctionId, type FunctionId } from '../function-arn';

/**
 * Turns one queue message body into a scan request. Three shapes arrive on the scan queue: the
 * EventBridge envelope of a CloudTrail record, the raw record itself (replays), and bulk targets.
 */

export interface ScanRequest {
  fn: FunctionId;
  /** CloudTrail event name without its date suffix (`CreateFunction`), or `bulk`. */
  trigger: 'CreateFunction' | 'UpdateFunctionCode' | 'UpdateFunctionConfiguration' | 'bulk';
  eventId?: string;
  eventTime?: string;
}

export type ParsedMessage =
  | { kind: 'scan'; request: ScanRequest }
  /** A well-formed event that needs no scan (failed call, other API, own function). */
  | { kind: 'skip'; reason: string; fn?: FunctionId }
  /** Not something this scanner understands; retrying cannot help. */
  | { kind: 'unrecognised'; reason: string };

const CODE_EVENTS = /^(CreateFunction|UpdateFunctionCode|UpdateFunctionConfiguration)(?:[0-9]{8}(?:v[0-9]+)?)?$/;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

export interface ParseOptions {
  /** Names (or ARNs) of the scanner's own functions: events about them are skipped. */
  selfFunctionNames: ReadonlySet<string>;
  /**
   * The scanner's own account. A name in selfFunctionNames matches only there: a spoke may well
   * run a function of the same name, and that one must be scanned. Unknown: names match anywhere.
   */
  ownAccount?: string;
}

export function isSelf(fn: FunctionId, options: ParseOptions): boolean {
  if (options.selfFunctionNames.has(fn.arn)) return true;
  if (!options.selfFunctionNames.has(fn.name)) return false;
  return options.ownAccount === undefined || fn.account === options.ownAccount;
}

function fromCloudTrail(record: Json, envelope: Json | undefined, options: ParseOptions): ParsedMessage {
  const eventName = text(record.eventName);
  if (!eventName) return { kind: 'unrecognised', reason: 'CloudTrail record without eventName' };
  const source = text(record.eventSource);
  if (source !== 'lambda.amazonaws.com') return { kind: 'skip', reason: `event ${eventName} from ${source ?? 'an unknown source'} is not a Lambda call` };
  const match = CODE_EVENTS.exec(eventName);
  if (!match) return { kind: 'skip', reason: `event ${eventName} does not change function code` };
  const errorCode = text(record.errorCode);
  if (errorCode) return { kind: 'skip', reason: `call ${eventName} failed with ${errorCode}` };

  const request = isObject(record.requestParameters) ? record.requestParameters : {};
  const response = isObject(record.responseElements) ? record.responseElements : {};
  const identity = isObject(record.userIdentity) ? record.userIdentity : {};
  const account = text(record.recipientAccountId) ?? text(envelope?.account) ?? text(identity.accountId);
  const region = text(record.awsRegion) ?? text(envelope?.region);
  const candidate = text(response.functionArn) ?? text(request.functionName);
  if (!candidate) return { kind: 'unrecognised', reason: `${eventName} record names no function (responseElements.functionArn / requestParameters.functionName)` };
  let fn: FunctionId;
  try {
    fn = resolveFunctionId(candidate, { account, region });
  } catch (error) {
    if (error instanceof FunctionIdError) return { kind: 'unrecognised', reason: error.message };
    throw error;
  }
  if (isSelf(fn, options)) return { kind: 'skip', reason: `function ${fn.name} is part of the scanner`, fn };
  return {
    kind: 'scan',
    request: {
      fn,
      trigger: match[1] as ScanRequest['trigger'],
      eventId: text(record.eventID) ?? text(envelope?.id),
      eventTime: text(record.eventTime) ?? text(envelope?.time),
    },
  };
}

function fromBulkTarget(target: Json, options: ParseOptions): ParsedMessage {
  const arn = text(target.functionArn);
  if (!arn) return { kind: 'unrecognised', reason: 'bulk target without functionArn' };
  let fn: FunctionId;
  try {
    fn = resolveFunctionId(arn, {});
  } catch (error) {
    if (error instanceof FunctionIdError) return { kind: 'unrecognised', reason: error.message };
    throw error;
  }
  if (isSelf(fn, options)) return { kind: 'skip', reason: `function ${fn.name} is part of the scanner`, fn };
  return { kind: 'scan', request: { fn, trigger: 'bulk' } };
}

/** Accepts a parsed JSON value; see parseScanMessage for raw bodies. */
export function parseScanInput(value: unknown, options: ParseOptions): ParsedMessage {
  // Corpus/replay files hold a one-record array; more than one record per message is not a shape anyone sends.
  // Unwrapped in a loop: a body of nested one-element arrays must not cost a stack frame per level.
  let input = value;
  while (Array.isArray(input) && input.length === 1) input = input[0];
  if (Array.isArray(input)) return { kind: 'unrecognised', reason: `expected one event, got an array of ${input.length}` };
  if (!isObject(input)) return { kind: 'unrecognised', reason: `expected a JSON object, got ${input === null ? 'null' : typeof input}` };
  if ('detail-type' in input || ('detail' in input && 'source' in input)) {
    const detailType = text(input['detail-type']);
    if (detailType !== 'AWS API Call via CloudTrail') return { kind: 'skip', reason: `EventBridge event of type ${detailType ?? '(none)'} is not a CloudTrail API call` };
    if (!isObject(input.detail)) return { kind: 'unrecognised', reason: 'EventBridge envelope without a detail object' };
    return fromCloudTrail(input.detail, input, options);
  }
  if ('eventName' in input && 'eventSource' in input) return fromCloudTrail(input, undefined, options);
  if (input.reason === 'bulk' || 'functionArn' in input) return fromBulkTarget(input, options);
  return { kind: 'unrecognised', reason: `unknown message shape with keys ${Object.keys(input).slice(0, 10).join(', ') || '(none)'}` };
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (Buffer.isBuffer(value)) return 'Buffer';
  return typeof value;
}

/**
 * Parses a queue message body. SQS sends text, but a record is only as good as whoever built it (a
 * console test event, a replay): anything else is unrecognised, never a crash that would retry it.
 */
export function parseScanMessage(body: unknown, options: ParseOptions): ParsedMessage {
  if (typeof body !== 'string') return { kind: 'unrecognised', reason: `message body is not text (got ${typeName(body)})` };
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { kind: 'unrecognised', reason: `message body is not JSON (${body.length} characters)` };
  }
  return parseScanInput(json, options);
}
