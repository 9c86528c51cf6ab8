import type { FindingKey } from './finding';
import {
  carriesNotificationAsStored,
  FindingConflictError,
  findingJson,
  queryOrder,
  type FindingQuery,
  type FindingStore,
  type StoredFinding,
  type WriteExpectation,
} from './store';

/**
 * A findings store in memory with the same conditional semantics as the DynamoDB and Table stores: the pure
 * cores, the local replays and the contract tests run on it. Records are copied in and out, as a real store
 * would serialise them.
 */
export class MemoryFindingStore implements FindingStore {
  private readonly records = new Map<string, StoredFinding>();

  private id(key: FindingKey): string {
    return `${key.partition}\u0000${key.sort}`;
  }

  private copy(record: StoredFinding): StoredFinding {
    return structuredClone(record);
  }

  async get(key: FindingKey): Promise<StoredFinding | undefined> {
    const record = this.records.get(this.id(key));
    return record ? this.copy(record) : undefined;
  }

  async put(key: FindingKey, record: StoredFinding, expected: WriteExpectation): Promise<void> {
    findingJson(record.finding);
    const current = this.records.get(this.id(key));
    const ok = 'absent' in expected ? current === undefined : current?.version === expected.version && carriesNotificationAsStored(record.notification, current.notification);
    if (!ok) throw new FindingConflictError(key, expected);
    this.records.set(this.id(key), this.copy(record));
  }

  async claimNotification(key: FindingKey, version: number, now: Date, claimUntil: Date): Promise<boolean> {
    const current = this.records.get(this.id(key));
    const n = current?.notification;
    if (!n || n.version !== version || n.state !== 'PENDING') return false;
    if (n.claimedUntil && Date.parse(n.claimedUntil) > now.getTime()) return false;
    n.claimedUntil = claimUntil.toISOString();
    return true;
  }

  async settleNotification(key: FindingKey, version: number, outcome: { sentChannels: string[]; done: boolean; at: Date }): Promise<void> {
    const n = this.records.get(this.id(key))?.notification;
    if (!n || n.version !== version) return;
    n.sentChannels = [...outcome.sentChannels];
    if (outcome.done) {
      n.state = 'SENT';
      n.sentAt = outcome.at.toISOString();
    }
    delete n.claimedUntil;
  }

  async listByResource(partition: string): Promise<StoredFinding[]> {
    return [...this.records.entries()].filter(([id]) => id.startsWith(`${partition}\u0000`)).map(([, r]) => this.copy(r));
  }

  async query(query: FindingQuery): Promise<StoredFinding[]> {
    const matches = [...this.records.values()]
      .filter((r) => r.finding.state === query.state)
      .filter((r) => query.severity === undefined || r.finding.severity === query.severity)
      .filter((r) => query.cloud === undefined || r.finding.cloud === query.cloud)
      .filter((r) => query.ruleId === undefined || r.finding.ruleId === query.ruleId)
      .sort((a, b) => queryOrder(a.finding, b.finding));
    return matches.slice(0, query.limit ?? matches.length).map((r) => this.copy(r));
  }

  /** Every record (tests and local runs only). */
  all(): StoredFinding[] {
    return [...this.records.values()].map((r) => this.copy(r));
  }
}
