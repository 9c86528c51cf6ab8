import { expect } from 'chai';
import { startStack, type AzureStack } from './support/stack';
import { rowsOf, poisonCount, blobNames, readBlobJson, schedulesFor } from './support/inspect';
import { QualysRateLimitError, QualysServerError } from '../../shared/qualys/errors';
import type { CheckOutcome, ScanTicket } from '../../shared/qualys/contracts';
import type { DeploymentOutcome } from '../../functions/azure/on-deployment';
import type { PollOutcome } from '../../functions/azure/poll-scan';

/** What the queue's own retry used to allow a failing poll (5 deliveries 30 s apart) before FAILED. */
const OLD_QUEUE_DELIVERIES = 5;

function resultsOf<T>(stack: AzureStack, fn: string, mentioning: string): T[] {
  return stack.pump.invocations.filter((i) => i.function === fn && JSON.stringify(i.result ?? i.error ?? '').includes(mentioning)).map((i) => i.result as T);
}

/** Waits (real time) until `done` holds, checking every 50 ms. */
async function until(done: () => boolean, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

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
      // Not orders-api: its digest (which the registry stub resolves) has a recent Qualys scan to reuse, done at once.
      await stack.send(stack.deploy({ kind: 'ACI', name: 'late', images: ['shipscandemo.azurecr.io/shop/reports:3.3.1'], correlationId: 'corr-late', eventId: 'ev-late' }));
      await stack.pump.drain(60_000);
      const row = (await rowsOf(stack)).find((r) => r.Image === 'shipscandemo.azurecr.io/shop/reports:3.3.1');
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

  describe('crashes, waits and outages that must still end in one recorded outcome per workload', () => {
    let stack: AzureStack;
    before(async () => {
      stack = await startStack({
        env: { MAX_SCAN_MINUTES: '3' },
        // Budgets shrunk so the test takes seconds; the default schedule is checked in units.test.ts.
        app: { retryPolicy: { pollRetryBaseSec: 20, pollRetryMaxSec: 40, deploymentMaxDefers: 4 } },
      });
    });
    after(async () => {
      await stack?.stop();
    });

    it('finishes a scan whose delivery died after the row write: lock released, cache written, one result', async () => {
      const image = 'shipscandemo.azurecr.io/shop/orders-api:1.4.2';
      const digest = stack.sim.findImage(image)!.digest;
      const locks = stack.app.stores.locks;
      const original = locks.complete.bind(locks);
      let crashes = 0;
      locks.complete = async (key, scanId, cached) => {
        if (cached && crashes === 0) {
          crashes += 1;
          throw new Error('simulated worker crash after the row write, before the lock completes');
        }
        return original(key, scanId, cached);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'crash-after-row', images: [image], correlationId: 'corr-car', eventId: 'ev-car' }));
        await stack.pump.drain(60_000);
      } finally {
        locks.complete = original;
      }
      expect(crashes).to.equal(1);
      const rows = (await rowsOf(stack)).filter((r) => r.Image === image);
      expect(rows).to.have.length(1);
      expect(rows[0]!.Status).to.equal('COMPLETED');
      expect(await blobNames(stack, 'shipscandemo.azurecr.io/shop/orders-api/')).to.have.length(1);
      expect(await locks.inflight(digest), 'lock released').to.equal(undefined);
      expect((await locks.latest(digest))?.scanId, 'cache entry written').to.equal(rows[0]!.rowKey);
      // The event the crashed delivery never sent is sent once by the delivery that finished.
      expect(stack.telemetry.scans.filter((e) => e.ScanId === rows[0]!.rowKey && e.EventType === 'ScanCompleted')).to.have.length(1);
      const polls = resultsOf<PollOutcome>(stack, 'pollScan', rows[0]!.rowKey);
      expect(polls.some((p) => p?.kind === 'stored' && p.recovered === true)).to.equal(true);

      // And the next workload with that image is answered from the cache, not skipped as in flight.
      await stack.send(stack.deploy({ kind: 'ACA', name: 'after-crash', images: [image], correlationId: 'corr-after', eventId: 'ev-after' }));
      await stack.pump.drain(30_000);
      expect(stack.telemetry.scans.filter((e) => e.Image === image).map((e) => e.EventType)).to.deep.equal(['ScanCompleted', 'CacheHit']);
      const hit = (await rowsOf(stack)).find((r) => r.Image === image && r.ResourceId.endsWith('/after-crash'));
      expect(hit).to.include({ Status: 'CACHED', SourceScanId: rows[0]!.rowKey, BlobPath: rows[0]!.BlobPath });
    });

    it("gives a workload that waited on another workload's scan an outcome of its own when that scan fails", async () => {
      const image = 'shipscandemo.azurecr.io/shop/payments-worker:3.1.0';
      await stack.send(stack.deploy({ kind: 'ACI', name: 'pay-a', images: [image], correlationId: 'corr-pay-a', eventId: 'ev-pay-a' }));
      // b arrives while a's scan is in flight (submitted, not done).
      await until(() => resultsOf<DeploymentOutcome>(stack, 'onDeployment', 'ev-pay-a').some((r) => JSON.stringify(r).includes('"submitted"')));
      await stack.send(stack.deploy({ kind: 'ACA', name: 'pay-b', images: [image], correlationId: 'corr-pay-b', eventId: 'ev-pay-b' }));
      await stack.pump.drain(60_000);
      const rows = (await rowsOf(stack)).filter((r) => r.Image === image);
      expect(rows.map((r) => r.ResourceId.split('/').pop()).sort()).to.deep.equal(['pay-a', 'pay-b']);
      expect(rows.every((r) => r.Status === 'FAILED'), rows.map((r) => r.Reason).join('; ')).to.equal(true);
      // b waited (once reported as a skipped duplicate), then scanned on its own once a's lock was gone.
      const b = resultsOf<DeploymentOutcome>(stack, 'onDeployment', 'ev-pay-b').flatMap((r) => r.events.flatMap((e) => e.images ?? []).map((i) => i.kind));
      expect(b[0]).to.equal('waiting');
      expect(b.at(-1)).to.equal('submitted');
      expect(stack.telemetry.scans.filter((e) => e.Image === image && e.EventType === 'DuplicateSkipped')).to.have.length(1);
      expect(schedulesFor(stack, 'shop/payments-worker')).to.equal(2);
      expect(await poisonCount(stack, 'deployments')).to.equal(0);
    });

    it('records FAILED once a deployment has been deferred for the rate limit past its budget', async () => {
      const image = 'shipscandemo.azurecr.io/shop/web-frontend:2.0.0';
      const workflow = stack.app.workflow;
      const original = workflow.submit.bind(workflow);
      workflow.submit = async (ref) => {
        if (ref.repository === 'shop/web-frontend') throw new QualysRateLimitError('POST /registry/x/schedule: rate limited (HTTP 429); retry after 30 s', 30);
        return original(ref);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'throttled', images: [image], correlationId: 'corr-throttled', eventId: 'ev-throttled' }));
        await stack.pump.drain(60_000);
      } finally {
        workflow.submit = original;
      }
      const rows = (await rowsOf(stack)).filter((r) => r.Image === image);
      expect(rows).to.have.length(1);
      expect(rows[0]!.Status).to.equal('FAILED');
      expect(rows[0]!.Reason).to.match(/kept rate-limiting the submit .*gave up after 4 re-sends/);
      expect(((await readBlobJson(stack, rows[0]!.BlobPath)).error as { code: string }).code).to.equal('QUALYS_RATE_LIMITED');
      const deliveries = stack.pump.invocations.filter((i) => i.function === 'onDeployment' && JSON.stringify(i.result ?? '').includes('ev-throttled'));
      // The first delivery and 4 re-sends, each a fresh message (dequeueCount 1); the last one records.
      expect(deliveries.map((d) => d.dequeueCount)).to.deep.equal([1, 1, 1, 1, 1]);
      expect(await stack.app.stores.locks.inflight(stack.sim.findImage(image)!.digest), 'lock released').to.equal(undefined);
    });

    it('records TIMEOUT when the rate limit keeps handing a check back past MAX_SCAN_MINUTES', async () => {
      const image = 'azcloudconsoleregistry.azurecr.io/aci-helloworld:v1';
      const batcher = stack.app.batcher;
      const original = batcher.check.bind(batcher);
      batcher.check = async (ticket: ScanTicket): Promise<CheckOutcome> => {
        if (ticket.repository === 'aci-helloworld') throw new QualysRateLimitError('GET /images: rate limited (HTTP 429); retry after 20 s', 20);
        return original(ticket);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACA', name: 'limited-checks', images: [image], correlationId: 'corr-lc', eventId: 'ev-lc' }));
        await stack.pump.drain(60_000);
      } finally {
        batcher.check = original;
      }
      const row = (await rowsOf(stack)).find((r) => r.Image === image);
      expect(row?.Status).to.equal('TIMEOUT');
      expect(row!.Reason).to.match(/no result within 3 minutes: Qualys kept rate-limiting the checks \(\d+ deferrals/);
      expect(((await readBlobJson(stack, row!.BlobPath)).error as { code: string }).code).to.equal('SCAN_TIMEOUT');
      const polls = resultsOf<PollOutcome>(stack, 'pollScan', row!.rowKey);
      expect(polls.filter((p) => p?.kind === 'requeued' && p.state === 'RATE_LIMITED').length).to.be.greaterThan(2);
      expect(await stack.app.stores.locks.inflight(stack.sim.findImage(image)!.digest), 'lock released').to.equal(undefined);
    });

    it('rides out more transient Qualys failures than the queue has deliveries, with growing delays', async () => {
      const image = 'docker.io/library/nginx:1.27';
      const batcher = stack.app.batcher;
      const original = batcher.check.bind(batcher);
      let failures = 0;
      batcher.check = async (ticket: ScanTicket): Promise<CheckOutcome> => {
        if (ticket.repository === 'library/nginx' && failures < 6) {
          failures += 1;
          throw new QualysServerError('GET /images: HTTP 503 service unavailable', 503);
        }
        return original(ticket);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACI', name: 'outage', images: [image], correlationId: 'corr-outage', eventId: 'ev-outage' }));
        await stack.pump.drain(90_000);
      } finally {
        batcher.check = original;
      }
      expect(failures).to.be.greaterThan(OLD_QUEUE_DELIVERIES);
      const row = (await rowsOf(stack)).find((r) => r.Image === image);
      expect(row?.Status, row?.Reason).to.equal('COMPLETED');
      const polls = stack.pump.invocations.filter((i) => i.function === 'pollScan' && JSON.stringify(i.result ?? '').includes(row!.rowKey));
      expect(polls.every((p) => p.ok && p.dequeueCount === 1), 'no delivery was used up').to.equal(true);
      const retries = polls.map((p) => p.result as PollOutcome).filter((p): p is Extract<PollOutcome, { kind: 'requeued' }> => p.kind === 'requeued' && p.state === 'RETRYING');
      expect(retries.length).to.equal(failures);
      expect(retries.at(-1)!.delaySec, 'the delay grows').to.be.greaterThan(retries[0]!.delaySec);
    });

    it('records FAILED with the reason after the last transient retry', async () => {
      const image = 'docker.io/repo/testcontainerapp0:v4';
      const batcher = stack.app.batcher;
      const original = batcher.check.bind(batcher);
      let calls = 0;
      batcher.check = async (ticket: ScanTicket): Promise<CheckOutcome> => {
        if (ticket.repository === 'repo/testcontainerapp0') {
          calls += 1;
          throw new QualysServerError('GET /images: HTTP 502 bad gateway', 502);
        }
        return original(ticket);
      };
      try {
        await stack.send(stack.deploy({ kind: 'ACA', name: 'down', images: [image], correlationId: 'corr-down', eventId: 'ev-down' }));
        await stack.pump.drain(90_000);
      } finally {
        batcher.check = original;
      }
      const row = (await rowsOf(stack)).find((r) => r.Image === image);
      expect(row?.Status).to.equal('FAILED');
      expect(row!.Reason).to.match(/gave up after 8 failed Qualys calls in a row \(QualysServerError\): GET \/images: HTTP 502/);
      expect(calls).to.equal(8);
      expect(await poisonCount(stack, 'scan-polls')).to.equal(0);
      expect(await stack.app.stores.locks.inflight(stack.sim.findImage(image)!.digest), 'lock released').to.equal(undefined);
    });
  });
});
