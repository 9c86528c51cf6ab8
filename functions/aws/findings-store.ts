import { createHash } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { SEVERITIES, type Severity } from '../../shared/severity';
import { findingKey, identityOf, parseFinding, type FindingKey, type FindingState } from '../../shared/findings/finding';
import {
  FindingConflictError,
  FindingKeyCollisionError,
  findingJson,
  type FindingQuery,
  type FindingStore,
  type NotificationState,
  type StoredFinding,
  type WriteExpectation,
} from '../../shared/findings/store';
import { FINDINGS_DYNAMO } from '../../shared/findings/tables';

/**
 * The findings store on DynamoDB (table layout: shared/findings/tables.ts). One item per finding:
 *   keys     pk, sk; gsi1pk, gsi1sk (byStateSeverity); gsi2pk, gsi2sk (byRule)
 *   record   finding (Finding v1 as JSON: an exact round trip of untrusted evidence, and one size to check),
 *            version
 *   columns  findingId, ruleId, cloud, findingState, severity, firstSeenAt, lastSeenAt (readable in the
 *            console, filterable)
 *   outbox   notifyVersion, notifyState, notifyTransition, notifyClaimedUntil (as given) and
 *            notifyClaimUntilMs (what conditions compare), notifySentChannels (JSON), notifySentAt
 * Every write is conditional, so the store is correct with any number of writers in any number of processes:
 * a create on attribute_not_exists(pk), an update on `version = :expected` (and the finding id), a claim on the
 * outbox state.
 */

/** DynamoDB key size limits (UTF-8 bytes). */
const PARTITION_KEY_MAX_BYTES = 2048;
const SORT_KEY_MAX_BYTES = 1024;
const CONDITIONAL_CHECK_FAILED = 'ConditionalCheckFailedException';

const { partitionKey: PK, sortKey: SK, byStateSeverity, byRule } = FINDINGS_DYNAMO;

export interface DynamoFindingStoreOptions {
  /** Items per Query page (DynamoDB's own limit, 1 MB per page, applies either way); tests force small pages. */
  pageSize?: number;
}

/**
 * A key within DynamoDB's limit. Longer values (a subject or resource id of kilobytes) keep a prefix and
 * get `#h:` + the SHA-256 of the whole value, so they are stored rather than refused. A shortened key could
 * only meet another key by a crafted value, so reads check the record's own identity and updates its id.
 */
export function fitKey(value: string, maxBytes: number): string {
  if (Buffer.byteLength(value, 'utf8') <= maxBytes) return value;
  const marker = `#h:${createHash('sha256').update(value, 'utf8').digest('hex')}`;
  let prefix = '';
  let bytes = 0;
  // By code point, so a surrogate pair is never cut in two.
  for (const ch of value) {
    const size = Buffer.byteLength(ch, 'utf8');
    if (bytes + size > maxBytes - marker.length) break;
    prefix += ch;
    bytes += size;
  }
  return prefix + marker;
}

function isoKey(time: string): string {
  return new Date(Date.parse(time)).toISOString();
}

function severityRank(severity: Severity): number {
  return SEVERITIES.indexOf(severity);
}

interface FindingItem {
  pk: string;
  sk: string;
  gsi1pk: string;
  gsi1sk: string;
  gsi2pk: string;
  gsi2sk: string;
  finding: string;
  version: number;
  findingId: string;
  ruleId: string;
  cloud: string;
  findingState: FindingState;
  severity: Severity;
  firstSeenAt: string;
  lastSeenAt: string;
  notifyVersion?: number;
  notifyState?: NotificationState['state'];
  notifyTransition?: string;
  notifyClaimedUntil?: string;
  notifyClaimUntilMs?: number;
  notifySentChannels?: string;
  notifySentAt?: string;
}

/** What a stored item must hold to be read back (parse, don't trust); the finding itself is parseFinding's. */
const ItemSchema = z.object({
  finding: z.string(),
  version: z.number().int().positive(),
  notifyVersion: z.number().int().positive().optional(),
  notifyState: z.enum(['PENDING', 'SENT']).optional(),
  notifyTransition: z.string().optional(),
  notifyClaimedUntil: z.string().optional(),
  notifySentChannels: z.string().optional(),
  notifySentAt: z.string().optional(),
});

function gsi1Key(state: FindingState, severity: Severity): string {
  return `${state}#${severity}`;
}

function gsi2Prefix(state: FindingState, severity?: Severity): string {
  return severity === undefined ? `${state}#` : `${state}#${severityRank(severity)}#`;
}

