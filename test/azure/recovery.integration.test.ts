import { expect } from 'chai';
import { startStack, type AzureStack } from './support/stack';
import { rowsOf, poisonCount } from './support/inspect';

/** Waits and refusals that must not end a scan: long rate limits, a rejected token, the last look at the deadline. */
describe('azure runtime recovers instead of failing', function () {
  this.timeout(180_000);

  describe('a Qualys rate limit longer than the client will wait', () => {
    let stack: AzureStack;
    before(async () => {
      // A 5 s budget against a 60 s window: most calls give up with QualysRateLimitError.
      stack = await startStack({ app: { qualysClient: { retry: { maxRateLimitWaitMs: 5_000 } } } });
    });
    after(async () => {
      await stack?.stop();
    });

    it('hands submits and checks back for later without using up deliveries, and completes every scan', async () => {
      stack.sim.setRateLimit({ global: { limit: 3, windowSec: 60 } });
      const images = ['shipscandemo.azurecr.io/shop/orders-api:1.4.2', 'shipscandemo.azurecr.io/shop/web-frontend:2.0.0', 'azcloudconsoleregistry.azurecr.io/aci-helloworld:v1', 'docker.io/library/nginx:1.27'];
      for (const [i, image] of images.entries()) {
        await stack.send(stack.deploy({ kind: i % 2 ? 'ACA' : 'ACI', name: `limited-${i}`, images: [image], correlationId: `corr-limited-${i}`, eventId: `ev-limited-${i}` }));
      }
      await stack.pump.drain(150_000);
      const rows = await rowsOf(stack);
      for (const image of images) {
        const mine = rows.filter((r) => r.Image === image);
        expect(mine, image).to.have.length(1);
        expect(mine[0]!.Status, `${image}: ${mine[0]!.Reason}`).to.equal('COMPLETED');
      }
      expect(rows.filter((r) => r.Status === 'FAILED')).to.have.length(0);
      const deferredSubmits = stack.pump.invocations.filter((i) => i.function === 'onDeployment' && JSON.stringify(i.result ?? '').includes('"deferred"'));
      const deferredChecks = stack.pump.invocations.filter((i) => i.function === 'pollScan' && JSON.stringify(i.result ?? '').includes('RATE_LIMITED'));
      expect(deferredSubmits.length, 'submits handed back').to.be.greaterThan(0);
      expect(deferredChecks.length, 'checks handed back').to.be.greaterThan(0);
      expect(stack.pump.invocations.every((i) => i.dequeueCount < 5), 'no message reached its last delivery').to.equal(true);
      expect(await poisonCount(stack, 'deployments')).to.equal(0);
      expect(await poisonCount(stack, 'scan-polls')).to.equal(0);
    });
  });

  describe('a rejected token and the last look at the deadline', () => {
    let stack: AzureStack;
    before(async () => {
      stack = await startStack({
        env: { MAX_SCAN_MINUTES: '5' },
        sim: { scanDuration: () => 3 * 60_000 },
        // First look after 30 s (still running), the next at the deadline, when the scan is done. The queue
        // hands a delayed message over a little after its time (whole seconds, then the pump's poll): +1 s.
        app: { pollDelay: ({ checks, deadline, now }) => (checks === 0 ? 30 / 20 : Math.max(0, (deadline.getTime() - now.getTime()) / 1000) / 20 + 1) },
      });
    });
    after(async () => {
      await stack?.stop();
    });

    it('stores COMPLETED for a scan that finished between the last regular check and the deadline', async () => {
      await stack.send(stack.deploy({ kind: 'ACI', name: 'late', images: ['shipscandemo.azurecr.io/shop/orders-api:1.4.2'], correlationId: 'corr-late', eventId: 'ev-late' }));
      await stack.pump.drain(60_000);
      const row = (await rowsOf(stack)).find((r) => r.Image === 'shipscandemo.azurecr.io/shop/orders-api:1.4.2');
      expect(row?.Status, row?.Reason).to.equal('COMPLETED');
      const polls = stack.pump.invocations.filter((i) => i.function === 'pollScan');
      expect(polls.some((p) => JSON.stringify(p.result ?? '').includes('"requeued"')), 'a regular check saw it running').to.equal(true);
      const last = polls.at(-1)?.result as { kind?: string } | undefined;
      expect(last?.kind).to.equal('stored');
    });

    it('retries a 401 instead of recording FAILED', async () => {
      stack.sim.injectFault({ kind: 'status', status: 401, times: 2, path: '/csapi/' });
      await stack.send(stack.deploy({ kind: 'ACA', name: 'rotated', images: ['shipscandemo.azurecr.io/shop/web-frontend:2.0.0'], correlationId: 'corr-rotated', eventId: 'ev-rotated' }));
      await stack.pump.drain(90_000);
      const row = (await rowsOf(stack)).find((r) => r.Image === 'shipscandemo.azurecr.io/shop/web-frontend:2.0.0');
      expect(row?.Status, row?.Reason).to.equal('COMPLETED');
      expect(stack.sim.callLog.filter((c) => c.status === 401).length, '401s seen').to.be.greaterThan(0);
    });
  });
});
