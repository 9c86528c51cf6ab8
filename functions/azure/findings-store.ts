import { odata, type TableClient } from '@azure/data-tables';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../shared/severity';
import { parseFinding, type FindingKey, type FindingState } from '../../shared/findings/finding';
import {
  carriesNotificationAsStored,
  FindingConflictError,
  FindingKeyCollisionError,
  findingJson,
  type FindingQuery,
  type FindingStore,
  type NotificationState,
  type StoredFinding,
  type WriteExpectation,
} from '../../shared/findings/store';
import { safeTableKey } from '../../shared/storage-keys';
import { createOnce, isConflict, isNotFound, isPreconditionFailed } from './storage-clients';

/**
 * The findings store on Azure Table storage, in two tables (names: shared/findings/tables.ts).
 *
 * `Findings`: one entity per finding. PartitionKey safeTableKey(resource key), RowKey safeTableKey(`ruleId#subject`),
 * so a resource's findings are one partition. Properties: Version; FindingJson, FindingJson1, FindingJson2 (the
 * Finding v1 JSON split in parts of 30,000 UTF-16 units, under the 64 KiB a string property holds;
 * FINDING_JSON_MAX_BYTES keeps it to 3 parts), FindingParts; readable columns FindingId, RuleId, Cloud, State,
 * Severity, FirstSeenAt, LastSeenAt; the notice outbox Notify*. Every write is conditional: a create fails on an
 * existing entity (409), an update carries the ETag of the read that checked the expected version (412 when
 * anything wrote the entity since), so the store is correct with writers in any number of processes.
 *
 * `FindingsByState`: Table storage has no secondary index, and query() must not scan every finding ever seen
 * (resolved ones stay forever as history), so this table points at findings by state: PartitionKey
 * `<state>_<severity>`, RowKey `<firstSeenAt ms, 15 digits>_<finding id>` (stable for a finding: query order within
 * a partition), properties FindingPartitionKey, FindingRowKey, Version, RuleId, Cloud. An entry changes only when a
 * finding changes state or severity, not on every sighting. The two tables cannot change together (entity group
 * transactions stay within one partition of one table), so they are kept in step by order and by rule:
 * - a writer puts the entry of the new state BEFORE writing the finding (an entry only ever raises its Version),
 *   and removes the entry of the old state after;
 * - an entry is deleted only when its finding is at the entry's Version or later and in another state or
 *   severity, and only with the ETag read with that judgement, so a finding coming back to a state keeps (or
 *   re-creates) its entry;
 * - query() re-reads each finding an entry points at and returns it only when it is still in that state: an entry
 *   left by a writer that lost its race or died is skipped (and deleted by the rule above once it is stale).
 * So every finding has an entry for its state; some entries point at findings that moved, which cost a point read.
 * A query reads the partitions of its state severity by severity, in RowKey order (the service's order within a
 * partition), and stops at its limit. The only filter is PartitionKey equality (Azurite's filtering differs from
 * Azure's elsewhere); rule and cloud are compared here, on the entries.
 */

/** UTF-16 code units per FindingJson part: 60,000 bytes, under a string property's 64 KiB. */
export const FINDING_PART_UNITS = 30_000;
const MAX_PARTS = 3;
const ROW_TIME_DIGITS = 15;

export interface TableFindingStoreOptions {
  /** Entities per listing page (the service's own maximum is 1,000); tests force small pages. */
  pageSize?: number;
  /** Findings read at once when a query checks its index entries. */
  readConcurrency?: number;
  /** Read-check-write rounds before a claim or settle gives up on a busy entity. */
  maxAttempts?: number;
}

/** Splits text into parts of at most `units` UTF-16 code units, never between the halves of a surrogate pair. */
export function splitText(text: string, units: number): string[] {
  const parts: string[] = [];
  for (let start = 0; start < text.length; ) {
    let end = Math.min(start + units, text.length);
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    parts.push(text.slice(start, end));
    start = end;
  }
  return parts.length > 0 ? parts : [''];
}

function partName(index: number): string {
  return index === 0 ? 'FindingJson' : `FindingJson${index}`;
}

const EntitySchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  Version: z.number().int().positive(),
  FindingId: z.string(),
  RuleId: z.string(),
  Cloud: z.string(),
  State: z.enum(['ACTIVE', 'RESOLVED', 'SUPPRESSED']),
  Severity: z.enum(SEVERITIES),
  FirstSeenAt: z.string(),
  LastSeenAt: z.string(),
  FindingParts: z.number().int().min(1).max(MAX_PARTS),
  NotifyVersion: z.number().int().positive().optional(),
  NotifyState: z.enum(['PENDING', 'SENT']).optional(),
  NotifyTransition: z.string().optional(),
  NotifyClaimedUntil: z.string().optional(),
  NotifySentChannels: z.string().optional(),
  NotifySentAt: z.string().optional(),
});