function toItem(key: FindingKey, record: StoredFinding): FindingItem {
  const f = record.finding;
  const item: FindingItem = {
    [PK]: fitKey(key.partition, PARTITION_KEY_MAX_BYTES),
    [SK]: fitKey(key.sort, SORT_KEY_MAX_BYTES),
    [byStateSeverity.partitionKey]: gsi1Key(f.state, f.severity),
    [byStateSeverity.sortKey]: `${isoKey(f.firstSeenAt)}#${f.id}`,
    [byRule.partitionKey]: fitKey(f.ruleId, PARTITION_KEY_MAX_BYTES),
    [byRule.sortKey]: `${gsi2Prefix(f.state, f.severity)}${isoKey(f.firstSeenAt)}#${f.id}`,
    finding: findingJson(f),
    version: record.version,
    findingId: f.id,
    ruleId: f.ruleId,
    cloud: f.cloud,
    findingState: f.state,
    severity: f.severity,
    firstSeenAt: f.firstSeenAt,
    lastSeenAt: f.lastSeenAt,
  };
  const n = record.notification;
  if (n) {
    item.notifyVersion = n.version;
    item.notifyState = n.state;
    item.notifyTransition = n.transition;
    if (n.claimedUntil !== undefined) {
      item.notifyClaimedUntil = n.claimedUntil;
      item.notifyClaimUntilMs = Date.parse(n.claimedUntil);
    }
    if (n.sentChannels !== undefined) item.notifySentChannels = JSON.stringify(n.sentChannels);
    if (n.sentAt !== undefined) item.notifySentAt = n.sentAt;
  }
  return item;
}

function fromItem(raw: Record<string, unknown>): StoredFinding {
  const item = ItemSchema.parse(raw);
  const record: StoredFinding = { finding: parseFinding(JSON.parse(item.finding)), version: item.version };
  if (item.notifyVersion !== undefined && item.notifyState !== undefined && item.notifyTransition !== undefined) {
    const n: NotificationState = { version: item.notifyVersion, state: item.notifyState, transition: item.notifyTransition };
    if (item.notifyClaimedUntil !== undefined) n.claimedUntil = item.notifyClaimedUntil;
    if (item.notifySentChannels !== undefined) n.sentChannels = z.array(z.string()).parse(JSON.parse(item.notifySentChannels));
    if (item.notifySentAt !== undefined) n.sentAt = item.notifySentAt;
    record.notification = n;
  }
  return record;
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === CONDITIONAL_CHECK_FAILED;
}

function sameKey(a: FindingKey, b: FindingKey): boolean {
  return a.partition === b.partition && a.sort === b.sort;
}

