import { z } from 'zod';
import { decodeEvents, describeIssues, isTemporaryDeploymentUri, readEnvelope } from '../../shared/event-grid';
import type { ContainerType } from './telemetry-names';

/**
 * Reads what the `deployments` queue delivers: Event Grid schema or CloudEvents 1.0, one event or an
 * array, as an object the host already parsed, as JSON text, or as base64 of either. Classifies each
 * event as a container deployment to scan, an event to ignore, or malformed input. The envelope and
 * queue decoding live in shared/event-grid.ts (the security-event rules read the same deliveries).
 */

export { decodeEvents, decodeQueueMessage, MessageFormatError } from '../../shared/event-grid';

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
  /**
   * Registry pushes only (containerType ACR): the pushed image, `<host>/<repository>[:<tag>]@<digest>`,
   * straight from the event (no ARM lookup); `resourceId` is then the registry repository.
   */
  image?: string;
  /** Registry pushes only: the region the event names, when it names one. */
  location?: string;
}

export type ClassifiedEvent =
  | { kind: 'deployment'; event: DeploymentEvent }
  | { kind: 'ignored'; id?: string; reason: string }
  | { kind: 'malformed'; id?: string; reason: string };

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

/**
 * The longest ids a deployment may carry. They become Table keys and properties, blob names and part of
 * the scan-poll message, each bounded by Azure Storage (a string property holds 32K characters, a queue
 * message 64 KB), so a longer one would fail every delivery. ARM's are far shorter: event and correlation
 * ids are GUIDs, and a container group or app id is under 300 characters.
 */
export const MAX_ID_CHARS = 512;
export const MAX_RESOURCE_ID_CHARS = 1024;

export function tooLong(fields: readonly (readonly [string, string | undefined, number])[]): string | undefined {
  for (const [name, value, max] of fields) if (value !== undefined && value.length > max) return `${name} of ${value.length} characters (at most ${max})`;
  return undefined;
}

const RESOURCE_ID =
  /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/(microsoft\.containerinstance\/containergroups|microsoft\.app\/containerapps)\/([^/]+)$/i;

function classifyOne(raw: unknown): ClassifiedEvent {
  const envelope = readEnvelope(raw);
  if (envelope.kind === 'malformed') return envelope;
  const { schema, id, eventType, eventTime, data } = envelope;
  if (eventType !== WRITE_SUCCESS) return { kind: 'ignored', id, reason: `event type ${eventType}` };
  const parsedData = DataSchema.safeParse(data);
  if (!parsedData.success) return { kind: 'malformed', id, reason: `${eventType} data lacks ${describeIssues(parsedData.error)}` };
  const d = parsedData.data;
  const containerType = OPERATIONS[d.operationName.toLowerCase()];
  if (!containerType) return { kind: 'ignored', id, reason: `operation ${d.operationName}` };
  if (isTemporaryDeploymentUri(d.resourceUri)) {
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

/** One event (an element of `decodeEvents`), classified. */
export function classifyEvent(raw: unknown): ClassifiedEvent {
  return classifyOne(raw);
}

/** Every event in the message, classified. Throws MessageFormatError only when the body is unreadable. */
export function classifyMessage(message: unknown): ClassifiedEvent[] {
  return decodeEvents(message).map(classifyOne);
}
