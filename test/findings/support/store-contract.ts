import { expect } from 'chai';
import { findingKey, type FindingKey } from '../../../shared/findings/finding';
import { decide } from '../../../shared/findings/lifecycle';
import { FindingRecorder } from '../../../shared/findings/recorder';
import { FindingConflictError, type FindingStore, type StoredFinding } from '../../../shared/findings/store';
import type { FindingNotice, NotificationChannel } from '../../../shared/findings/notifier';
import { at, observation } from './observations';

/**
 * The behaviour every findings store must show (memory, DynamoDB on dynalite, Table on Azurite): conditional
 * writes, a notification claimed by one caller, listings by resource and by state. Each store's test file calls
 * this with a factory that gives an empty store.
 */

function keyOf(o = observation()): FindingKey {
  return findingKey({ ...o, resourceId: o.resource.id });
}

function opened(o = observation()): StoredFinding {
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

export function findingStoreContract(makeStore: () => Promise<FindingStore>): void {
  let store: FindingStore;
  beforeEach(async () => {
    store = await makeStore();
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
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => store.put(keyOf(), opened(), { absent: true })));
    expect(results.filter((r) => r.status === 'fulfilled')).to.have.length(1);
    for (const r of results) if (r.status === 'rejected') expect(r.reason).to.be.instanceOf(FindingConflictError);
  });

  it('grants a notification claim once while it lasts, again after it expires, never for another version or once sent', async () => {
    await store.put(keyOf(), opened(), { absent: true });
    const now = new Date('2026-12-01T10:00:00Z');
    const until = new Date('2026-12-01T10:05:00Z');
    const claims = await Promise.all(Array.from({ length: 10 }, () => store.claimNotification(keyOf(), 1, now, until)));
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
    const channel = new CountingChannel('email', 5);
    const recorder = () =>
      new FindingRecorder({ store, channels: [channel], policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'immediate' }, suppressions: [], persistTouches: true, now: () => new Date(at(1)) });
    const outcomes = await Promise.all(Array.from({ length: 10 }, () => recorder().record([observation()])));
    const transitions = outcomes.flat();
    expect(transitions.map((t) => t.kind)).to.deep.equal(['open']);
    expect(channel.notices).to.have.length(1);
    const stored = await store.get(keyOf());
    expect(stored?.version).to.equal(1);
    expect(stored?.notification?.state).to.equal('SENT');
  });
}