export class DynamoFindingStore implements FindingStore {
  private readonly pageSize: number | undefined;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
    options: DynamoFindingStoreOptions = {},
  ) {
    this.pageSize = options.pageSize;
  }

  private key(key: FindingKey): Record<string, string> {
    return { [PK]: fitKey(key.partition, PARTITION_KEY_MAX_BYTES), [SK]: fitKey(key.sort, SORT_KEY_MAX_BYTES) };
  }

  async get(key: FindingKey): Promise<StoredFinding | undefined> {
    const { Item } = await this.doc.send(new GetCommand({ TableName: this.table, Key: this.key(key), ConsistentRead: true }));
    if (!Item) return undefined;
    const record = fromItem(Item);
    const found = findingKey(identityOf(record.finding));
    if (!sameKey(found, key)) throw new FindingKeyCollisionError(key);
    return record;
  }

  async put(key: FindingKey, record: StoredFinding, expected: WriteExpectation): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    let condition: string;
    if ('absent' in expected) {
      names['#pk'] = PK;
      condition = 'attribute_not_exists(#pk)';
    } else {
      // The finding id too: a shortened key holding another finding (a crafted collision) is never overwritten.
      Object.assign(names, { '#version': 'version', '#fid': 'findingId' });
      Object.assign(values, { ':expected': expected.version, ':fid': record.finding.id });
      condition = '#version = :expected AND #fid = :fid';
      const carried = record.notification;
      if (carried) condition += ` AND ${this.carriedAsStored(carried, names, values)}`;
    }
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: toItem(key, record),
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new FindingConflictError(key, expected);
      throw error;
    }
  }

  /** carriesNotificationAsStored as a condition: another version, or this one with the same delivery fields. */
  private carriedAsStored(n: NotificationState, names: Record<string, string>, values: Record<string, unknown>): string {
    Object.assign(names, { '#nv': 'notifyVersion', '#ns': 'notifyState', '#nc': 'notifyClaimedUntil', '#sc': 'notifySentChannels', '#sa': 'notifySentAt' });
    Object.assign(values, { ':nv': n.version, ':ns': n.state });
    const same = ['#ns = :ns'];
    const field = (name: string, placeholder: string, value: string | undefined) => {
      if (value === undefined) same.push(`attribute_not_exists(${name})`);
      else {
        values[placeholder] = value;
        same.push(`${name} = ${placeholder}`);
      }
    };
    field('#nc', ':nc', n.claimedUntil);
    field('#sc', ':sc', n.sentChannels === undefined ? undefined : JSON.stringify(n.sentChannels));
    field('#sa', ':sa', n.sentAt);
    return `(attribute_not_exists(#nv) OR #nv <> :nv OR (${same.join(' AND ')}))`;
  }

  async claimNotification(key: FindingKey, version: number, now: Date, claimUntil: Date): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: 'SET #nc = :until, #ncm = :untilMs',
          // An absent item fails `#nv = :v` too, so a claim never creates an item.
          ConditionExpression: '#nv = :v AND #ns = :pending AND (attribute_not_exists(#ncm) OR #ncm <= :nowMs)',
          ExpressionAttributeNames: { '#nv': 'notifyVersion', '#ns': 'notifyState', '#nc': 'notifyClaimedUntil', '#ncm': 'notifyClaimUntilMs' },
          ExpressionAttributeValues: { ':v': version, ':pending': 'PENDING', ':until': claimUntil.toISOString(), ':untilMs': claimUntil.getTime(), ':nowMs': now.getTime() },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async settleNotification(key: FindingKey, version: number, outcome: { sentChannels: string[]; done: boolean; at: Date }): Promise<void> {
    const names: Record<string, string> = { '#nv': 'notifyVersion', '#sc': 'notifySentChannels', '#nc': 'notifyClaimedUntil', '#ncm': 'notifyClaimUntilMs' };
    const values: Record<string, unknown> = { ':v': version, ':sc': JSON.stringify(outcome.sentChannels) };
    let set = '#sc = :sc';
    if (outcome.done) {
      Object.assign(names, { '#ns': 'notifyState', '#sa': 'notifySentAt' });
      Object.assign(values, { ':sent': 'SENT', ':at': outcome.at.toISOString() });
      set += ', #ns = :sent, #sa = :at';
    }
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: this.key(key),
          UpdateExpression: `SET ${set} REMOVE #nc, #ncm`,
          ConditionExpression: '#nv = :v',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      // A newer transition replaced the notice: there is nothing of this version left to settle.
      if (!isConditionFailure(error)) throw error;
    }
  }

  async listByResource(partition: string): Promise<StoredFinding[]> {
    const pk = fitKey(partition, PARTITION_KEY_MAX_BYTES);
    const records = await this.queryAll(
      { KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': PK }, ExpressionAttributeValues: { ':pk': pk }, ConsistentRead: true },
      Infinity,
    );
    // Only a shortened partition key can hold another resource's findings (a crafted collision): drop them.
    return pk === partition ? records : records.filter((r) => findingKey(identityOf(r.finding)).partition === partition);
  }

  async query(query: FindingQuery): Promise<StoredFinding[]> {
    const limit = query.limit ?? Infinity;
    if (limit <= 0) return [];
    const filter: Pick<QueryCommandInput, 'FilterExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'> = query.cloud
      ? { FilterExpression: '#cloud = :cloud', ExpressionAttributeNames: { '#cloud': 'cloud' }, ExpressionAttributeValues: { ':cloud': query.cloud } }
      : {};
    const out: StoredFinding[] = [];
    for (const input of this.queryPlan(query)) {
      const records = await this.queryAll(
        {
          ...input,
          ...(filter.FilterExpression ? { FilterExpression: filter.FilterExpression } : {}),
          ExpressionAttributeNames: { ...input.ExpressionAttributeNames, ...filter.ExpressionAttributeNames },
          ExpressionAttributeValues: { ...input.ExpressionAttributeValues, ...filter.ExpressionAttributeValues },
        },
        limit - out.length,
      );
      out.push(...records);
      if (out.length >= limit) break;
    }
    return out;
  }

  /** The index Queries that answer a query, in result order. */
  private queryPlan(query: FindingQuery): QueryCommandInput[] {
    if (query.ruleId !== undefined) {
      return [
        {
          TableName: this.table,
          IndexName: byRule.indexName,
          KeyConditionExpression: '#ipk = :ipk AND begins_with(#isk, :prefix)',
          ExpressionAttributeNames: { '#ipk': byRule.partitionKey, '#isk': byRule.sortKey },
          ExpressionAttributeValues: { ':ipk': fitKey(query.ruleId, PARTITION_KEY_MAX_BYTES), ':prefix': gsi2Prefix(query.state, query.severity) },
        },
      ];
    }
    const severities = query.severity === undefined ? SEVERITIES : [query.severity];
    return severities.map((severity) => ({
      TableName: this.table,
      IndexName: byStateSeverity.indexName,
      KeyConditionExpression: '#ipk = :ipk',
      ExpressionAttributeNames: { '#ipk': byStateSeverity.partitionKey },
      ExpressionAttributeValues: { ':ipk': gsi1Key(query.state, severity) },
    }));
  }

  /** Follows LastEvaluatedKey until the Query is exhausted or `wanted` records are in. */
  private async queryAll(input: Omit<QueryCommandInput, 'TableName'> & { TableName?: string }, wanted: number): Promise<StoredFinding[]> {
    const out: StoredFinding[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      // Without a filter, no page needs to hold more than what is still wanted.
      const pageLimit = Math.min(this.pageSize ?? Infinity, input.FilterExpression === undefined ? wanted - out.length : Infinity);
      const page = await this.doc.send(
        new QueryCommand({
          ...input,
          TableName: this.table,
          ...(Number.isFinite(pageLimit) ? { Limit: pageLimit } : {}),
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) out.push(fromItem(item));
      start = page.LastEvaluatedKey;
    } while (start && out.length < wanted);
    return out.slice(0, wanted);
  }
}
