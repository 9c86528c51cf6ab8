import { z } from 'zod';

/**
 * The schema-neutral part of reading what an Event Grid subscription delivers to a Storage queue: the queue
 * message (an object the host already parsed, JSON text, base64 of either, or bytes), one event or an array,
 * in Event Grid schema or CloudEvents 1.0. Both the deployment scanner and the security-event rules read their
 * queues through here, so a delivery quirk is handled once.
 */

export class MessageFormatError extends Error {
  override readonly name = 'MessageFormatError';
}

/** One event's envelope, whichever schema it came in; `data` is still untrusted. */
export interface EventEnvelope {
  kind: 'envelope';
  schema: 'eventgrid' | 'cloudevents';
  id: string;
  eventType: string;
  eventTime?: string;
  subject?: string;
  /** Event Grid `topic`, CloudEvents `source`. */
  topic?: string;
  data: unknown;
}

export type EnvelopeResult = EventEnvelope | { kind: 'malformed'; id?: string; reason: string };

const text = z.string().min(1);
const EventGridSchema = z.looseObject({
  id: text,
  eventType: text,
  subject: z.string().optional(),
  eventTime: z.string().optional(),
  topic: z.string().optional(),
  data: z.unknown(),
});
// CloudEvents JSON format carries the payload in `data`, or base64-encoded in `data_base64` (spec 3.1).
const CloudEventSchema = z.looseObject({
  specversion: z.string(),
  id: text,
  type: text,
  source: z.string().optional(),
  subject: z.string().optional(),
  time: z.string().optional(),
  data: z.unknown().optional(),
  data_base64: z.string().optional(),
});

/**
 * ARM first reports some writes under a temporary deployment name, then again under the real id with
 * the same correlation id. The deployment lives at the scope it was started from: a resource group
 * (`/subscriptions/s/resourceGroups/rg/deployments/<name>`), a subscription
 * (`/subscriptions/s/providers/Microsoft.Resources/deployments/<name>`), a management group or the tenant
 * (`.../providers/Microsoft.Management/managementGroups/m/providers/Microsoft.Resources/deployments/<name>`).
 */
const TEMPORARY_DEPLOYMENT =
  /^(\/subscriptions\/[^/]+(\/resourcegroups\/[^/]+)?|\/providers\/microsoft\.management\/managementgroups\/[^/]+)?\/(providers\/microsoft\.resources\/)?deployments\//i;

export function isTemporaryDeploymentUri(resourceUri: string): boolean {
  return TEMPORARY_DEPLOYMENT.test(resourceUri);
}

function looksLikeBase64(s: string): boolean {
  return s.length % 4 === 0 && /^[A-Za-z0-9+/]+={0,2}$/.test(s);
}

/** Turns a queue message into a JSON value, or throws MessageFormatError naming what was wrong. */
export function decodeQueueMessage(message: unknown): unknown {
  if (message === null || message === undefined) throw new MessageFormatError('empty queue message');
  if (typeof message === 'object' && !(message instanceof Uint8Array)) return message;
  let body = message instanceof Uint8Array ? Buffer.from(message).toString('utf8') : String(message);
  body = body.trim();
  if (body === '') throw new MessageFormatError('empty queue message');
  if (!body.startsWith('{') && !body.startsWith('[') && looksLikeBase64(body)) {
    body = Buffer.from(body, 'base64').toString('utf8').trim();
  }
  try {
    return JSON.parse(body);
  } catch (error) {
    throw new MessageFormatError(`queue message is not JSON or base64 JSON (${(error as Error).message})`);
  }
}

/** The events of a queue message, as JSON values. Throws MessageFormatError when the body is unreadable. */
export function decodeEvents(message: unknown): unknown[] {
  const decoded = decodeQueueMessage(message);
  const events = Array.isArray(decoded) ? decoded : [decoded];
  if (events.length === 0) throw new MessageFormatError('queue message holds an empty event array');
  return events;
}

/**
 * A value that should be a JSON object but may arrive as JSON text: the Azure SDKs special-case `data` sent
 * as a string, and SDK fixtures carry `claims` / `authorization` as strings. Text that is not a JSON object
 * stays what it was, so callers can still tell "absent" from "unreadable".
 */
export function parseJsonObjectText(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const trimmed = value.trim();
  if (!trimmed.startsWith('{')) return value;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : value;
  } catch {
    return value;
  }
}

function decodeDataBase64(encoded: string): { kind: 'ok'; value: unknown } | { kind: 'error'; reason: string } {
  const compact = encoded.replace(/\s+/g, '');
  if (!looksLikeBase64(compact)) return { kind: 'error', reason: 'is not base64' };
  try {
    return { kind: 'ok', value: JSON.parse(Buffer.from(compact, 'base64').toString('utf8')) };
  } catch (error) {
    return { kind: 'error', reason: `is not base64 JSON (${(error as Error).message})` };
  }
}

export function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'} (${i.message})`).join(', ');
}

/** Reads one event (an element of `decodeEvents`) into its envelope; `data` given as JSON text is parsed. */
export function readEnvelope(raw: unknown): EnvelopeResult {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { kind: 'malformed', reason: `expected an event object, got ${Array.isArray(raw) ? 'an array' : raw === null ? 'null' : typeof raw}` };
  }
  const record = raw as Record<string, unknown>;
  if ('specversion' in record) {
    const ce = CloudEventSchema.safeParse(record);
    if (!ce.success) return { kind: 'malformed', reason: `CloudEvent lacks ${describeIssues(ce.error)}` };
    let data: unknown = ce.data.data;
    if (data === undefined && ce.data.data_base64 !== undefined) {
      const decoded = decodeDataBase64(ce.data.data_base64);
      if (decoded.kind === 'error') return { kind: 'malformed', id: ce.data.id, reason: `CloudEvent data_base64 ${decoded.reason}` };
      data = decoded.value;
    }
    return {
      kind: 'envelope',
      schema: 'cloudevents',
      id: ce.data.id,
      eventType: ce.data.type,
      eventTime: ce.data.time,
      subject: ce.data.subject,
      topic: ce.data.source,
      data: parseJsonObjectText(data),
    };
  }
  if ('eventType' in record) {
    const eg = EventGridSchema.safeParse(record);
    if (!eg.success) return { kind: 'malformed', reason: `Event Grid event lacks ${describeIssues(eg.error)}` };
    return {
      kind: 'envelope',
      schema: 'eventgrid',
      id: eg.data.id,
      eventType: eg.data.eventType,
      eventTime: eg.data.eventTime,
      subject: eg.data.subject,
      topic: eg.data.topic,
      data: parseJsonObjectText(eg.data.data),
    };
  }
  return { kind: 'malformed', reason: 'neither an Event Grid event (eventType) nor a CloudEvent (specversion)' };
}