/** A Findings entity without its JSON parts (and without service metadata such as etag and timestamp). */
type EntityColumns = z.infer<typeof EntitySchema>;

interface ReadEntity {
  columns: EntityColumns;
  json: string;
  etag: string;
}

const IndexSchema = z.object({
  partitionKey: z.string(),
  rowKey: z.string(),
  FindingPartitionKey: z.string(),
  FindingRowKey: z.string(),
  Version: z.number().int().positive(),
  RuleId: z.string(),
  Cloud: z.string(),
});

type IndexEntry = z.infer<typeof IndexSchema>;

function indexPartition(state: FindingState, severity: Severity): string {
  return `${state}_${severity}`;
}

function indexRow(firstSeenAt: string, findingId: string): string {
  const ms = Math.max(0, Date.parse(firstSeenAt));
  return `${String(ms).padStart(ROW_TIME_DIGITS, '0')}_${findingId}`;
}

/** Where a finding's index entry is, from its columns. */
function indexKeyOf(c: Pick<EntityColumns, 'State' | 'Severity' | 'FirstSeenAt' | 'FindingId'>): { partitionKey: string; rowKey: string } {
  return { partitionKey: indexPartition(c.State, c.Severity), rowKey: indexRow(c.FirstSeenAt, c.FindingId) };
}

function toEntity(key: FindingKey, record: StoredFinding): { columns: EntityColumns; parts: Record<string, string> } {
  const f = record.finding;
  const json = findingJson(f);
  const split = splitText(json, FINDING_PART_UNITS);
  const columns: EntityColumns = {
    partitionKey: safeTableKey(key.partition),
    rowKey: safeTableKey(key.sort),
    Version: record.version,
    FindingId: f.id,
    RuleId: f.ruleId,
    Cloud: f.cloud,
    State: f.state,
    Severity: f.severity,
    FirstSeenAt: f.firstSeenAt,
    LastSeenAt: f.lastSeenAt,
    FindingParts: split.length,
  };
  const n = record.notification;
  if (n) {
    columns.NotifyVersion = n.version;
    columns.NotifyState = n.state;
    columns.NotifyTransition = n.transition;
    if (n.claimedUntil !== undefined) columns.NotifyClaimedUntil = n.claimedUntil;
    if (n.sentChannels !== undefined) columns.NotifySentChannels = JSON.stringify(n.sentChannels);
    if (n.sentAt !== undefined) columns.NotifySentAt = n.sentAt;
  }
  return { columns, parts: Object.fromEntries(split.map((part, i) => [partName(i), part])) };
}

function notificationOf(c: EntityColumns): NotificationState | undefined {
  if (c.NotifyVersion === undefined || c.NotifyState === undefined || c.NotifyTransition === undefined) return undefined;
  const n: NotificationState = { version: c.NotifyVersion, state: c.NotifyState, transition: c.NotifyTransition };
  if (c.NotifyClaimedUntil !== undefined) n.claimedUntil = c.NotifyClaimedUntil;
  if (c.NotifySentChannels !== undefined) n.sentChannels = z.array(z.string()).parse(JSON.parse(c.NotifySentChannels));
  if (c.NotifySentAt !== undefined) n.sentAt = c.NotifySentAt;
  return n;
}

function withNotification(columns: EntityColumns, n: NotificationState): EntityColumns {
  const { NotifyClaimedUntil: _c, NotifySentChannels: _s, NotifySentAt: _a, ...rest } = columns;
  return {
    ...rest,
    NotifyVersion: n.version,
    NotifyState: n.state,
    NotifyTransition: n.transition,
    ...(n.claimedUntil !== undefined ? { NotifyClaimedUntil: n.claimedUntil } : {}),
    ...(n.sentChannels !== undefined ? { NotifySentChannels: JSON.stringify(n.sentChannels) } : {}),
    ...(n.sentAt !== undefined ? { NotifySentAt: n.sentAt } : {}),
  };
}

function readEntity(raw: Record<string, unknown>): ReadEntity {
  const columns = EntitySchema.parse(raw);
  let json = '';
  for (let i = 0; i < columns.FindingParts; i++) json += z.string().parse(raw[partName(i)]);
  return { columns, json, etag: z.string().parse(raw['etag']) };
}

function recordOf(entity: ReadEntity): StoredFinding {
  const record: StoredFinding = { finding: parseFinding(JSON.parse(entity.json)), version: entity.columns.Version };
  const n = notificationOf(entity.columns);
  if (n) record.notification = n;
  return record;
}

export class TableFindingStore implements FindingStore {
  private readonly pageSize: number | undefined;
  private readonly readConcurrency: number;
  private readonly maxAttempts: number;

