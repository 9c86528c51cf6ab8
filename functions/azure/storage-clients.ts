import { BlobServiceClient } from '@azure/storage-blob';
import { QueueServiceClient } from '@azure/storage-queue';
import { TableClient } from '@azure/data-tables';
import type { TokenCredential } from '@azure/identity';
import type { AppSettings } from './settings';

/** Storage clients for the app's own account: identity-based in Azure, a connection string locally. */
export interface StorageClients {
  blobs: BlobServiceClient;
  queues: QueueServiceClient;
  table(name: string): TableClient;
}

export function createStorageClients(storage: AppSettings['storage'], credential: TokenCredential): StorageClients {
  if (storage.connectionString) {
    const cs = storage.connectionString;
    // Azurite speaks plain http; the table client refuses that unless told.
    const insecure = /DefaultEndpointsProtocol=http;|UseDevelopmentStorage=true|Endpoint=http:\/\//i.test(cs);
    return {
      blobs: BlobServiceClient.fromConnectionString(cs),
      queues: QueueServiceClient.fromConnectionString(cs),
      table: (name) => TableClient.fromConnectionString(cs, name, { allowInsecureConnection: insecure }),
    };
  }
  const account = storage.accountName;
  if (!account) throw new Error('no storage connection: set AzureWebJobsStorage__accountName');
  const blobUrl = storage.blobUrl ?? `https://${account}.blob.core.windows.net`;
  const queueUrl = storage.queueUrl ?? `https://${account}.queue.core.windows.net`;
  const tableUrl = storage.tableUrl ?? `https://${account}.table.core.windows.net`;
  return {
    blobs: new BlobServiceClient(blobUrl, credential),
    queues: new QueueServiceClient(queueUrl, credential),
    table: (name) => new TableClient(tableUrl, name, credential),
  };
}

/** True for the "already exists" answers of table inserts (409 EntityAlreadyExists). */
export function isConflict(error: unknown): boolean {
  return (error as { statusCode?: number })?.statusCode === 409;
}

export function isNotFound(error: unknown): boolean {
  return (error as { statusCode?: number })?.statusCode === 404;
}

export function isPreconditionFailed(error: unknown): boolean {
  return (error as { statusCode?: number })?.statusCode === 412;
}

/**
 * For create-if-missing at startup: the infrastructure creates every container, table and queue, so
 * "exists" (409) and "this identity may not create" (403) both mean carry on.
 */
export function ignoreExistsOrForbidden(error: unknown): void {
  const status = (error as { statusCode?: number })?.statusCode;
  if (status !== 409 && status !== 403) throw error;
}

/**
 * Create-if-missing that runs once per instance: concurrent invocations share one attempt, and a
 * failed attempt is not remembered, so the next invocation tries again.
 */
export function createOnce(...creates: (() => Promise<unknown>)[]): () => Promise<void> {
  let ready: Promise<unknown> | undefined;
  return async () => {
    ready ??= Promise.all(creates.map((create) => create().catch(ignoreExistsOrForbidden)));
    await ready.catch((error: unknown) => {
      ready = undefined;
      throw error;
    });
  };
}
