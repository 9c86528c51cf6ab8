import type { BlobServiceClient } from '@azure/storage-blob';
import type { QueueClient } from '@azure/storage-queue';
import type { TableClient } from '@azure/data-tables';
import { EventDedupe } from '../../functions/azure/event-dedupe';
import { PollQueue } from '../../functions/azure/poll-message';
import { ScanLocks } from '../../functions/azure/scan-locks';
import { ScanStore } from '../../functions/azure/scan-store';

/**
 * Azure Blob, Table and Queue storage in memory, for the parts of the SDK clients the Azure runtime calls.
 * The real ScanStore, ScanLocks, EventDedupe and PollQueue run on top, so fuzzing and benchmarks measure
 * the runtime's own key building, validation and redaction, without Azurite's HTTP round trips. The
 * service limits that reject a request in Azure reject it here too (status 400), so an input that would
 * fail in the cloud fails here.
 */

/** What the storage services answer; the runtime tells outcomes apart by `statusCode` (storage-clients.ts). */
export class MemoryStorageError extends Error {
  override readonly name = 'RestError';
  constructor(readonly statusCode: number, message: string) {
    super(message);
  }
}

const BLOB_NAME_MAX = 1024;
const BLOB_SEGMENTS_MAX = 254;
const TABLE_KEY_MAX = 512;
const TABLE_KEY_FORBIDDEN = /[/\\#?\u0000-\u001f\u007f-\u009f]/;
/** 64 KiB per string property (UTF-16) and 1 MiB per entity. */
const PROPERTY_MAX_CHARS = 32 * 1024;
const ENTITY_MAX_BYTES = 1024 * 1024;
const QUEUE_MESSAGE_MAX_BYTES = 64 * 1024;

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

function checkKey(name: string, key: unknown): string {
  if (typeof key !== 'string') throw new MemoryStorageError(400, `${name} must be a string`);
  if (key.length > TABLE_KEY_MAX) throw new MemoryStorageError(400, `${name} longer than ${TABLE_KEY_MAX} characters`);
  if (TABLE_KEY_FORBIDDEN.test(key)) throw new MemoryStorageError(400, `${name} holds a character Table storage refuses`);
  return key;
}

function checkEntity(entity: Entity): void {
  let bytes = 0;
  for (const [property, value] of Object.entries(entity)) {
    if (typeof value === 'string') {
      if (value.length > PROPERTY_MAX_CHARS) throw new MemoryStorageError(400, `property ${property} longer than ${PROPERTY_MAX_CHARS} characters`);
      bytes += value.length * 2;
    } else {
      bytes += 8;
    }
  }
  if (bytes > ENTITY_MAX_BYTES) throw new MemoryStorageError(400, `entity larger than ${ENTITY_MAX_BYTES} bytes`);
}

export class MemoryTable {
  readonly rows = new Map<string, Entity & { etag: string }>();
  private version = 0;

  private id(partitionKey: string, rowKey: string): string {
    return `${checkKey('PartitionKey', partitionKey)}\u0000${checkKey('RowKey', rowKey)}`;
  }

  private put(entity: Entity): void {
    checkEntity(entity);
    this.rows.set(this.id(entity.partitionKey, entity.rowKey), { ...entity, etag: `W/"${++this.version}"` });
  }

  private existing(partitionKey: string, rowKey: string, etag?: string): Entity & { etag: string } {
    const row = this.rows.get(this.id(partitionKey, rowKey));
    if (!row) throw new MemoryStorageError(404, 'ResourceNotFound');
    if (etag !== undefined && etag !== '*' && etag !== row.etag) throw new MemoryStorageError(412, 'UpdateConditionNotSatisfied');
    return row;
  }

  async createTable(): Promise<void> {}

  async createEntity(entity: Entity): Promise<void> {
    if (this.rows.has(this.id(entity.partitionKey, entity.rowKey))) throw new MemoryStorageError(409, 'EntityAlreadyExists');
    this.put(entity);
  }

  async getEntity<T>(partitionKey: string, rowKey: string): Promise<T & { etag: string }> {
    return { ...this.existing(partitionKey, rowKey) } as unknown as T & { etag: string };
  }

  async updateEntity(entity: Entity, mode: 'Merge' | 'Replace', options: { etag?: string } = {}): Promise<void> {
    const row = this.existing(entity.partitionKey, entity.rowKey, options.etag);
    const { etag: _etag, ...kept } = row;
    this.put(mode === 'Merge' ? { ...kept, ...entity } : entity);
  }

  async upsertEntity(entity: Entity, mode: 'Merge' | 'Replace'): Promise<void> {
    const row = this.rows.get(this.id(entity.partitionKey, entity.rowKey));
    if (row && mode === 'Merge') {
      const { etag: _etag, ...kept } = row;
      this.put({ ...kept, ...entity });
    } else {
      this.put(entity);
    }
  }

  async deleteEntity(partitionKey: string, rowKey: string, options: { etag?: string } = {}): Promise<void> {
    this.existing(partitionKey, rowKey, options.etag);
    this.rows.delete(this.id(partitionKey, rowKey));
  }
}

export class MemoryContainer {
  readonly blobs = new Map<string, string>();

  async createIfNotExists(): Promise<void> {}

  getBlockBlobClient(name: string) {
    const blobs = this.blobs;
    const check = () => {
      if (name.length === 0 || name.length > BLOB_NAME_MAX) throw new MemoryStorageError(400, `blob name of ${name.length} characters (1-${BLOB_NAME_MAX})`);
      if (name.split('/').length > BLOB_SEGMENTS_MAX) throw new MemoryStorageError(400, `blob name of more than ${BLOB_SEGMENTS_MAX} segments`);
    };
    return {
      async upload(body: string, _length: number): Promise<void> {
        check();
        blobs.set(name, body);
      },
      async downloadToBuffer(): Promise<Buffer> {
        const body = blobs.get(name);
        if (body === undefined) throw new MemoryStorageError(404, 'BlobNotFound');
        return Buffer.from(body, 'utf8');
      },
    };
  }

  /** Names under a prefix, sorted. */
  names(prefix = ''): string[] {
    return [...this.blobs.keys()].filter((n) => n.startsWith(prefix)).sort();
  }

  json(name: string): Record<string, unknown> {
    const body = this.blobs.get(name);
    if (body === undefined) throw new Error(`no blob ${name}`);
    return JSON.parse(body) as Record<string, unknown>;
  }
}

export class MemoryQueue {
  readonly messages: { body: string; visibilityTimeout?: number }[] = [];

  async createIfNotExists(): Promise<void> {}

  async sendMessage(body: string, options: { visibilityTimeout?: number } = {}): Promise<{ messageId: string }> {
    if (Buffer.byteLength(body) > QUEUE_MESSAGE_MAX_BYTES) throw new MemoryStorageError(400, `queue message larger than ${QUEUE_MESSAGE_MAX_BYTES} bytes`);
    this.messages.push({ body, ...(options.visibilityTimeout !== undefined ? { visibilityTimeout: options.visibilityTimeout } : {}) });
    return { messageId: `memory-${this.messages.length}` };
  }
}

export interface MemoryStores {
  store: ScanStore;
  locks: ScanLocks;
  dedupe: EventDedupe;
  polls: PollQueue;
  /** The raw state, for assertions. */
  results: MemoryContainer;
  tables: { scans: MemoryTable; locks: MemoryTable; dedupe: MemoryTable };
  pollQueue: MemoryQueue;
}

/** The runtime's stores over fresh in-memory storage. */
export function memoryStores(): MemoryStores {
  const results = new MemoryContainer();
  const tables = { scans: new MemoryTable(), locks: new MemoryTable(), dedupe: new MemoryTable() };
  const pollQueue = new MemoryQueue();
  // The fakes cover only the client methods the stores call, so they are handed over as the SDK types.
  const blobService = { getContainerClient: () => results } as unknown as BlobServiceClient;
  const table = (t: MemoryTable) => t as unknown as TableClient;
  return {
    store: new ScanStore(blobService, 'scan-results', table(tables.scans)),
    locks: new ScanLocks(table(tables.locks)),
    dedupe: new EventDedupe(table(tables.dedupe)),
    polls: new PollQueue(pollQueue as unknown as QueueClient),
    results,
    tables,
    pollQueue,
  };
}
