import { z } from 'zod';
import { describeIssues, readEnvelope } from '../../shared/event-grid';
import { MAX_ID_CHARS, MAX_RESOURCE_ID_CHARS, tooLong, type ClassifiedEvent, type DeploymentEvent } from './deployment-event';
import type { WorkloadLookup } from './arm-workloads';

/**
 * Reads what the `image-pushes` queue delivers: `Microsoft.ContainerRegistry.ImagePushed` from the system
 * topic of a registry, in the Event Grid schema or as a CloudEvent, with `data` as an object or as JSON
 * text (the Azure SDKs special-case that, so we do too: shared/event-grid parses it). The event names
 * everything a scan needs, `data.request.host` + `data.target.repository` + tag + `data.target.digest`,
 * so a push needs no ARM or registry lookup; the topic (the registry's resource id) says whose it is.
 */

export const IMAGE_PUSHED = 'Microsoft.ContainerRegistry.ImagePushed';

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** A registry host as ACR writes it (`<name>.azurecr.io`, a custom domain, a loopback registry with a port locally). */
const HOST = /^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?(:[0-9]{1,5})?$/i;
const REGISTRY_ID = /^\/subscriptions\/([^/]+)\/resourcegroups\/([^/]+)\/providers\/microsoft\.containerregistry\/registries\/([^/]+)$/i;
/**
 * What a push of a runnable image carries: an image manifest or an index of them. Everything else a
 * registry stores (Helm charts, signatures, SBOMs and other OCI artifacts) is not an image to scan.
 */
const IMAGE_MEDIA_TYPES = new Set([
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
]);
/** Tags cosign and notation give to the signatures, attestations and SBOMs they push next to an image. */
const ARTIFACT_TAG = /^sha256-[a-f0-9]{64}(\.(sig|att|sbom|cosign))?$/;

const text = z.string().min(1);
const DataSchema = z.looseObject({
  id: z.string().optional(),
  action: z.string().optional(),
  location: z.string().optional(),
  target: z.looseObject({
    repository: text,
    digest: text,
    tag: z.string().optional(),
    mediaType: z.string().optional(),
  }),
  request: z.looseObject({ host: text }),
});

export function classifyImagePush(raw: unknown): ClassifiedEvent {
  const envelope = readEnvelope(raw);
  if (envelope.kind === 'malformed') return envelope;
  const { schema, id, eventType, eventTime, topic, data } = envelope;
  if (eventType !== IMAGE_PUSHED) return { kind: 'ignored', id, reason: `event type ${eventType}` };
  const parsed = DataSchema.safeParse(data);
  if (!parsed.success) return { kind: 'malformed', id, reason: `${eventType} data lacks ${describeIssues(parsed.error)}` };
  const d = parsed.data;
  if (d.action !== undefined && d.action.toLowerCase() !== 'push') return { kind: 'ignored', id, reason: `action ${d.action}` };
  const { repository, digest, mediaType } = d.target;
  const tag = d.target.tag || undefined;
  if (mediaType && !IMAGE_MEDIA_TYPES.has(mediaType.toLowerCase())) return { kind: 'ignored', id, reason: `not an image: media type ${mediaType}` };
  if (tag && ARTIFACT_TAG.test(tag)) return { kind: 'ignored', id, reason: `not an image: signature or attestation tag ${tag}` };
  if (!DIGEST.test(digest)) return { kind: 'malformed', id, reason: `target.digest ${JSON.stringify(digest.slice(0, 100))} is not sha256:<64 hex>` };
  const host = d.request.host.toLowerCase();
  if (!HOST.test(host)) return { kind: 'malformed', id, reason: `request.host ${JSON.stringify(d.request.host.slice(0, 100))} is not a registry host` };
  const registry = REGISTRY_ID.exec(topic ?? '');
  if (!registry) return { kind: 'malformed', id, reason: `topic ${JSON.stringify(topic ?? null)} is not a container registry id` };
  const [registryId, subscriptionId, resourceGroup] = registry as unknown as [string, string, string];
  const resourceId = `${registryId}/repositories/${repository}`;
  const oversized = tooLong([
    ['event id', id, MAX_ID_CHARS],
    ['data.id', d.id, MAX_ID_CHARS],
    ['repository id', resourceId, MAX_RESOURCE_ID_CHARS],
  ]);
  if (oversized) return { kind: 'malformed', id, reason: oversized };
  const event: DeploymentEvent = {
    schema,
    id,
    eventType,
    eventTime,
    operationName: IMAGE_PUSHED,
    containerType: 'ACR',
    resourceId,
    resourceKey: resourceId.toLowerCase(),
    subscriptionId,
    resourceGroup,
    name: repository,
    // Redeliveries of one push keep its registry event id; a second push of the same tag gets a new one.
    correlationId: d.id && d.id.length > 0 ? d.id : `event:${id}`,
    image: `${host}/${repository}${tag ? `:${tag}` : ''}@${digest}`,
    ...(d.location ? { location: d.location } : {}),
  };
  return { kind: 'deployment', event };
}

/** A push names its one image: the "workload" is the registry repository, read from the event alone. */
export async function pushedImages(event: DeploymentEvent): Promise<WorkloadLookup> {
  if (!event.image) throw new Error(`event ${event.id} is not a registry push`);
  return {
    kind: 'found',
    workload: {
      resourceId: event.resourceId,
      containerType: 'ACR',
      ...(event.location ? { location: event.location } : {}),
      containers: [{ name: event.name, image: event.image, init: false }],
      registryServers: [],
    },
  };
}
