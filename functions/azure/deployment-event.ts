import { z } from 'zod';
import type { ContainerType } from './telemetry-names';

/**
 * Reads what the `deployments` queue delivers: Event Grid schema or CloudEvents 1.0, one event or an
 * array, as an object the host already parsed, as JSON text, or as base64 of either. Classifies each
 * event as a container deployment to scan, an event to ignore, or malformed input.
 */

export const WRITE_SUCCESS = 'Microsoft.Resources.ResourceWriteSuccess';
export const OPERATIONS: Readonly<Record<string, ContainerType>> = {
  'microsoft.containerinstance/containergroups/write': 'ACI',
  'microsoft.app/containerapps/write': 'ACA',
};

export interface DeploymentEvent {
  schema: 'eventgrid' | 'cloudevents';
  id: string;
  eventType: string;
  eventTime?: string;
  operationName: string;
  containerType: ContainerType;
  /** As published (case kept); compare with `resourceKey`. */
  resourceId: string;
  /** Lower-cased resource id: ARM ids are case-insensitive and events vary the case of `resourceGroups`. */
  resourceKey: string;
  subscriptionId: string;
  resourceGroup: string;
  name: string;
  correlationId: string;
}

export type ClassifiedEvent =
  | { kind: 'deployment'; event: DeploymentEvent }
  | { kind: 'ignored'; id?: string; reason: string }
  | { kind: 'malformed'; id?: string; reason: string };

export class MessageFormatError extends Error {
  override readonly name = 'MessageFormatError';
}

const text = z.string().min(1);
// authorization/claims/httpRequest are objects in the docs and strings in SDK fixtures: we never read them.
const DataSchema = z.looseObject({
  operationName: text,
  resourceUri: text,
  correlationId: z.string().optional(),
  subscriptionId: z.string().optional(),
  resourceGroup: z.string().optional(),
  resourceProvider: z.string().optional(),
});
const EventGridSchema = z.looseObject({ id: text, eventType: text, subject: z.string().optional(), eventTime: z.string().optional(), data: z.unknown() });
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
 * The longest ids a deployment may carry. They become Table keys and properties, blob names and part of
 * the scan-poll message, each bounded by Azure Storage (a string property holds 32K characters, a queue
 * message 64 KB), so a longer one would fail every delivery. ARM's are far shorter: event and correlation
 * ids are GUIDs, and a container group or app id is under 300 characters.
 */
export const MAX_ID_CHARS = 512;
export const MAX_RESOURCE_ID_CHARS = 1024;

function tooLong(fields: readonly (readonly [string, string | undefined, number])[]): string | undefined {
  for (const [name, value, max] of fields) if (value !== undefined && value.length > max) return `${name} of ${value.length} characters (at most ${max})`;
  return undefined;
}

const RESOURCE_ID =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/(microsoft\.containerinstance\/containergroups|microsoft\.app\/containerapps)\/([^/]+)$/i;

/**
 * ARM first reports some writes under a temporary deployment name, then again under the real id with
 * the same correlation id. The deployment lives at the scope it was started from: a resource group
 * (`/subscriptions/s/resourceGroups/rg/deployments/<name>`), a subscription
 * (`/subscriptions/s/providers/Microsoft.Resources/deployments/<name>`), a management group or the tenant
 * (`.../providers/Microsoft.Management/managementGroups/m/providers/Microsoft.Resources/deployments/<name>`).
 */
const TEMPORARY_DEPLOYMENT =
  /^(\/subscriptions\/[^/]+(\/resourcegroups\/[^/]+)?|\/providers\/microsoft\.management\/managementgroups\/[^/]+)?\/(providers\/microsoft\.resources\/)?deployments\//i;

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

