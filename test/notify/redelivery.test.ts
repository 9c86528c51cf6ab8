import { expect } from 'chai';
import { FindingRecorder, NotificationError } from '../../shared/findings/recorder';
import { MemoryFindingStore } from '../../shared/findings/memory-store';
import { findingKey } from '../../shared/findings/finding';
import { SmtpEmailChannel } from '../../functions/notify/smtp-email';
import { WebhookChannel } from '../../functions/notify/webhook';
import { observation } from '../findings/support/observations';
import { startSmtpServer, type TestSmtpServer } from './support/smtp';
import { startReceiver, type Receiver } from './support/http';

/**
 * "Never twice for one transition", end to end: the FindingRecorder with real channels, a real SMTP server
 * and a real HTTP receiver.
 */
describe('redelivery never sends twice (recorder + SMTP + webhook)', () => {
  let smtp: TestSmtpServer;
  let hook: Receiver;
  beforeEach(async () => {
    smtp = await startSmtpServer();
    hook = await startReceiver();
  });
  afterEach(async () => {
    await smtp.close();
    await hook.close();
  });

  function recorder(store: MemoryFindingStore): FindingRecorder {
    return new FindingRecorder({
      store,
      channels: [
        new SmtpEmailChannel({ from: 'security@example.com', to: ['secops@example.com'], smtp: { host: smtp.host, port: smtp.port, secure: false }, plaintextLoopback: true }),
        new WebhookChannel({ kind: 'slack', url: `${hook.base}/services/T/B/secret`, delivery: { attempts: 1, timeoutMs: 2000 } }),
      ],
      policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'immediate' },
      suppressions: [],
      persistTouches: true,
    });
  }

  it('a webhook that fails once is retried alone on the redelivery; the email arrives once', async () => {
    const store = new MemoryFindingStore();
    hook.respond = (_req, n) => (n === 1 ? { status: 503, body: 'busy' } : { status: 200, body: 'ok' });
    const event = observation();
    let error: unknown;
    try {
      await recorder(store).record([event]);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(NotificationError);
    expect((error as NotificationError).failures.map((f) => f.channel)).to.deep.equal(['slack']);
    expect((error as Error).message).to.not.include('/services/T/B/secret');
    await smtp.waitFor(1);
    expect(hook.taken(), 'the 503 was not taken').to.have.length(0);
    const key = findingKey({ ...event, resourceId: event.resource.id });
    expect((await store.get(key))?.notification).to.deep.include({ state: 'PENDING', sentChannels: ['email'] });

    // The queue redelivers the same event: nothing new to decide, the pending notice goes to Slack only.
    expect(await recorder(store).record([event])).to.deep.equal([]);
    expect(hook.taken()).to.have.length(1);
    expect((await store.get(key))?.notification).to.deep.include({ state: 'SENT' });
    // And once more: nothing at all.
    await recorder(store).record([event]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received).to.have.length(1);
    expect(hook.taken()).to.have.length(1);
    expect(hook.hits).to.equal(2);
  });

  it('10 parallel deliveries of one event: one email on the SMTP server, one webhook post', async () => {
    const store = new MemoryFindingStore();
    const event = observation({ subject: 'tcp/3389 from 0.0.0.0/0' });
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => recorder(store).record([event])));
    expect(results.filter((r) => r.status === 'rejected')).to.deep.equal([]);
    const transitions = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
    expect(transitions.map((t) => t.kind)).to.deep.equal(['open']);
    await smtp.waitFor(1);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(smtp.received).to.have.length(1);
    expect(smtp.received[0]!.parsed.subject).to.equal('[shipscan] CRITICAL opened: Security group open to the internet on tcp/22 (sg-0abc)');
    expect(hook.taken()).to.have.length(1);
  });

  it('each real transition is told once: open, resolve, reopen give three emails', async () => {
    const store = new MemoryFindingStore();
    await recorder(store).record([observation()]);
    await recorder(store).record([observation({ outcome: 'pass', observedAt: '2026-12-01T11:00:00.000Z', resolvedReason: 'rule removed' })]);
    await recorder(store).record([observation({ outcome: 'pass', observedAt: '2026-12-01T11:00:00.000Z', resolvedReason: 'rule removed' })]);
    await recorder(store).record([observation({ observedAt: '2026-12-01T12:00:00.000Z' })]);
    await smtp.waitFor(3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(smtp.received.map((m) => m.parsed.subject?.split(':')[0])).to.deep.equal(['[shipscan] CRITICAL opened', '[shipscan] CRITICAL resolved', '[shipscan] CRITICAL reopened']);
    expect(smtp.received[1]!.parsed.text).to.include('rule removed');
    expect(new Set(smtp.received.map((m) => m.parsed.messageId)).size).to.equal(3);
    expect(hook.taken()).to.have.length(3);
  });
});
