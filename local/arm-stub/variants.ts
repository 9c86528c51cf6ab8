/**
 * Variants of the published samples (../shared/corpus) for container deployments. No published
 * Event Grid payload carries the ACI/ACA operation names, so these take the storage-account samples
 * and change only what differs for a container write: subject, resourceUri, operationName,
 * resourceProvider, authorization.action (and the correlation/event ids for distinct deployments).
 */

export type Kind = 'ACI' | 'ACA';

const PROVIDER: Record<Kind, { provider: string; type: string; operation: string }> = {
  ACI: { provider: 'Microsoft.ContainerInstance', type: 'containerGroups', operation: 'Microsoft.ContainerInstance/containerGroups/write' },
  ACA: { provider: 'Microsoft.App', type: 'containerApps', operation: 'Microsoft.App/containerApps/write' },
};

export function resourceId(kind: Kind, subscriptionId: string, resourceGroup: string, name: string): string {
  const p = PROVIDER[kind];
  return `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/${p.provider}/${p.type}/${name}`;
}

export interface EventVariant {
  kind: Kind;
  resourceUri: string;
  correlationId: string;
  eventId: string;
  /** Override the operation (e.g. to build an unrelated write). */
  operationName?: string;
}

type Json = Record<string, unknown>;

/** A published event (Event Grid or CloudEvents, one event or a one-element array) turned into a container write. */
export function deploymentEventVariant<T>(sample: T, v: EventVariant): T {
  const events = structuredClone(Array.isArray(sample) ? sample : [sample]) as Json[];
  const p = PROVIDER[v.kind];
  for (const event of events) {
    const data = event.data as Json;
    event.subject = v.resourceUri;
    event.id = v.eventId;
    data.resourceUri = v.resourceUri;
    data.operationName = v.operationName ?? p.operation;
    data.resourceProvider = p.provider;
    data.correlationId = v.correlationId;
    if (data.authorization && typeof data.authorization === 'object') {
      const auth = data.authorization as Json;
      auth.scope = v.resourceUri;
      auth.action = v.operationName ?? p.operation;
    }
  }
  return (Array.isArray(sample) ? events : events[0]) as T;
}

/** The ARM GET body of a container group (corpus `arm/aci-containergroup-get.json`) running other images. */
export function containerGroupVariant(sample: Json, v: { id: string; images: string[]; initImages?: string[] }): Json {
  const body = structuredClone(sample);
  const props = body.properties as Json;
  const template = (props.containers as Json[])[0] as Json;
  body.id = v.id;
  body.name = v.id.split('/').pop();
  props.containers = v.images.map((image, i) => ({ ...structuredClone(template), name: `c${i}`, properties: { ...(structuredClone(template.properties) as Json), image } }));
  if (v.initImages) props.initContainers = v.initImages.map((image, i) => ({ name: `init${i}`, properties: { image, command: [], environmentVariables: [] } }));
  return body;
}

/** The ARM GET body of a container app (corpus `arm/aca-containerapp-get.json`) running other images. */
export function containerAppVariant(sample: Json, v: { id: string; images: string[]; initImages?: string[] }): Json {
  const body = structuredClone(sample);
  const template = (body.properties as Json).template as Json;
  const first = (template.containers as Json[])[0] as Json;
  body.id = v.id;
  body.name = v.id.split('/').pop();
  template.containers = v.images.map((image, i) => ({ ...structuredClone(first), name: `c${i}`, image }));
  template.initContainers = (v.initImages ?? []).map((image, i) => ({ ...structuredClone(first), name: `init${i}`, image }));
  return body;
}