function classifyOne(raw: unknown): ClassifiedEvent {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return { kind: 'malformed', reason: `expected an event object, got ${Array.isArray(raw) ? 'an array' : typeof raw}` };
  }
  const record = raw as Record<string, unknown>;
  let schema: DeploymentEvent['schema'];
  let id: string;
  let eventType: string;
  let eventTime: string | undefined;
  let data: unknown;
  if ('specversion' in record) {
    const ce = CloudEventSchema.safeParse(record);
    if (!ce.success) return { kind: 'malformed', reason: `CloudEvent lacks ${describeIssues(ce.error)}` };
    ({ id, type: eventType, time: eventTime, data } = ce.data);
    schema = 'cloudevents';
    if (data === undefined && ce.data.data_base64 !== undefined) {
      const decoded = decodeDataBase64(ce.data.data_base64);
      if (decoded.kind === 'error') return { kind: 'malformed', id, reason: `CloudEvent data_base64 ${decoded.reason}` };
      data = decoded.value;
    }
  } else if ('eventType' in record) {
    const eg = EventGridSchema.safeParse(record);
    if (!eg.success) return { kind: 'malformed', reason: `Event Grid event lacks ${describeIssues(eg.error)}` };
    ({ id, eventType, eventTime, data } = eg.data);
    schema = 'eventgrid';
  } else {
    return { kind: 'malformed', reason: 'neither an Event Grid event (eventType) nor a CloudEvent (specversion)' };
  }
  if (eventType !== WRITE_SUCCESS) return { kind: 'ignored', id, reason: `event type ${eventType}` };
  const parsedData = DataSchema.safeParse(data);
  if (!parsedData.success) return { kind: 'malformed', id, reason: `${eventType} data lacks ${describeIssues(parsedData.error)}` };
  const d = parsedData.data;
  const containerType = OPERATIONS[d.operationName.toLowerCase()];
  if (!containerType) return { kind: 'ignored', id, reason: `operation ${d.operationName}` };
  if (TEMPORARY_DEPLOYMENT.test(d.resourceUri)) {
    return { kind: 'ignored', id, reason: `temporary deployment resource ${d.resourceUri}` };
  }
  const oversized = tooLong([
    ['event id', id, MAX_ID_CHARS],
    ['correlationId', d.correlationId, MAX_ID_CHARS],
    ['resourceUri', d.resourceUri, MAX_RESOURCE_ID_CHARS],
  ]);
  if (oversized) return { kind: 'malformed', id, reason: oversized };
  const match = RESOURCE_ID.exec(d.resourceUri);
  if (!match) return { kind: 'malformed', id, reason: `resourceUri ${JSON.stringify(d.resourceUri)} is not a container group or container app id` };
  const [, subscriptionId, resourceGroup, type, resourceName] = match as unknown as [string, string, string, string, string];
  const typeContainer = type.toLowerCase().startsWith('microsoft.app') ? 'ACA' : 'ACI';
  if (typeContainer !== containerType) {
    return { kind: 'malformed', id, reason: `operation ${d.operationName} does not match resource ${d.resourceUri}` };
  }
  return {
    kind: 'deployment',
    event: {
      schema,
      id,
      eventType,
      eventTime,
      operationName: d.operationName,
      containerType,
      resourceId: d.resourceUri,
      resourceKey: d.resourceUri.toLowerCase(),
      subscriptionId,
      resourceGroup,
      name: resourceName,
      // Without a correlation id the event id is the best we have: redeliveries keep it.
      correlationId: d.correlationId && d.correlationId.length > 0 ? d.correlationId : `event:${id}`,
    },
  };
}

function decodeDataBase64(text: string): { kind: 'ok'; value: unknown } | { kind: 'error'; reason: string } {
  const compact = text.replace(/\s+/g, '');
  if (!looksLikeBase64(compact)) return { kind: 'error', reason: 'is not base64' };
  try {
    return { kind: 'ok', value: JSON.parse(Buffer.from(compact, 'base64').toString('utf8')) };
  } catch (error) {
    return { kind: 'error', reason: `is not base64 JSON (${(error as Error).message})` };
  }
}

function describeIssues(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'} (${i.message})`).join(', ');
}

/** The events of a queue message, as JSON values. Throws MessageFormatError when the body is unreadable. */
export function decodeEvents(message: unknown): unknown[] {
  const decoded = decodeQueueMessage(message);
  const events = Array.isArray(decoded) ? decoded : [decoded];
  if (events.length === 0) throw new MessageFormatError('queue message holds an empty event array');
  return events;
}

/** One event (an element of `decodeEvents`), classified. */
export function classifyEvent(raw: unknown): ClassifiedEvent {
  return classifyOne(raw);
}

/** Every event in the message, classified. Throws MessageFormatError only when the body is unreadable. */
export function classifyMessage(message: unknown): ClassifiedEvent[] {
  return decodeEvents(message).map(classifyOne);
}
