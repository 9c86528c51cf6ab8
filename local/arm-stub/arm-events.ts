/**
 * Variants of the published ARM events (../shared/corpus/azure: the storage-account write and delete
 * samples, Event Grid and CloudEvents) for any operation the security rules react to. Only what differs for
 * another resource changes: subject, resourceUri, operationName, resourceProvider, authorization.scope and
 * action, the ids, the time and the caller (UPN, object id, IP address claims).
 */

type Json = Record<string, unknown>;

export const CLAIM_UPN = 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn';
export const CLAIM_OBJECT_ID = 'http://schemas.microsoft.com/identity/claims/objectidentifier';

export interface ArmEventVariant {
  operationName: string;
  resourceUri: string;
  eventId: string;
  /** ISO time of the event (also orders what the findings lifecycle sees). */
  eventTime: string;
  /** `Microsoft.Resources.ResourceWriteSuccess` (default for writes) or `...DeleteSuccess`. */
  eventType?: string;
  correlationId?: string;
  subscriptionId?: string;
  /** The caller as the token's claims name it. */
  upn?: string;
  objectId?: string;
  ipAddress?: string;
}

/** `Microsoft.Network` of `Microsoft.Network/networkSecurityGroups/write`. */
function providerOf(operationName: string): string {
  return operationName.split('/')[0] ?? operationName;
}

/** A published ARM event (Event Grid or CloudEvents; one event or a one-element array) turned into another operation. */
export function armEventVariant<T>(sample: T, v: ArmEventVariant): T {
  const events = structuredClone(Array.isArray(sample) ? sample : [sample]) as Json[];
  const eventType = v.eventType ?? (/\/delete$/i.test(v.operationName) ? 'Microsoft.Resources.ResourceDeleteSuccess' : 'Microsoft.Resources.ResourceWriteSuccess');
  for (const event of events) {
    const cloudEvent = 'specversion' in event;
    event.subject = v.resourceUri;
    event.id = v.eventId;
    if (cloudEvent) {
      event.type = eventType;
      event.time = v.eventTime;
    } else {
      event.eventType = eventType;
      event.eventTime = v.eventTime;
    }
    const data = event.data as Json;
    data.resourceUri = v.resourceUri;
    data.operationName = v.operationName;
    data.resourceProvider = providerOf(v.operationName);
    if (v.correlationId) data.correlationId = v.correlationId;
    if (v.subscriptionId) {
      data.subscriptionId = v.subscriptionId;
      const topic = `/subscriptions/${v.subscriptionId}`;
      if (cloudEvent) event.source = topic;
      else event.topic = topic;
    }
    if (data.authorization && typeof data.authorization === 'object') {
      const auth = data.authorization as Json;
      auth.scope = v.resourceUri;
      auth.action = v.operationName;
    }
    if (data.claims && typeof data.claims === 'object') {
      const claims = data.claims as Json;
      if (v.upn) claims[CLAIM_UPN] = v.upn;
      if (v.objectId) claims[CLAIM_OBJECT_ID] = v.objectId;
      if (v.ipAddress) claims.ipaddr = v.ipAddress;
    }
  }
  return (Array.isArray(sample) ? events : events[0]) as T;
}
