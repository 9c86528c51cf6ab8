import { expect } from 'chai';
import { findingKey, type FindingKey } from '../../../shared/findings/finding';
import { decide } from '../../../shared/findings/lifecycle';
import { FindingRecorder } from '../../../shared/findings/recorder';
import { FINDING_JSON_MAX_BYTES, FindingConflictError, FindingTooLargeError, type FindingStore, type StoredFinding } from '../../../shared/findings/store';
import type { FindingNotice, NotificationChannel } from '../../../shared/findings/notifier';
import { at, observation } from './observations';

/**
 * The behaviour every findings store must show (memory, DynamoDB on dynalite, Table on Azurite): conditional
 * writes, a notification claimed by one caller, listings by resource and by state. Each store's test file calls
 * this with a factory that gives an empty store.
 */

/** A store under test, and more handles on the same storage. */
export interface StoreUnderTest {
  store: FindingStore;
  /**
   * Another handle on the same storage with its own client and connections, as another process (another Lambda
   * instance, another Functions host) would have. Racing callers each use one, so a race is one at the store.
   */
  connect(): FindingStore;
}

export function keyOf(o = observation()): FindingKey {
  return findingKey({ ...o, resourceId: o.resource.id });
}

export function opened(o = observation()): StoredFinding {
  const d = decide(undefined, o, undefined);
  if (d.kind === 'none') throw new Error('expected a transition');
  return { finding: d.finding, version: 1, notification: { version: 1, state: 'PENDING', transition: 'open' } };
}

export class CountingChannel implements NotificationChannel {
  readonly notices: FindingNotice[] = [];
  failuresLeft = 0;
  constructor(readonly name: string, private readonly delayMs = 0) {}
  async send(notice: FindingNotice): Promise<void> {
    if (this.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    if (this.failuresLeft > 0) {
      this.failuresLeft -= 1;
      throw new Error(`${this.name} is down`);
    }
    this.notices.push(notice);
  }
}

async function conflictOf(write: Promise<unknown>): Promise<unknown> {
  try {
    await write;
  } catch (error) {
    return error;
  }
  return undefined;
}

/**
 * One event delivered `deliveries` times at once, each delivery with its own recorder and store handle. What a
 * store must show: one transition, one notice, the notice SENT.
 */
export async function parallelDeliveries(connect: () => FindingStore, deliveries = 10): Promise<{ kinds: string[]; notices: number; stored: StoredFinding | undefined }> {
  const channel = new CountingChannel('email', 5);
  const recorders = Array.from(
    { length: deliveries },
    () =>
      new FindingRecorder({ store: connect(), channels: [channel], policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'immediate' }, suppressions: [], persistTouches: true, now: () => new Date(at(1)) }),
  );
  const outcomes = await Promise.all(recorders.map((recorder) => recorder.record([observation()])));
  return { kinds: outcomes.flat().map((t) => t.kind), notices: channel.notices.length, stored: await connect().get(keyOf()) };
}

