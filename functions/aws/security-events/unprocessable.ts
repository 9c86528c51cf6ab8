import { createHash } from 'node:crypto';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { CloudTrailInputError, ParsedCloudTrailEvent } from '../../../shared/rules/aws';

/**
 * A message the security-events function cannot use (it does not parse as CloudTrail, or no detector wants
 * its call) is recorded once and then let go: retrying cannot change it, and a message retried until the DLQ
 * would page someone for nothing. What is kept is small and redacted: where the message went wrong and what
 * routed it there (source, event name, id, account, region, the top-level keys), the body's size and hash,
 * never the request or response parameters, the caller's credentials context or anything else a call
 * carries. `security-events/unprocessable/<yyyy-mm-dd>/<messageId>.json` in the results bucket, so a
 * redelivered message overwrites its own record.
 */

export const UNPROCESSABLE_SCHEMA = 'shipscan.unprocessable-event/v1';
/** At most this many problems and unknown events per record, each string at most TEXT_MAX characters. */
const LIST_MAX = 20;
const TEXT_MAX = 200;

export type UnprocessableReason = 'malformed' | 'unknown-event';

export interface UnknownEventRef {
  path: string;
  eventSource: string;
  eventName: string;
  eventId?: string;
  account: string;
  region: string;
}

export interface UnprocessableRecord {
  schema: typeof UNPROCESSABLE_SCHEMA;
  messageId: string;
  receivedAt: string;
  receiveCount: number;
  reasons: UnprocessableReason[];
  /** Why parts of the message could not be read (path, what was expected, what was there). */
  problems: { path: string; expected: string; got: string }[];
  /** Events that parsed but that no detector handles (a rule broader than the registry, a disabled rule). */
  unknown: UnknownEventRef[];
  /** How many of each were left out to keep the record small. */
  omitted?: { problems: number; unknown: number };
  body: { bytes: number; sha256: string; json: boolean; keys?: string[]; source?: string; detailType?: string };
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  // One line, printable: nothing a log viewer or terminal would interpret.
  const clean = value.replace(/[\u0000-\u001f\u007f-\u009f]/g, ' ');
  return clean.length > TEXT_MAX ? `${clean.slice(0, TEXT_MAX - 1)}…` : clean;
}

function bodyFacts(body: string): UnprocessableRecord['body'] {
  const facts: UnprocessableRecord['body'] = { bytes: Buffer.byteLength(body, 'utf8'), sha256: createHash('sha256').update(body, 'utf8').digest('hex'), json: false };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
    facts.json = true;
  } catch {
    return facts;
  }
  if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) {
    const object = parsed as Record<string, unknown>;
    facts.keys = Object.keys(object).slice(0, LIST_MAX).map((key) => text(key) ?? '');
    const source = text(object.source);
    const detailType = text(object['detail-type']);
    if (source) facts.source = source;
    if (detailType) facts.detailType = detailType;
  }
  return facts;
}

export function unknownEventRef(event: ParsedCloudTrailEvent): UnknownEventRef {
  const ref: UnknownEventRef = {
    path: text(event.path) ?? '',
    eventSource: text(event.record.eventSource) ?? '',
    eventName: text(event.record.eventName) ?? '',
    account: event.account,
    region: text(event.region) ?? '',
  };
  const eventId = text(event.record.eventID);
  if (eventId) ref.eventId = eventId;
  return ref;
}

export function unprocessableRecord(args: {
  messageId: string;
  receivedAt: Date;
  receiveCount: number;
  body: string;
  problems: readonly CloudTrailInputError[];
  unknown: readonly ParsedCloudTrailEvent[];
}): UnprocessableRecord {
  const reasons: UnprocessableReason[] = [];
  if (args.problems.length > 0) reasons.push('malformed');
  if (args.unknown.length > 0) reasons.push('unknown-event');
  const record: UnprocessableRecord = {
    schema: UNPROCESSABLE_SCHEMA,
    messageId: text(args.messageId) ?? '',
    receivedAt: args.receivedAt.toISOString(),
    receiveCount: args.receiveCount,
    reasons,
    problems: args.problems.slice(0, LIST_MAX).map((p) => ({ path: text(p.path) ?? '', expected: text(p.expected) ?? '', got: text(p.got) ?? '' })),
    unknown: args.unknown.slice(0, LIST_MAX).map(unknownEventRef),
    body: bodyFacts(args.body),
  };
  const omitted = { problems: Math.max(0, args.problems.length - LIST_MAX), unknown: Math.max(0, args.unknown.length - LIST_MAX) };
  if (omitted.problems > 0 || omitted.unknown > 0) record.omitted = omitted;
  return record;
}

/** `<prefix>/<yyyy-mm-dd>/<messageId>.json`; the id keeps letters, digits and `-` only (SQS ids are UUIDs). */
export function unprocessableKey(prefix: string, receivedAt: Date, messageId: string): string {
  const id = messageId.replace(/[^A-Za-z0-9-]/g, '_').slice(0, 128) || 'unnamed';
  return `${prefix}/${receivedAt.toISOString().slice(0, 10)}/${id}.json`;
}

export interface UnprocessableSink {
  /** Stores the record; returns where (`s3://bucket/key`). Throws when it could not: the message is then retried. */
  put(record: UnprocessableRecord): Promise<string>;
}

export class S3UnprocessableSink implements UnprocessableSink {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
    private readonly prefix: string,
  ) {}

  async put(record: UnprocessableRecord): Promise<string> {
    const key = unprocessableKey(this.prefix, new Date(record.receivedAt), record.messageId);
    // No SSE header: the bucket's default (the stack key) applies, as for the scan results.
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: `${JSON.stringify(record, null, 2)}\n`, ContentType: 'application/json' }));
    return `s3://${this.bucket}/${key}`;
  }
}
