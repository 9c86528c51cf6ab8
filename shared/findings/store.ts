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

export interface FindingQuery {
  state: FindingState;
  /** Most severe first when omitted; otherwise only this severity. */
  severity?: Finding['severity'];
  cloud?: Cloud;
  ruleId?: string;
  limit?: number;
}

export interface FindingStore {
  get(key: FindingKey): Promise<StoredFinding | undefined>;
  /** Writes the record when the stored one is as expected; otherwise throws FindingConflictError. */
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
  /** Every finding of one resource (all rules and subjects). */
  listByResource(partition: string): Promise<StoredFinding[]>;
  /** Findings in a state, optionally narrowed; for reports, exports and digests. */
  query(query: FindingQuery): Promise<StoredFinding[]>;
}

export interface ResourceRef {
  cloud: Cloud;
  scope: FindingScope;
  resourceId: string;
}