  /** Creates both tables if missing (the infrastructure creates them in Azure; tests and local runs need this). */
  readonly ensure: () => Promise<void>;

  constructor(
    private readonly findings: TableClient,
    private readonly index: TableClient,
    options: TableFindingStoreOptions = {},
  ) {
    this.pageSize = options.pageSize;
    this.readConcurrency = options.readConcurrency ?? 16;
    this.maxAttempts = options.maxAttempts ?? 10;
    this.ensure = createOnce(
      () => this.findings.createTable(),
      () => this.index.createTable(),
    );
  }

  private async read(partitionKey: string, rowKey: string): Promise<ReadEntity | undefined> {
    try {
      return readEntity(await this.findings.getEntity<Record<string, unknown>>(partitionKey, rowKey));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * safeTableKey escapes every `!`, so a shortened key (`...!h<hash>`) can only meet another shortened key with the
   * same prefix and the same 80-bit hash: no crafted key reaches another finding's entity. Writes still check the
   * finding id (put), which costs nothing.
   */
  private readKey(key: FindingKey): Promise<ReadEntity | undefined> {
    return this.read(safeTableKey(key.partition), safeTableKey(key.sort));
  }

  async get(key: FindingKey): Promise<StoredFinding | undefined> {
    const entity = await this.readKey(key);
    return entity ? recordOf(entity) : undefined;
  }

  async put(key: FindingKey, record: StoredFinding, expected: WriteExpectation): Promise<void> {
    const { columns, parts } = toEntity(key, record);
    const target = indexKeyOf(columns);
    if ('absent' in expected) {
      await this.raiseIndexEntry(columns);
      try {
        await this.findings.createEntity({ ...columns, ...parts });
      } catch (error) {
        if (isConflict(error)) throw new FindingConflictError(key, expected);
        throw error;
      }
      return;
    }
    // The ETag of this read is what the update is conditional on: the version checked here is the one replaced.
    const current = await this.readKey(key);
    if (!current || current.columns.Version !== expected.version || !carriesNotificationAsStored(record.notification, notificationOf(current.columns))) {
      throw new FindingConflictError(key, expected);
    }
    if (current.columns.FindingId !== columns.FindingId) throw new FindingKeyCollisionError(key);
    const before = indexKeyOf(current.columns);
    const moved = before.partitionKey !== target.partitionKey || before.rowKey !== target.rowKey;
    if (moved) await this.raiseIndexEntry(columns);
    try {
      await this.findings.updateEntity({ ...columns, ...parts }, 'Replace', { etag: current.etag });
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) throw new FindingConflictError(key, expected);
      throw error;
    }
    if (moved) {
      // Best effort: the finding is written; an entry left behind is skipped by queries and removed by the next one.
      await this.retireIndexEntry(before, record.version).catch(() => undefined);
    }
  }

  /** Puts the index entry of the finding's state at least at its version (an entry's Version never goes down). */
  private async raiseIndexEntry(columns: EntityColumns): Promise<void> {
    const key = indexKeyOf(columns);
    const entry: IndexEntry = {
      ...key,
      FindingPartitionKey: columns.partitionKey,
      FindingRowKey: columns.rowKey,
      Version: columns.Version,
      RuleId: columns.RuleId,
      Cloud: columns.Cloud,
    };
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      try {
        // Usually there is no entry yet (a new finding, or a state it has not been in): try that first.
        await this.index.createEntity(entry);
        return;
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      const existing = await this.readIndex(key.partitionKey, key.rowKey);
      if (!existing) continue;
      if (existing.entry.Version >= entry.Version) return;
      try {
        await this.index.updateEntity(entry, 'Replace', { etag: existing.etag });
        return;
      } catch (error) {
        // Raised or retired by someone else since the read: look again.
        if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
    }
    throw new Error(`index entry ${key.partitionKey} ${key.rowKey} kept changing during ${this.maxAttempts} attempts`);
  }

  /** Deletes an index entry that its finding (now at `findingVersion`, elsewhere in the index) has left. */
  private async retireIndexEntry(key: { partitionKey: string; rowKey: string }, findingVersion: number, known?: { entry: IndexEntry; etag: string }): Promise<void> {
    const existing = known ?? (await this.readIndex(key.partitionKey, key.rowKey));
    // A higher Version is a writer bringing the finding back to this state: its entry stays.
    if (!existing || existing.entry.Version > findingVersion) return;
    try {
      await this.index.deleteEntity(key.partitionKey, key.rowKey, { etag: existing.etag });
    } catch (error) {
      if (!isNotFound(error) && !isPreconditionFailed(error)) throw error;
    }
  }

  private async readIndex(partitionKey: string, rowKey: string): Promise<{ entry: IndexEntry; etag: string } | undefined> {
    try {
      const raw = await this.index.getEntity<Record<string, unknown>>(partitionKey, rowKey);
      return { entry: IndexSchema.parse(raw), etag: z.string().parse(raw.etag) };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async claimNotification(key: FindingKey, version: number, now: Date, claimUntil: Date): Promise<boolean> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const current = await this.readKey(key);
      const n = current && notificationOf(current.columns);
      if (!current || !n || n.version !== version || n.state !== 'PENDING') return false;
      if (n.claimedUntil !== undefined && Date.parse(n.claimedUntil) > now.getTime()) return false;
      if (await this.replaceNotification(current, { ...n, claimedUntil: claimUntil.toISOString() })) return true;
    }
    // Written by others every time we looked: one of them is recording this finding and delivers its notice.
    return false;
  }

  async settleNotification(key: FindingKey, version: number, outcome: { sentChannels: string[]; done: boolean; at: Date }): Promise<void> {
    for (let attempt = 0; attempt < this.maxAttempts; attempt++) {
      const current = await this.readKey(key);
      const n = current && notificationOf(current.columns);
      // A newer transition replaced the notice: there is nothing of this version left to settle.
      if (!current || !n || n.version !== version) return;
      const { claimedUntil: _released, ...rest } = n;
      const settled: NotificationState = { ...rest, sentChannels: [...outcome.sentChannels], ...(outcome.done ? { state: 'SENT', sentAt: outcome.at.toISOString() } : {}) };
      if (await this.replaceNotification(current, settled)) return;
    }
    throw new Error(`could not settle the notice of ${key.partition.slice(0, 200)} ${key.sort.slice(0, 200)}: the finding kept changing`);
  }

  /** Replaces the entity with the notice changed, on the ETag read; false when it changed since. */
  private async replaceNotification(current: ReadEntity, n: NotificationState): Promise<boolean> {
    const parts = Object.fromEntries(splitText(current.json, FINDING_PART_UNITS).map((part, i) => [partName(i), part]));
    try {
      await this.findings.updateEntity({ ...withNotification(current.columns, n), ...parts }, 'Replace', { etag: current.etag });
      return true;
    } catch (error) {
      if (isPreconditionFailed(error) || isNotFound(error)) return false;
      throw error;
    }
  }

  async listByResource(partition: string): Promise<StoredFinding[]> {
    const partitionKey = safeTableKey(partition);
    const out: StoredFinding[] = [];
    const pages = this.findings.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } }).byPage(this.pageSize ? { maxPageSize: this.pageSize } : {});
    for await (const page of pages) for (const raw of page) out.push(recordOf(readEntity(raw)));
    return out;
  }

  async query(query: FindingQuery): Promise<StoredFinding[]> {
    const limit = query.limit ?? Infinity;
    const out: StoredFinding[] = [];
    for (const severity of query.severity === undefined ? SEVERITIES : [query.severity]) {
      if (out.length >= limit) break;
      // The service returns a partition in RowKey order, which is query order: a small limit reads one page.
      const partitionKey = indexPartition(query.state, severity);
      const pages = this.index.listEntities<Record<string, unknown>>({ queryOptions: { filter: odata`PartitionKey eq ${partitionKey}` } }).byPage(this.pageSize ? { maxPageSize: this.pageSize } : {});
      for await (const page of pages) {
        const entries = page
          .map((raw) => ({ entry: IndexSchema.parse(raw), etag: z.string().parse(raw.etag) }))
          .filter(({ entry }) => (query.ruleId === undefined || entry.RuleId === query.ruleId) && (query.cloud === undefined || entry.Cloud === query.cloud));
        for (let i = 0; i < entries.length && out.length < limit; i += this.readConcurrency) {
          // A batch at a time, so a small limit reads few findings and a large one reads them in parallel.
          const found = await Promise.all(entries.slice(i, i + this.readConcurrency).map((e) => this.resolveEntry(e)));
          for (const record of found) if (record && out.length < limit) out.push(record);
        }
        if (out.length >= limit) break;
      }
    }
    return out;
  }

  /** The finding an index entry points at, when it is still in the entry's state and severity. */
  private async resolveEntry(indexed: { entry: IndexEntry; etag: string }): Promise<StoredFinding | undefined> {
    const { entry } = indexed;
    const current = await this.read(entry.FindingPartitionKey, entry.FindingRowKey);
    // No finding yet: a create in flight (or one that died before writing); not ours to remove.
    if (!current) return undefined;
    const at = indexKeyOf(current.columns);
    if (at.partitionKey === entry.partitionKey && at.rowKey === entry.rowKey) return recordOf(current);
    if (current.columns.Version >= entry.Version) await this.retireIndexEntry(entry, current.columns.Version, indexed).catch(() => undefined);
    return undefined;
  }
}
