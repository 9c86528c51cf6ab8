import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { configHash } from '../../../shared/inventory/hash';
import { LARGE_CONFIG_BYTES, LARGE_CONFIG_PREFIX, RESOURCES_DYNAMO } from '../../../shared/inventory/tables';
import type { InventoryService } from '../../../shared/rules/aws/posture/types';
import type { CollectedResource } from './collectors/types';

/**
 * The resources table: one item per resource (`pk` = `<account>#<service>`, `sk` = ARN) holding its stored
 * configuration, a hash of it, and when and by what it was last written. Write budget:
 * - an unchanged resource is NOT rewritten (a DynamoDB update is billed on the whole item, so touching a
 *   lastSeenAt would cost as much as rewriting the configuration): the shard's report in the run record
 *   says when it was seen again;
 * - a changed or new resource is one conditional Put that refuses to replace a configuration read later
 *   (the real-time path may have written a newer one while the shard was listing);
 * - configurations over LARGE_CONFIG_BYTES go to S3 (the results bucket) and the item keeps a pointer.
 */

const { partitionKey: PK, sortKey: SK } = RESOURCES_DYNAMO;

export interface WriteOrigin {
  /** When the configuration was read (the shard's start, or the describe after an event). */
  seenAt: string;
  runId?: string;
  eventId?: string;
}

/** A resource as the table holds it. */
export interface StoredResource extends CollectedResource {
  service: InventoryService;
  /** The shard that owns it: its region, or `global` for services listed once per account. */
  shard: string;
  configHash: string;
  /** When the stored configuration was read (see WriteOrigin.seenAt). */
  lastSeenAt: string;
  firstSeenAt: string;
  runId?: string;
  eventId?: string;
}

/** What a shard needs of the items it owns to decide what to write and what may be gone. */
export interface IndexEntry {
  configHash: string;
  lastSeenAt: string;
  firstSeenAt: string;
}

export interface ConfigBlobs {
  put(key: string, body: string): Promise<void>;
  get(key: string): Promise<string>;
  delete(key: string): Promise<void>;
}

/** The large configurations in the results bucket, under inventory/configs/. */
export class S3ConfigBlobs implements ConfigBlobs {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: 'application/json' }));
  }

  async get(key: string): Promise<string> {
    const answer = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return (await answer.Body?.transformToString('utf8')) ?? '';
  }

  async delete(key: string): Promise<void> {
    await this.s3.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}

export function partitionOf(account: string, service: string): string {
  return `${account}#${service}`;
}

function blobKey(account: string, service: string, arn: string): string {
  return `${LARGE_CONFIG_PREFIX}${account}/${service}/${createHash('sha256').update(arn, 'utf8').digest('hex')}.json`;
}

/** What the hash covers: everything a rule or a rule scope reads. */
export function hashOf(resource: CollectedResource): string {
  return configHash({ type: resource.type, name: resource.name, tags: resource.tags, config: resource.config, readErrors: resource.readErrors ?? {} });
}

export interface WriteCounter {
  /** Writes to the table (Put, Delete, Update), for the run counts and the bench's write budget. */
  writes: number;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

export class ResourceStore {
  readonly counter: WriteCounter = { writes: 0 };

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    readonly table: string,
    private readonly blobs: ConfigBlobs,
  ) {}

  /**
   * The items a shard owns (`shard` = its region or `global`), keyed by ARN: only hashes and times are
   * projected, so the comparison reads little.
   */
  async shardIndex(account: string, service: InventoryService, shard: string): Promise<Map<string, IndexEntry>> {
    const out = new Map<string, IndexEntry>();
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: '#shard = :shard',
          ProjectionExpression: '#sk, #hash, #seen, #first',
          ExpressionAttributeNames: { '#pk': PK, '#sk': SK, '#shard': 'shard', '#hash': 'configHash', '#seen': 'lastSeenAt', '#first': 'firstSeenAt' },
          ExpressionAttributeValues: { ':pk': partitionOf(account, service), ':shard': shard },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.set(String(item[SK]), { configHash: String(item.configHash), lastSeenAt: String(item.lastSeenAt), firstSeenAt: String(item.firstSeenAt ?? item.lastSeenAt) });
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }

