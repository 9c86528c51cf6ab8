import { expect } from 'chai';
import { FindingRecorder, NotificationError, type RecorderOptions } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import { compileSuppressions } from '../../shared/findings/suppressions';
import { findingKey, resourceKey } from '../../shared/findings/finding';
import { CountingChannel } from './support/store-contract';
import { at, observation } from './support/observations';

function setup(overrides: Partial<RecorderOptions> = {}) {
  const store = new MemoryFindingStore();
  const email = new CountingChannel('email');
  const chat = new CountingChannel('slack');
  let now = new Date(at(1));
  const options: RecorderOptions = {
    store,
    channels: [email, chat],
    policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' },
    suppressions: [],
    persistTouches: true,
    now: () => now,
    ...overrides,
  };
  return { store, email, chat, recorder: () => new FindingRecorder(options), setNow: (d: Date) => (now = d) };
}

const sg = observation();
const key = findingKey({ ...sg, resourceId: sg.resource.id });

describe('finding recorder (shared/findings/recorder)', () => {
  it('opens, touches, resolves and reopens, telling each channel about open and reopen only', async () => {
    const { store, email, chat, recorder } = setup();
    expect((await recorder().record([sg])).map((t) => t.kind)).to.deep.equal(['open']);
    expect((await recorder().record([observation({ observedAt: at(2) })])).map((t) => t.kind)).to.deep.equal(['touch']);
    expect((await recorder().record([observation({ outcome: 'pass', observedAt: at(3) })])).map((t) => t.kind)).to.deep.equal(['resolve']);
    expect((await recorder().record([observation({ observedAt: at(4) })])).map((t) => t.kind)).to.deep.equal(['reopen']);
    expect(email.notices.map((n) => n.transition)).to.deep.equal(['open', 'reopen']);
    expect(chat.notices.map((n) => n.transition)).to.deep.equal(['open', 'reopen']);
    const stored = await store.get(key);
    expect(stored?.version).to.equal(4);
    expect(stored?.finding).to.include({ state: 'ACTIVE', reopenCount: 1 });
  });

  it('tells about resolutions when notifyOnResolve is on, and nothing below the threshold', async () => {
    const { email, recorder } = setup({ policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'immediate' } });
    await recorder().record([sg, observation({ subject: 'low one', severity: 'LOW' })]);
    await recorder().record([observation({ outcome: 'pass', observedAt: at(3) })]);
    expect(email.notices.map((n) => `${n.transition} ${n.finding.severity}`)).to.deep.equal(['open CRITICAL', 'resolve CRITICAL']);
  });

  it('writes no notice in deferred mode (a scheduled run digests its transitions)', async () => {
    const { store, email, recorder } = setup({ policy: { severityThreshold: 'LOW', notifyOnResolve: true, mode: 'deferred' } });
    const transitions = await recorder().record([sg]);
    expect(transitions.map((t) => [t.kind, t.notified])).to.deep.equal([['open', false]]);
    expect(email.notices).to.have.length(0);
    expect((await store.get(key))?.notification).to.equal(undefined);
  });

  it('without persistTouches a failure seen again writes nothing', async () => {
    const { store, recorder } = setup({ persistTouches: false });
    await recorder().record([sg]);
    expect(await recorder().record([observation({ observedAt: at(9) })])).to.deep.equal([]);
    expect((await store.get(key))?.version).to.equal(1);
  });

  it('a channel that fails is retried alone by the next delivery; the others are not told twice', async () => {
    const { store, email, chat, recorder } = setup();
    chat.failuresLeft = 1;
    let error: unknown;
    try {
      await recorder().record([sg]);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(NotificationError);
    expect((error as Error).message).to.contain('slack (slack is down)');
    expect((await store.get(key))?.notification).to.include({ state: 'PENDING' });
    // The redelivery of the same event decides nothing new, but finishes the notice.
    expect(await recorder().record([sg])).to.deep.equal([]);
    expect(email.notices).to.have.length(1);
    expect(chat.notices).to.have.length(1);
    expect((await store.get(key))?.notification).to.include({ state: 'SENT' });
    await recorder().record([sg]);
    expect(email.notices).to.have.length(1);
  });

  it('onTransition sees each written transition once, also one whose notice failed and was finished by a redelivery', async () => {
    const seen: string[] = [];
    const { chat, recorder } = setup({ onTransition: (t) => seen.push(`${t.kind} ${t.finding.severity}`) });
    chat.failuresLeft = 1;
    let error: unknown;
    try {
      await recorder().record([sg]);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(NotificationError);
    // Written before the notice went out: counted although record() threw.
    expect(seen).to.deep.equal(['open CRITICAL']);
    await recorder().record([sg]);
    await recorder().record([observation({ observedAt: at(2) }), observation({ outcome: 'pass', observedAt: at(3) })]);
    expect(seen).to.deep.equal(['open CRITICAL', 'touch CRITICAL', 'resolve CRITICAL']);
  });

  it('a sender that died holding the claim is replaced once the claim expires', async () => {
    const { store, email, recorder, setNow } = setup({ claimMs: 60_000 });
    const dying = new FindingRecorder({ store, channels: [{ name: 'email', send: () => new Promise(() => undefined) }], policy: { severityThreshold: 'HIGH', notifyOnResolve: false, mode: 'immediate' }, suppressions: [], persistTouches: true, claimMs: 60_000, now: () => new Date(at(1)) });
    void dying.record([sg]);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await recorder().record([sg])).to.deep.equal([]);
    expect(email.notices, 'claim still held').to.have.length(0);
    setNow(new Date(at(3)));
    await recorder().record([sg]);
    expect(email.notices).to.have.length(1);
  });

  it('a suppression from config suppresses silently until it expires', async () => {
    const suppressions = compileSuppressions([{ ruleId: 'aws.ec2.*', resource: 'arn:aws:ec2:*:123456789012:security-group/sg-0abc', reason: 'bastion host, reviewed', expiresAt: at(30) }]);
    const { email, recorder } = setup({ suppressions });
    expect((await recorder().record([sg])).map((t) => [t.kind, t.finding.state])).to.deep.equal([['suppress', 'SUPPRESSED']]);
    expect(email.notices).to.have.length(0);
    expect((await recorder().record([observation({ observedAt: at(40) })])).map((t) => [t.kind, t.finding.state])).to.deep.equal([['unsuppress', 'ACTIVE']]);
    expect(email.notices.map((n) => n.transition)).to.deep.equal(['unsuppress']);
  });

  it('reconcile resolves what an evaluation no longer fails, only for the rules it ran', async () => {
    const { store, recorder } = setup();
    const rdp = observation({ subject: 'tcp/3389 from 0.0.0.0/0' });
    const otherRule = observation({ ruleId: 'aws.ec2.default-sg-in-use', subject: '' });
    await recorder().record([sg, rdp, otherRule]);
    const transitions = await recorder().reconcile({
      resource: { cloud: 'aws', scope: sg.scope, resourceId: sg.resource.id },
      covers: (f) => f.ruleId === 'aws.ec2.open-ingress',
      failures: [observation({ observedAt: at(5) })],
      observedAt: at(5),
      resolvedReason: 'not open in the latest evaluation',
      source: { trigger: 'schedule', runId: 'run-1' },
    });
    expect(transitions.map((t) => `${t.kind} ${t.finding.subject}`)).to.deep.equal(['touch tcp/22 from 0.0.0.0/0', 'resolve tcp/3389 from 0.0.0.0/0']);
    const states = (await store.listByResource(resourceKey('aws', sg.scope, sg.resource.id))).map((r) => `${r.finding.ruleId} ${r.finding.subject} ${r.finding.state}`).sort();
    expect(states).to.deep.equal(['aws.ec2.default-sg-in-use  ACTIVE', 'aws.ec2.open-ingress tcp/22 from 0.0.0.0/0 ACTIVE', 'aws.ec2.open-ingress tcp/3389 from 0.0.0.0/0 RESOLVED']);
  });

  it('resolves every open finding of a deleted resource, with the reason', async () => {
    const { recorder } = setup();
    await recorder().record([sg, observation({ subject: 'tcp/3389 from 0.0.0.0/0' })]);
    const transitions = await recorder().resolveResource({ cloud: 'aws', scope: sg.scope, resourceId: sg.resource.id }, at(7));
    expect(transitions.map((t) => [t.kind, t.finding.resolvedReason])).to.deep.equal([
      ['resolve', 'resource deleted'],
      ['resolve', 'resource deleted'],
    ]);
    expect(await recorder().resolveResource({ cloud: 'aws', scope: sg.scope, resourceId: sg.resource.id }, at(8))).to.deep.equal([]);
  });
});
