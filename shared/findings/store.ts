import { SEVERITIES } from '../severity';
import type { Cloud, Finding, FindingKey, FindingScope, FindingState } from './finding';

/**
 * The contract every findings store keeps (DynamoDB `findings` on AWS, Table `Findings` on Azure, memory in
 * tests). Writes are conditional on the record's version, so one transition happens once however many
 * deliveries race; the notification of a transition is an outbox entry on the same record, claimed by one
 * sender and marked sent, so it goes out once.
 */

export interface NotificationState {
  /** The record version whose transition is to be told. */
  version: number;
  state: 'PENDING' | 'SENT';
  /** The transition (open, reopen, resolve...) being told. */
  transition: string;
  /** A sender holds the claim until then; after it, another delivery may send (the first one died). */
  claimedUntil?: string;
  /** Channels that already took this notification, so a retry after a partial failure skips them. */
  sentChannels?: string[];
  sentAt?: string;
}

export interface StoredFinding {
  finding: Finding;
  /** 1 on creation, +1 on every write. */
  version: number;
  notification?: NotificationState;
}

export type WriteExpectation = { absent: true } | { version: number };

export class FindingConflictError extends Error {
  override readonly name = 'FindingConflictError';
  constructor(readonly key: FindingKey, readonly expected: WriteExpectation) {
    super(`finding ${key.partition} ${key.sort} changed since it was read (expected ${'absent' in expected ? 'no record' : `version ${expected.version}`})`);
  }
}

/**
 * A store key holds another finding than the one asked for or written. Keys over a store's length limit are
 * shortened with a hash (DynamoDB: functions/aws/findings-store.ts fitKey; Table: safeTableKey), so two
 * findings could share one only by a hash collision or a crafted value; a store refuses rather than mix them.
 */
export class FindingKeyCollisionError extends Error {
  override readonly name = 'FindingKeyCollisionError';
  constructor(readonly key: FindingKey) {
    super(`the store key of ${key.partition.slice(0, 200)} ${key.sort.slice(0, 200)} holds another finding`);
  }
}

/**
 * A stored finding's JSON is at most this many UTF-8 bytes, in every store, so a finding one cloud stores the
 * other stores too: a DynamoDB item holds it with room to spare (400 KB per item) and an Azure Table entity
 * holds it split over a few string properties (64 KiB each, 1 MiB per entity). Evidence is bounded to 4 KB;
 * what can grow past that is free text (titles, remediation) and long CVE lists, which a rule should cut.
 */
export const FINDING_JSON_MAX_BYTES = 64 * 1024;

export class FindingTooLargeError extends Error {
  override readonly name = 'FindingTooLargeError';
  constructor(readonly findingId: string, readonly bytes: number) {
    super(`finding ${findingId} is ${bytes} bytes of JSON, over the ${FINDING_JSON_MAX_BYTES} a store holds (shorten its title, remediation or evidence)`);
  }
}

/** The finding as a store keeps it: JSON within FINDING_JSON_MAX_BYTES, else FindingTooLargeError. */
export function findingJson(finding: Finding): string {
  const json = JSON.stringify(finding);
  const bytes = Buffer.byteLength(json, 'utf8');
  if (bytes > FINDING_JSON_MAX_BYTES) throw new FindingTooLargeError(finding.id, bytes);
  return json;
}

/**
 * Whether a put may carry `carried` over the stored notification `stored`. A put that keeps the notification
 * of the same version (a touch while a notice is pending) must carry it as it is stored NOW: if a sender
 * claimed or settled it since the read, the put would erase that claim and a second sender could claim the
 * same notice, so the store refuses the put (FindingConflictError) and the recorder reads again.
 */
export function carriesNotificationAsStored(carried: NotificationState | undefined, stored: NotificationState | undefined): boolean {
  if (!carried || !stored || carried.version !== stored.version) return true;
  return (
    carried.state === stored.state &&
    carried.claimedUntil === stored.claimedUntil &&
    carried.sentAt === stored.sentAt &&
    JSON.stringify(carried.sentChannels ?? null) === JSON.stringify(stored.sentChannels ?? null)
  );
}

/**
 * The order of query results: most severe first, then the longest open (firstSeenAt, which never changes
 * for a finding, so a store can index on it without rewriting the index on every sighting), then id.
 */
export function queryOrder(a: Finding, b: Finding): number {
  return (
    SEVERITIES.indexOf(a.severity) - SEVERITIES.indexOf(b.severity) ||
    Date.parse(a.firstSeenAt) - Date.parse(b.firstSeenAt) ||
    (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)
  );
}

export interface FindingQuery {
  state: FindingState;
  /** All severities, in queryOrder, when omitted; otherwise only this severity. */
  severity?: Finding['severity'];
  cloud?: Cloud;
  ruleId?: string;
  limit?: number;
}

export interface FindingStore {
  get(key: FindingKey): Promise<StoredFinding | undefined>;
  /**
   * Writes the record when the stored one is as expected (and any notification it carries over is as stored,
   * see carriesNotificationAsStored); otherwise throws FindingConflictError. A finding over
   * FINDING_JSON_MAX_BYTES throws FindingTooLargeError.
   */
  put(key: FindingKey, record: StoredFinding, expected: WriteExpectation): Promise<void>;
  /**
   * Takes the claim to send the notification of `version` when it is PENDING and unclaimed (or the claim
   * expired before `now`). True for exactly one caller while the claim lasts.
   */
  claimNotification(key: FindingKey, version: number, now: Date, claimUntil: Date): Promise<boolean>;
  /**
   * Only the claimant calls this: `done` marks the notification of `version` SENT; otherwise it records the
   * channels that took it and releases the claim, so the next delivery sends to the others.
   */
  settleNotification(key: FindingKey, version: number, outcome: { sentChannels: string[]; done: boolean; at: Date }): Promise<void>;
  /** Every finding of one resource (all rules and subjects), current as of the call, however many pages it takes. */
  listByResource(partition: string): Promise<StoredFinding[]>;
  /**
   * Findings in a state, optionally narrowed, in queryOrder, at most `limit`; for reports, exports and
   * digests. Served from secondary indexes, so a write may take a moment to show (every returned record is
   * as current as the store's index read allows: DynamoDB GSIs are eventually consistent, the Table store
   * re-reads each record).
   */
  query(query: FindingQuery): Promise<StoredFinding[]>;
}

export interface ResourceRef {
  cloud: Cloud;
  scope: FindingScope;
  resourceId: string;
}
