import type { Readable } from 'node:stream';
import { BlobServiceClient } from '@azure/storage-blob';
import type { TokenCredential } from '@azure/identity';
import type { BlobEvent } from './blob-event';

/**
 * Reads an uploaded blob as a stream with the Function App's managed identity (Storage Blob Data Reader on
 * the watched accounts or containers, nothing else). The account comes from the event's topic and the
 * endpoint is built from it; `data.url` is never fetched, so an event cannot point the reader elsewhere.
 */

export interface OpenedBlob {
  body: Readable;
  /** What the service says the blob holds now (the event's size may be stale or absent). */
  contentLength?: number;
  /** The eTag of what was read (a blob overwritten since the event is read as it is now, and says so here). */
  eTag?: string;
}

export interface BlobReader {
  open(blob: Pick<BlobEvent, 'account' | 'container' | 'name'>): Promise<OpenedBlob>;
}

/** The blob is no longer there (deleted, or overwritten since the event): nothing to read, and no retry can change that. */
export class BlobGoneError extends Error {
  override readonly name = 'BlobGoneError';
}

/** The identity may not read the blob (the role is missing or not yet effective). */
export class BlobAccessDeniedError extends Error {
  override readonly name = 'BlobAccessDeniedError';
}

function statusOf(error: unknown): number | undefined {
  return (error as { statusCode?: number }).statusCode;
}

function codeOf(error: unknown): string {
  return (error as { code?: string }).code ?? (error as { name?: string }).name ?? 'Error';
}

/**
 * `clientFor(account)` gives the service client of a storage account: in Azure
 * `https://<account>.blob.core.windows.net` with the identity; locally every account is Azurite's.
 */
export function createBlobReader(clientFor: (account: string) => BlobServiceClient): BlobReader {
  return {
    async open(blob) {
      const client = clientFor(blob.account).getContainerClient(blob.container).getBlobClient(blob.name);
      try {
        // Not pinned to the event's eTag: the event carries it unquoted, and an If-Match that does not compare equal
        // would turn every read into a 412. An overwrite raises a BlobCreated of its own and is scanned too.
        const response = await client.download(0);
        if (!response.readableStreamBody) throw new Error('the blob download returned no stream');
        return {
          body: response.readableStreamBody as Readable,
          ...(response.contentLength !== undefined ? { contentLength: response.contentLength } : {}),
          ...(response.etag ? { eTag: response.etag } : {}),
        };
      } catch (error) {
        const status = statusOf(error);
        if (status === 404) throw new BlobGoneError(`blob gone before it was read (${codeOf(error)})`);
        if (status === 403 || status === 401) throw new BlobAccessDeniedError(`reading the blob was denied (${codeOf(error)}): give the app identity Storage Blob Data Reader on ${blob.account}`);
        throw error;
      }
    },
  };
}

/** Public-cloud endpoints with the app identity. */
export function identityBlobClients(credential: TokenCredential): (account: string) => BlobServiceClient {
  const clients = new Map<string, BlobServiceClient>();
  return (account) => {
    let client = clients.get(account);
    if (!client) {
      client = new BlobServiceClient(`https://${account}.blob.core.windows.net`, credential);
      clients.set(account, client);
    }
    return client;
  };
}
