/**
 * Artifact events as their system topics send them, shaped like the examples of "Azure Container
 * Registry as an Event Grid source" and "Azure Blob Storage as an Event Grid source"
 * (learn.microsoft.com/azure/event-grid/event-schema-container-registry, event-schema-blob-storage):
 * `Microsoft.ContainerRegistry.ImagePushed` and `Microsoft.Storage.BlobCreated`, in the Event Grid schema
 * or as CloudEvents 1.0. The demo, the ready examples and the tests build theirs here.
 */
import { createHash, randomUUID } from 'node:crypto';

type Json = Record<string, unknown>;

export function registryId(subscription: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.ContainerRegistry/registries/${name}`;
}

export function storageAccountId(subscription: string, resourceGroup: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${resourceGroup}/providers/Microsoft.Storage/storageAccounts/${name}`;
}

export interface ImagePushInput {
  registryId: string;
  /** `<name>.azurecr.io` */
  host: string;
  repository: string;
  tag?: string;
  digest: string;
  schema?: 'eventgrid' | 'cloudevents';
  /** `data` as JSON text, as some producers and SDK fixtures send it. */
  dataAsString?: boolean;
  eventId?: string;
  /** The registry's own event id (`data.id`): the same for every delivery of one push. */
  pushId?: string;
  mediaType?: string;
  time?: string;
}

export function imagePushEvent(input: ImagePushInput): Json {
  const time = input.time ?? new Date().toISOString();
  const data = {
    id: input.pushId ?? randomUUID(),
    timestamp: time,
    action: 'push',
    target: {
      mediaType: input.mediaType ?? 'application/vnd.docker.distribution.manifest.v2+json',
      size: 3023,
      digest: input.digest,
      length: 3023,
      repository: input.repository,
      ...(input.tag ? { tag: input.tag } : {}),
    },
    request: { id: randomUUID(), host: input.host, method: 'PUT', useragent: 'docker/24.0.7 go/go1.20.10 git-commit/311b9ff os/linux arch/amd64' },
  };
  const payload = input.dataAsString ? JSON.stringify(data) : data;
  const subject = `${input.repository}${input.tag ? `:${input.tag}` : ''}`;
  const id = input.eventId ?? randomUUID();
  if (input.schema === 'cloudevents') {
    return { id, source: input.registryId, subject, type: 'Microsoft.ContainerRegistry.ImagePushed', time, data: payload, specversion: '1.0' };
  }
  return { id, topic: input.registryId, subject, eventType: 'Microsoft.ContainerRegistry.ImagePushed', eventTime: time, data: payload, dataVersion: '1.0', metadataVersion: '1' };
}

export interface BlobCreatedInput {
  accountId: string;
  container: string;
  /** The blob name as stored (unicode, spaces: the subject carries it as is, the url percent-encoded). */
  blob: string;
  size: number;
  contentType?: string;
  schema?: 'eventgrid' | 'cloudevents';
  eventId?: string;
  /** Public-cloud form `https://<account>.blob.core.windows.net` unless given (e.g. Azurite's). */
  blobEndpoint?: string;
  api?: string;
  time?: string;
}

export function blobCreatedEvent(input: BlobCreatedInput): Json {
  const account = input.accountId.split('/').pop() ?? 'account';
  const endpoint = (input.blobEndpoint ?? `https://${account}.blob.core.windows.net`).replace(/\/+$/, '');
  const encodedPath = [input.container, ...input.blob.split('/')].map(encodeURIComponent).join('/');
  const time = input.time ?? new Date().toISOString();
  const id = input.eventId ?? randomUUID();
  const data = {
    api: input.api ?? 'PutBlob',
    clientRequestId: randomUUID(),
    requestId: randomUUID(),
    eTag: `0x8D${createHash('sha256').update(id).digest('hex').slice(0, 13).toUpperCase()}`,
    contentType: input.contentType ?? 'application/octet-stream',
    contentLength: input.size,
    blobType: 'BlockBlob',
    url: `${endpoint}/${encodedPath}`,
    sequencer: '00000000000000000000000000005A6F0000000000000B8D',
    storageDiagnostics: { batchId: randomUUID() },
  };
  const subject = `/blobServices/default/containers/${input.container}/blobs/${input.blob}`;
  if (input.schema === 'cloudevents') {
    // CloudEvents subjects carry no leading slash.
    return { source: input.accountId, subject: subject.slice(1), type: 'Microsoft.Storage.BlobCreated', time, id, data, specversion: '1.0' };
  }
  return { topic: input.accountId, subject, eventType: 'Microsoft.Storage.BlobCreated', eventTime: time, id, data, dataVersion: '', metadataVersion: '1' };
}
