import { expect } from 'chai';
import { QueueServiceClient } from '@azure/storage-queue';
import { startAzurite, type RunningAzurite } from '../../local/emulators/azurite';
import { QueuePump, poisonMessageText } from '../../local/queue-pump/pump';
import type { InvocationContext } from '@azure/functions';

describe('queue pump (Functions host queue listener on Azurite)', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let queues: QueueServiceClient;

  before(async () => {
    azurite = await startAzurite();
    queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  });
  after(async () => {
    await azurite?.stop();
  });

  it('decodes base64 JSON, passes trigger metadata, retries failures with a growing dequeue count and poisons after the maximum', async () => {
    const seen: { body: unknown; dequeueCount: unknown; id: unknown }[] = [];
    const logs: string[] = [];
    const pump = new QueuePump({
      queues,
      functions: [
        {
          name: 'echo',
          queueName: 'pump-test',
          handler: async (body: unknown, context: InvocationContext) => {
            seen.push({ body, dequeueCount: context.triggerMetadata?.dequeueCount, id: context.triggerMetadata?.id });
            if ((body as { fail?: boolean }).fail) throw new Error('handler failed');
          },
        },
      ],
      maxDequeueCount: 3,
      retryVisibilitySec: 1,
      logHandler: (level, ...args) => logs.push(`${level} ${args.join(' ')}`),
    });
    await pump.start();
    const q = queues.getQueueClient('pump-test');
    await q.sendMessage(Buffer.from(JSON.stringify({ ok: 1 })).toString('base64'));
    await q.sendMessage(Buffer.from(JSON.stringify({ fail: true })).toString('base64'));
    await q.sendMessage('plain text is not base64!');
    await pump.drain(30_000);
    await pump.stop();
    expect(seen.filter((s) => (s.body as { ok?: number }).ok === 1)).to.have.length(1);
    const failing = seen.filter((s) => (s.body as { fail?: boolean }).fail);
    expect(failing.map((s) => s.dequeueCount)).to.deep.equal([1, 2, 3]);
    expect(new Set(failing.map((s) => s.id)).size).to.equal(1);
    const poison = await queues.getQueueClient('pump-test-poison').peekMessages({ numberOfMessages: 10 });
    expect(poison.peekedMessageItems).to.have.length(2);
    expect(pump.stats).to.include({ poisoned: 2 });
    expect(logs.filter((l) => l.includes(poisonMessageText(3, 'pump-test-poison')))).to.have.length(2);
    // The non-base64 body never reached the handler (the host cannot bind it either).
    expect(seen.some((s) => typeof s.body === 'string')).to.equal(false);
  });
});