  /**
   * Writes the resource unless the table holds a configuration read later. Returns false when it did not
   * write (a newer configuration is stored).
   */
  async put(resource: CollectedResource, service: InventoryService, shard: string, origin: WriteOrigin, previous?: Pick<IndexEntry, 'firstSeenAt'>, hash = hashOf(resource)): Promise<boolean> {
    const json = JSON.stringify(resource.config);
    const large = Buffer.byteLength(json, 'utf8') > LARGE_CONFIG_BYTES;
    const key = blobKey(resource.account, service, resource.arn);
    if (large) await this.blobs.put(key, json);
    const item: Record<string, unknown> = {
      [PK]: partitionOf(resource.account, service),
      [SK]: resource.arn,
      account: resource.account,
      region: resource.region,
      service,
      shard,
      type: resource.type,
      name: resource.name,
      tags: resource.tags,
      ...(large ? { configKey: key, configBytes: Buffer.byteLength(json, 'utf8') } : { config: json }),
      configHash: hash,
      ...(resource.readErrors ? { readErrors: resource.readErrors } : {}),
      lastSeenAt: origin.seenAt,
      firstSeenAt: previous?.firstSeenAt ?? origin.seenAt,
      ...(origin.runId ? { runId: origin.runId } : {}),
      ...(origin.eventId ? { eventId: origin.eventId } : {}),
    };
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#pk) OR #seen <= :seen',
          ExpressionAttributeNames: { '#pk': PK, '#seen': 'lastSeenAt' },
          ExpressionAttributeValues: { ':seen': origin.seenAt },
        }),
      );
      this.counter.writes += 1;
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(account: string, service: InventoryService, arn: string): Promise<StoredResource | undefined> {
    const answer = await this.doc.send(new GetCommand({ TableName: this.table, Key: { [PK]: partitionOf(account, service), [SK]: arn }, ConsistentRead: true }));
    return answer.Item ? this.fromItem(answer.Item) : undefined;
  }

  /**
   * Deletes the resource if it was not written again since `seenAt` (a resource re-created and described by
   * the real-time path while the run decided it was gone stays). True when it deleted.
   */
  async deleteIfUnseenSince(account: string, service: InventoryService, arn: string, seenAt: string): Promise<{ deleted: boolean; item?: StoredResource }> {
    try {
      const answer = await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: { [PK]: partitionOf(account, service), [SK]: arn },
          ConditionExpression: 'attribute_exists(#pk) AND #seen < :seen',
          ExpressionAttributeNames: { '#pk': PK, '#seen': 'lastSeenAt' },
          ExpressionAttributeValues: { ':seen': seenAt },
          ReturnValues: 'ALL_OLD',
        }),
      );
      this.counter.writes += 1;
      const item = answer.Attributes;
      if (typeof item?.configKey === 'string') await this.blobs.delete(item.configKey);
      return { deleted: true, ...(item ? { item: await this.fromItem(item, false) } : {}) };
    } catch (error) {
      if (isConditionFailure(error)) return { deleted: false };
      throw error;
    }
  }

  /** Every resource of an account and service, a page at a time (the evaluation's read). */
  async *resources(account: string, service: InventoryService, pageSize?: number): AsyncGenerator<StoredResource[]> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':pk': partitionOf(account, service) },
          ...(pageSize ? { Limit: pageSize } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      yield await Promise.all((page.Items ?? []).map((item) => this.fromItem(item)));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  private async fromItem(item: Record<string, unknown>, withConfig = true): Promise<StoredResource> {
    let config: unknown = null;
    if (withConfig) {
      const text = typeof item.config === 'string' ? item.config : typeof item.configKey === 'string' ? await this.blobs.get(item.configKey) : 'null';
      config = JSON.parse(text) as unknown;
    }
    const stored: StoredResource = {
      account: String(item.account),
      region: String(item.region ?? ''),
      type: String(item.type),
      arn: String(item[SK]),
      name: String(item.name ?? item[SK]),
      tags: (item.tags ?? {}) as Record<string, string>,
      config,
      service: String(item.service) as InventoryService,
      shard: String(item.shard),
      configHash: String(item.configHash),
      lastSeenAt: String(item.lastSeenAt),
      firstSeenAt: String(item.firstSeenAt ?? item.lastSeenAt),
    };
    if (item.readErrors && typeof item.readErrors === 'object') stored.readErrors = item.readErrors as Record<string, string>;
    if (typeof item.runId === 'string') stored.runId = item.runId;
    if (typeof item.eventId === 'string') stored.eventId = item.eventId;
    return stored;
  }
}

/** In-memory blobs for tests and the local stack. */
export class MemoryConfigBlobs implements ConfigBlobs {
  readonly objects = new Map<string, string>();
  async put(key: string, body: string): Promise<void> {
    this.objects.set(key, body);
  }
  async get(key: string): Promise<string> {
    const body = this.objects.get(key);
    if (body === undefined) throw new Error(`no configuration object ${key}`);
    return body;
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}
