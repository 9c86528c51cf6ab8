import { createHash } from 'node:crypto';
import { odata, type TableClient, type TransactionAction } from '@azure/data-tables';
import { safeTableKey } from '../../../shared/storage-keys';
import { splitText } from '../findings-store';
import { createOnce, isNotFound, isPreconditionFailed } from '../storage-clients';
import type { CollectedResource } from './collector';

/**
 * The Azure inventory on Table storage (`Resources`), the Azure peer of the AWS resources table:
 * - PartitionKey safeTableKey(`<subscription>#<type>`): one partition per subscription and type, so a run's sweep
 *   and an evaluation of one subscription or type are PartitionKey queries (the only filter Azurite and Azure
 *   agree on everywhere);
 * - RowKey safeTableKey(lower-case ARM id): ARM ids are case-insensitive;
 * - ResourceId, Name, ResourceType, SubscriptionId, Location: readable columns;
 * - ConfigJson, ConfigJson1..: the ARM shape `{id, name, type, location, tags, properties}` as JSON, split in parts
 *   of 30,000 UTF-16 units (a string property holds 64 KiB), ConfigParts, ConfigHash (sha256 of that JSON);
 * - LastSeenAt (when the configuration was observed), RunId (the run that last saw it).
 * A row is written whole (Replace), so fewer parts than before leave no stale part behind.
 */

/** Parts of ConfigJson: 15 x 60,000 bytes stays under the 1 MiB an entity holds. */
export const MAX_CONFIG_PARTS = 15;
const PART_UNITS = 30_000;
/** A transaction holds at most 100 entities of one partition and 4 MiB; the budget keeps well under. */
const TRANSACTION_ENTITIES = 100;
const TRANSACTION_BUDGET_UNITS = 1_500_000;

export interface StoredResource extends CollectedResource {
  lastSeenAt: string;
  runId: string;
  configHash: string;
  /** False when the configuration was too large to store: the rules then see no properties. */
  configStored: boolean;
}

/** A row as the sweep reads it (no configuration). */
export interface ResourceKeyRow {
  partitionKey: string;
  rowKey: string;
  resourceId: string;
  name: string;
  type: string;
  subscriptionId: string;
  lastSeenAt: string;
  runId: string;
  etag: string;
}

export function partitionOf(subscriptionId: string, type: string): string {
  return safeTableKey(`${subscriptionId.toLowerCase()}#${type.toLowerCase()}`);
}

export function rowKeyOf(resourceId: string): string {
  return safeTableKey(resourceId.trim().replace(/\/+$/, '').toLowerCase());
}

/** The JSON a row keeps, keys in a fixed order so the same configuration always hashes the same. */
export function configJson(resource: CollectedResource['resource']): string {
  const { id, name, type, location, tags, properties } = resource;
  return JSON.stringify({ id, name, type, location, tags, properties });
}

export function configHash(json: string): string {
  return createHash('sha256').update(json, 'utf8').digest('hex');
}

type Entity = Record<string, unknown> & { partitionKey: string; rowKey: string };

export function entityOf(item: CollectedResource, at: { lastSeenAt: string; runId: string }): Entity {
  const json = configJson(item.resource);
  const parts = splitText(json, PART_UNITS);
  const stored = parts.length <= MAX_CONFIG_PARTS;
  const entity: Entity = {
    partitionKey: partitionOf(item.subscriptionId, item.type),
    rowKey: rowKeyOf(item.resource.id),
    ResourceId: item.resource.id,
    Name: item.resource.name ?? item.resource.id.split('/').pop() ?? item.resource.id,
    ResourceType: item.type,
    SubscriptionId: item.subscriptionId,
    Location: item.resource.location ?? '',
    ConfigHash: configHash(json),
    ConfigBytes: Buffer.byteLength(json, 'utf8'),
    LastSeenAt: at.lastSeenAt,
    RunId: at.runId,
  };
  // Too large to keep whole: the row is still written (the resource exists and must not be swept away), without
  // its configuration; the rules say not-applicable rather than pass it.
  const kept = stored ? parts : splitText(configJson({ ...item.resource, properties: undefined }), PART_UNITS);
  entity.ConfigParts = kept.length;
  entity.ConfigStored = stored;
  kept.forEach((part, index) => (entity[index === 0 ? 'ConfigJson' : `ConfigJson${index}`] = part));
  return entity;
}

function text(entity: Record<string, unknown>, key: string): string {
  const value = entity[key];
  return typeof value === 'string' ? value : '';
}

export function storedOf(entity: Record<string, unknown>): StoredResource {
  const parts = Number(entity.ConfigParts ?? 1);
  let json = '';
  for (let i = 0; i < parts; i++) json += text(entity, i === 0 ? 'ConfigJson' : `ConfigJson${i}`);
  const resource = JSON.parse(json) as CollectedResource['resource'];
  return {
    subscriptionId: text(entity, 'SubscriptionId'),
    type: text(entity, 'ResourceType'),
    resource,
    lastSeenAt: text(entity, 'LastSeenAt'),
    runId: text(entity, 'RunId'),
    configHash: text(entity, 'ConfigHash'),
    configStored: entity.ConfigStored !== false,
  };
}