export function findingStoreContract(makeStore: () => Promise<StoreUnderTest>): void {
  let store: FindingStore;
  let connect: () => FindingStore;
  beforeEach(async () => {
    ({ store, connect } = await makeStore());
  });

  it('reads back what it wrote, and nothing for an unknown key', async () => {
    expect(await store.get(keyOf())).to.equal(undefined);
    const record = opened();
    await store.put(keyOf(), record, { absent: true });
    expect(await store.get(keyOf())).to.deep.equal(record);
  });

  it('refuses a create over an existing record and an update from a stale version', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    let error: unknown;
    try {
      await store.put(keyOf(), opened(), { absent: true });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FindingConflictError);
    error = undefined;
    try {
      await store.put(keyOf(), { ...opened(), version: 3 }, { version: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FindingConflictError);
    await store.put(keyOf(), { ...opened(), version: 2 }, { version: 1 });
    expect((await store.get(keyOf()))?.version).to.equal(2);
  });

  it('lets exactly one of many concurrent creates win', async () => {
    const handles = Array.from({ length: 10 }, () => connect());
    const results = await Promise.allSettled(handles.map((handle) => handle.put(keyOf(), opened(), { absent: true })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(FindingConflictError);
  });

  it('grants a notification claim once while it lasts, again after it expires, never for another version or once sent', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    const now = new Date('2026-12-01T10:00:00Z');
    const until = new Date('2026-12-01T10:05:00Z');
    const handles = Array.from({ length: 10 }, () => connect());
    const claims = await Promise.all(handles.map((handle) => handle.claimNotification(keyOf(), 1, now, until)));
    expect(claims.filter(Boolean)).to.have.length(1);
    expect(await store.claimNotification(keyOf(), 2, now, until)).to.equal(false);
    expect(await store.claimNotification(keyOf(), 1, new Date('2026-12-01T10:06:00Z'), new Date('2026-12-01T10:11:00Z'))).to.equal(true);
    await store.settleNotification(keyOf(), 1, { sentChannels: ['email'], done: true, at: new Date('2026-12-01T10:07:00Z') });
    const settled = await store.get(keyOf());
    expect(settled?.notification).to.include({ state: 'SENT', version: 1 });
    expect(settled?.notification?.sentChannels).to.deep.equal(['email']);
    expect(await store.claimNotification(keyOf(), 1, new Date('2026-12-01T11:00:00Z'), new Date('2026-12-01T11:05:00Z'))).to.equal(false);
  });

  it('a partial send records the channels that took it and releases the claim', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    const now = new Date('2026-12-01T10:00:00Z');
    expect(await store.claimNotification(keyOf(), 1, now, new Date('2026-12-01T10:05:00Z'))).to.equal(true);
    await store.settleNotification(keyOf(), 1, { sentChannels: ['sns'], done: false, at: now });
    const record = await store.get(keyOf());
    expect(record?.notification).to.include({ state: 'PENDING' });
    expect(record?.notification?.sentChannels).to.deep.equal(['sns']);
    expect(await store.claimNotification(keyOf(), 1, new Date('2026-12-01T10:00:01Z'), new Date('2026-12-01T10:05:01Z'))).to.equal(true);
  });

  it('lists every finding of one resource, and only of that resource', async () => {
    const other = observation({ resource: { type: 'AWS::EC2::SecurityGroup', id: 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abcd', name: 'sg-0abcd' } });
    const second = observation({ subject: 'tcp/3389 from 0.0.0.0/0' });
    await store.put(keyOf(), opened(), { absent: true });
    await store.put(keyOf(second), opened(second), { absent: true });
    await store.put(keyOf(other), opened(other), { absent: true });
    const listed = await store.listByResource(keyOf().partition);
    expect(listed.map((r) => r.finding.subject).sort()).to.deep.equal(['tcp/22 from 0.0.0.0/0', 'tcp/3389 from 0.0.0.0/0']);
  });

  it('queries by state, severity and rule, most severe first', async () => {
    const low = observation({ subject: 'low', severity: 'LOW' });
    const high = observation({ subject: 'high', severity: 'HIGH', ruleId: 'aws.s3.public-acl' });
    for (const o of [observation(), low, high]) await store.put(keyOf(o), opened(o), { absent: true });
    const all = await store.query({ state: 'ACTIVE' });
    expect(all.map((r) => r.finding.severity)).to.deep.equal(['CRITICAL', 'HIGH', 'LOW']);
    expect((await store.query({ state: 'ACTIVE', severity: 'LOW' })).map((r) => r.finding.subject)).to.deep.equal(['low']);
    expect((await store.query({ state: 'ACTIVE', ruleId: 'aws.s3.public-acl' })).map((r) => r.finding.subject)).to.deep.equal(['high']);
    expect(await store.query({ state: 'RESOLVED' })).to.deep.equal([]);
  });

  it('keeps keys with any characters apart (resource ids and subjects are untrusted)', async () => {
    const odd = observation({ resource: { type: 'x', id: '/subscriptions/s/resourceGroups/r#g/providers/A/b?c\\d', name: 'n' }, subject: 'a#b/c\u00e9' });
    await store.put(keyOf(odd), opened(odd), { absent: true });
    expect((await store.get(keyOf(odd)))?.finding.subject).to.equal('a#b/c\u00e9');
    expect(await store.listByResource(keyOf(odd).partition)).to.have.length(1);
  });

  it('10 parallel deliveries of one event: one transition, one notification', async () => {
    const { kinds, notices, stored } = await parallelDeliveries(connect);
    expect(kinds).to.deep.equal(['open']);
    expect(notices).to.equal(1);
    expect(stored?.version).to.equal(1);
    expect(stored?.notification?.state).to.equal('SENT');
  });

  it('refuses an update of a missing record and never creates one by a claim or a settle', async () => {
    expect(await conflictOf(store.put(keyOf(), opened(), { version: 1 }))).to.be.instanceOf(FindingConflictError);
    expect(await store.claimNotification(keyOf(), 1, new Date(at(0)), new Date(at(5)))).to.equal(false);
    await store.settleNotification(keyOf(), 1, { sentChannels: ['email'], done: true, at: new Date(at(0)) });
    expect(await store.get(keyOf())).to.equal(undefined);
    expect(await store.listByResource(keyOf().partition)).to.deep.equal([]);
  });

  it('refuses a put that carries a notice over as it was before a claim or a settle since the read', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    const read = (await store.get(keyOf()))!;
    expect(await connect().claimNotification(keyOf(), 1, new Date(at(0)), new Date(at(5)))).to.equal(true);
    // A touch based on the read from before the claim would erase the claim, and a second sender could claim.
    const touch = { ...read, version: 2, finding: { ...read.finding, lastSeenAt: at(1) } };
    expect(await conflictOf(store.put(keyOf(), touch, { version: 1 }))).to.be.instanceOf(FindingConflictError);
    const claimed = (await store.get(keyOf()))!;
    await store.put(keyOf(), { ...claimed, version: 2, finding: { ...claimed.finding, lastSeenAt: at(1) } }, { version: 1 });
    expect(await connect().claimNotification(keyOf(), 1, new Date(at(1)), new Date(at(6)))).to.equal(false);
    await store.settleNotification(keyOf(), 1, { sentChannels: ['sns'], done: false, at: new Date(at(1)) });
    // Settled since `claimed` was read: carrying the claimed notice over is refused too.
    expect(await conflictOf(store.put(keyOf(), { ...claimed, version: 3 }, { version: 2 }))).to.be.instanceOf(FindingConflictError);
    // A new transition replaces the notice whatever its delivery state.
    await store.put(keyOf(), { ...claimed, version: 3, notification: { version: 3, state: 'PENDING', transition: 'resolve' } }, { version: 2 });
    await store.settleNotification(keyOf(), 1, { sentChannels: ['sns', 'email'], done: true, at: new Date(at(2)) });
    expect((await store.get(keyOf()))?.notification).to.deep.equal({ version: 3, state: 'PENDING', transition: 'resolve' });
  });

  it('orders query results by severity, then the longest open first, and honours the limit and the cloud', async () => {
    const older = observation({ subject: 'older', severity: 'HIGH', observedAt: at(-60) });
    const newer = observation({ subject: 'newer', severity: 'HIGH', observedAt: at(30) });
    const azure = observation({
      subject: 'azure',
      severity: 'MEDIUM',
      cloud: 'azure',
      scope: { subscription: '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41' },
      resource: { type: 'microsoft.network/networksecuritygroups', id: '/subscriptions/6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/nsg', name: 'nsg' },
    });
    for (const o of [newer, observation(), azure, older]) await store.put(keyOf(o), opened(o), { absent: true });
    const subjects = async (q: Parameters<FindingStore['query']>[0]) => (await store.query(q)).map((r) => r.finding.subject);
    expect(await subjects({ state: 'ACTIVE' })).to.deep.equal(['tcp/22 from 0.0.0.0/0', 'older', 'newer', 'azure']);
    expect(await subjects({ state: 'ACTIVE', limit: 2 })).to.deep.equal(['tcp/22 from 0.0.0.0/0', 'older']);
    expect(await subjects({ state: 'ACTIVE', severity: 'HIGH', limit: 1 })).to.deep.equal(['older']);
    expect(await subjects({ state: 'ACTIVE', cloud: 'azure' })).to.deep.equal(['azure']);
    expect(await subjects({ state: 'ACTIVE', cloud: 'aws', limit: 3 })).to.deep.equal(['tcp/22 from 0.0.0.0/0', 'older', 'newer']);
    expect(await subjects({ state: 'ACTIVE', ruleId: older.ruleId, severity: 'HIGH' })).to.deep.equal(['older', 'newer']);
    expect(await subjects({ state: 'ACTIVE', limit: 0 })).to.deep.equal([]);
  });

  it('follows a finding from state to state in queries', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    const resolved = { ...opened(), version: 2, finding: { ...opened().finding, state: 'RESOLVED' as const, resolvedAt: at(5), resolvedReason: 'fixed' } };
    await store.put(keyOf(), resolved, { version: 1 });
    expect(await store.query({ state: 'ACTIVE' })).to.deep.equal([]);
    expect((await store.query({ state: 'RESOLVED' })).map((r) => r.version)).to.deep.equal([2]);
    expect((await store.query({ state: 'RESOLVED', ruleId: observation().ruleId })).map((r) => r.version)).to.deep.equal([2]);
    const reopened = { ...opened(), version: 3, finding: { ...opened().finding, severity: 'HIGH' as const, reopenCount: 1, lastSeenAt: at(9) } };
    await store.put(keyOf(), reopened, { version: 2 });
    expect(await store.query({ state: 'RESOLVED' })).to.deep.equal([]);
    expect(await store.query({ state: 'ACTIVE', severity: 'CRITICAL' })).to.deep.equal([]);
    expect((await store.query({ state: 'ACTIVE', severity: 'HIGH' })).map((r) => r.version)).to.deep.equal([3]);
  });

  it(`holds a finding of up to ${FINDING_JSON_MAX_BYTES} bytes of JSON and refuses a larger one`, async () => {
    // 40,000 characters: more than one Azure Table string property holds; non-BMP characters must survive a split.
    const long = observation({ title: `${'\u{1F6A8}'.repeat(1000)}${'t'.repeat(38_000)}` });
    const record = opened(long);
    await store.put(keyOf(long), record, { absent: true });
    expect(await store.get(keyOf(long))).to.deep.equal(record);
    const huge = observation({ subject: 'huge', title: 'x'.repeat(FINDING_JSON_MAX_BYTES) });
    expect(await conflictOf(store.put(keyOf(huge), opened(huge), { absent: true }))).to.be.instanceOf(FindingTooLargeError);
    expect(await store.get(keyOf(huge))).to.equal(undefined);
  });
}
