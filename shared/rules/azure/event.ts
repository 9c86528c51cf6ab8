import { parseJsonObjectText, readEnvelope } from '../../event-grid';
import type { ArmActivity } from '../types';
import { objectAt, parseArmId, stringAt, textAt, type JsonObject } from './arm';

/**
 * Normalises one ARM event from the subscription's system topic (Event Grid or CloudEvents schema, as
 * decoded by shared/event-grid.ts) into ArmActivity. Every field is read defensively: `data` may arrive as
 * JSON text, `claims` / `authorization` / `httpRequest` as objects, JSON text or placeholder strings (SDK
 * fixtures), values of the wrong type are treated as absent, and free text is length-bounded.
 */

export const ARM_EVENT_TYPES = {
  writeSuccess: 'Microsoft.Resources.ResourceWriteSuccess',
  deleteSuccess: 'Microsoft.Resources.ResourceDeleteSuccess',
  actionSuccess: 'Microsoft.Resources.ResourceActionSuccess',
} as const;

export const CLAIM_UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
export const CLAIM_OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export type NormalisedArmEvent =
  | { kind: 'activity'; activity: ArmActivity }
  | { kind: 'ignored'; id?: string; reason: string }
  | { kind: 'malformed'; id?: string; reason: string };

/** Ids, names and IPs longer than this are not what ARM sends; cut them so nothing unbounded reaches a finding. */
const MAX_TEXT = 1024;

function bounded(value: unknown, max = MAX_TEXT): string | undefined {
  const text = textAt(value);
  return text === undefined ? undefined : text.slice(0, max);
}

function claimsOf(data: JsonObject): JsonObject {
  return objectAt(parseJsonObjectText(data.claims)) ?? {};
}

/** UPN for people, else the object id (service principals and managed identities have no UPN), else the app id. */
export function actorOf(data: JsonObject): string | undefined {
  const claims = claimsOf(data);
  const evidence = objectAt(objectAt(parseJsonObjectText(data.authorization))?.evidence);
  return (
    bounded(claims[CLAIM_UPN], 256) ??
    bounded(claims.upn, 256) ??
    bounded(claims[CLAIM_OBJECT_ID], 256) ??
    bounded(claims.oid, 256) ??
    bounded(claims.appid, 256) ??
    bounded(evidence?.principalId, 256)
  );
}

/** The caller's address: the token's `ipaddr` claim, else the request's clientIpAddress (update/delete events). */
export function sourceIpOf(data: JsonObject): string | undefined {
  const http = objectAt(parseJsonObjectText(data.httpRequest));
  return bounded(claimsOf(data).ipaddr, 64) ?? bounded(http?.clientIpAddress, 64);
}

function isoTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** `/subscriptions/<id>` of the topic / source, when the data does not name the subscription. */
function subscriptionFromTopic(topic: string | undefined): string | undefined {
  return topic ? parseArmId(topic)?.subscriptionId : undefined;
}

export function normaliseArmEvent(raw: unknown): NormalisedArmEvent {
  const envelope = readEnvelope(raw);
  if (envelope.kind === 'malformed') return envelope;
  const { id, eventType } = envelope;
  const data = objectAt(envelope.data);
  const isArmEventType = eventType.toLowerCase().startsWith('microsoft.resources.resource');
  if (!data || stringAt(data.operationName) === undefined) {
    // Only the Microsoft.Resources.Resource* events promise an operationName; anything else on the topic
    // (the subscription validation event, another publisher's type) is not ours to read.
    return isArmEventType
      ? { kind: 'malformed', id, reason: `${eventType} data lacks operationName` }
      : { kind: 'ignored', id, reason: `event type ${eventType}` };
  }
  const operationName = bounded(data.operationName);
  const resourceUri = bounded(data.resourceUri);
  if (!operationName) return { kind: 'malformed', id, reason: `${eventType} data has an empty operationName` };
  if (!resourceUri) return { kind: 'malformed', id, reason: `${eventType} data lacks resourceUri` };
  const eventTime = isoTime(envelope.eventTime);
  if (!eventTime) return { kind: 'malformed', id, reason: `${eventType} has no readable event time (${JSON.stringify(envelope.eventTime ?? null)})` };
  const subscriptionId = bounded(data.subscriptionId, 128) ?? parseArmId(resourceUri)?.subscriptionId ?? subscriptionFromTopic(envelope.topic);
  if (!subscriptionId) return { kind: 'malformed', id, reason: `${eventType} names no subscription (data.subscriptionId, resourceUri, topic)` };

  const activity: ArmActivity = {
    id: id.slice(0, MAX_TEXT),
    eventType,
    eventTime,
    subject: bounded(envelope.subject) ?? resourceUri,
    operationName,
    resourceUri,
    subscriptionId,
  };
  const status = bounded(data.status, 64);
  const actor = actorOf(data);
  const sourceIp = sourceIpOf(data);
  const correlationId = bounded(data.correlationId, 256);
  if (status) activity.status = status;
  if (actor) activity.actor = actor;
  if (sourceIp) activity.sourceIp = sourceIp;
  if (correlationId) activity.correlationId = correlationId;
  return { kind: 'activity', activity };
}
