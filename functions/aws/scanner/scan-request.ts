import { FunctionIdError, resolveFunctionId, type FunctionId } from '../function-arn';

/**
 * Turns one queue message body into a scan request. Four shapes arrive on the scan queue: the
 * EventBridge envelope of a CloudTrail record, the raw record itself (replays), bulk targets, and ECR
 * push events (`ECR Image Action`), which name an image by digest rather than a function.
 */

export interface ScanRequest {
  fn: FunctionId;
  /** CloudTrail event name without its date suffix (`CreateFunction`), or `bulk`. */
  trigger: 'CreateFunction' | 'UpdateFunctionCode' | 'UpdateFunctionConfiguration' | 'bulk';
  eventId?: string;
  eventTime?: string;
}

/**
 * An image pushed to ECR (`ECR Image Action`, PUSH, SUCCESS): scanned by digest before anything deploys it, in
 * the same content cache as Lambda images (`image#<digest>`), so the function that later runs it is a cache hit.
 */
export interface ImagePushRequest {
  account: string;
  region: string;
  repository: string;
  /** `sha256:<64 hex>` */
  digest: string;
  tag?: string;
  trigger: 'ecr-push';
  eventId?: string;
  eventTime?: string;
}

/** `<account>.dkr.ecr.<region>.amazonaws.com` (`.amazonaws.com.cn` in China). */
export function ecrRegistry(account: string, region: string): string {
  return `${account}.dkr.ecr.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

export type ParsedMessage =
  | { kind: 'scan'; request: ScanRequest }
  | { kind: 'image'; request: ImagePushRequest }
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

const REPOSITORY = /^(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const DIGEST = /^sha256:[a-f0-9]{64}$/;

function fromEcrAction(envelope: Json): ParsedMessage {
  const detail = isObject(envelope.detail) ? envelope.detail : {};
  const action = text(detail['action-type']);
  const result = text(detail.result);
  if (action !== 'PUSH') return { kind: 'skip', reason: `ECR image action ${action ?? '(none)'} is not a push` };
  if (result !== 'SUCCESS') return { kind: 'skip', reason: `ECR push ended ${result ?? '(no result)'}` };
  const account = text(envelope.account);
  const region = text(envelope.region);
  const repository = text(detail['repository-name']);
  const digest = text(detail['image-digest']);
  if (!account || !/^[0-9]{12}$/.test(account) || !region) return { kind: 'unrecognised', reason: 'ECR push without a 12-digit account and a region' };
  if (!repository || !REPOSITORY.test(repository)) return { kind: 'unrecognised', reason: `ECR push with an invalid repository name ${JSON.stringify(repository ?? null)}` };
  // Only a digest pins what was pushed; a tag can move before the scan starts.
  if (!digest || !DIGEST.test(digest)) return { kind: 'unrecognised', reason: `ECR push without a sha256 image digest (got ${JSON.stringify(digest ?? null)})` };
  const tag = text(detail['image-tag']);
  const eventId = text(envelope.id);
  const eventTime = text(envelope.time);
  return {
    kind: 'image',
    request: { account, region, repository, digest, ...(tag ? { tag } : {}), trigger: 'ecr-push', ...(eventId ? { eventId } : {}), ...(eventTime ? { eventTime } : {}) },
  };
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
    if (detailType === 'ECR Image Action' && input.source === 'aws.ecr') return fromEcrAction(input);
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