export interface ResourceStoreOptions {
  /** Entities per listing page (the service's maximum is 1,000). */
  pageSize?: number;
}

export class TableResourceStore {
  readonly ensure: () => Promise<void>;
  private readonly pageSize: number;

  constructor(
    private readonly table: TableClient,
    options: ResourceStoreOptions = {},
  ) {
    this.pageSize = options.pageSize ?? 1000;
    this.ensure = createOnce(() => this.table.createTable());
  }

  /** Writes the resources of one page, in transactions per partition; returns the number of rows written. */
  async upsertMany(items: readonly CollectedResource[], at: { lastSeenAt: string; runId: string }): Promise<number> {
    const byPartition = new Map<string, Entity[]>();
    for (const item of items) {
      const entity = entityOf(item, at);
      const list = byPartition.get(entity.partitionKey) ?? [];
      // A page lists each id once; should it not, the last copy wins, as it would with single upserts.
      const existing = list.findIndex((e) => e.rowKey === entity.rowKey);
      if (existing >= 0) list[existing] = entity;
      else list.push(entity);
      byPartition.set(entity.partitionKey, list);
    }
    let written = 0;
    for (const entities of byPartition.values()) {
      let batch: TransactionAction[] = [];
      let units = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await this.table.submitTransaction(batch);
        written += batch.length;
        batch = [];
        units = 0;
      };
      for (const entity of entities) {
        const size = Number(entity.ConfigParts) * PART_UNITS;
        if (batch.length >= TRANSACTION_ENTITIES || units + size > TRANSACTION_BUDGET_UNITS) await flush();
        batch.push(['upsert', entity, 'Replace']);
        units += size;
      }
      await flush();
    }
    return written;
  }

  async upsert(item: CollectedResource, at: { lastSeenAt: string; runId: string }): Promise<void> {
    await this.table.upsertEntity(entityOf(item, at), 'Replace');
  }

  async get(subscriptionId: string, type: string, resourceId: string): Promise<StoredResource | undefined> {
    try {
      return storedOf(await this.table.getEntity<Record<string, unknown>>(partitionOf(subscriptionId, type), rowKeyOf(resourceId)));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /** Every resource of one subscription and type, configuration included, page by page. */
  async *list(subscriptionId: string, type: string): AsyncGenerator<StoredResource> {
    const pages = this.table
      .listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partitionOf(subscriptionId, type)}` } })
      .byPage({ maxPageSize: this.pageSize });
    for await (const page of pages) for (const entity of page) yield storedOf(entity);
  }

  /** The keys of every row of one subscription and type (for the sweep: no configuration is read). */
  async keys(subscriptionId: string, type: string): Promise<ResourceKeyRow[]> {
    const out: ResourceKeyRow[] = [];
    const pages = this.table
      .listEntities<Record<string, unknown>>({
        queryOptions: {
          filter: odata`PartitionKey eq ${partitionOf(subscriptionId, type)}`,
          select: ['PartitionKey', 'RowKey', 'ResourceId', 'Name', 'ResourceType', 'SubscriptionId', 'LastSeenAt', 'RunId'],
        },
      })
      .byPage({ maxPageSize: this.pageSize });
    for await (const page of pages) {
      for (const e of page) {
        out.push({
          partitionKey: String(e.partitionKey),
          rowKey: String(e.rowKey),
          resourceId: text(e, 'ResourceId'),
          name: text(e, 'Name'),
          type: text(e, 'ResourceType'),
          subscriptionId: text(e, 'SubscriptionId'),
          lastSeenAt: text(e, 'LastSeenAt'),
          runId: text(e, 'RunId'),
          etag: String(e.etag ?? '*'),
        });
      }
    }
    return out;
  }

  /** Deletes a row as it was read; false when it changed since (a newer sighting keeps it). */
  /** Deletes a resource's row whatever it holds (the resource is gone); true if there was one. */
  async deleteResource(subscriptionId: string, type: string, resourceId: string): Promise<boolean> {
    try {
      await this.table.deleteEntity(partitionOf(subscriptionId, type), rowKeyOf(resourceId));
      return true;
    } catch (error) {
      if (isNotFound(error)) return false;
      throw error;
    }
  }

  async delete(row: ResourceKeyRow): Promise<boolean> {
    try {
      await this.table.deleteEntity(row.partitionKey, row.rowKey, { etag: row.etag });
      return true;
    } catch (error) {
      if (isNotFound(error)) return true;
      if (isPreconditionFailed(error)) return false;
      throw error;
    }
  }
}
