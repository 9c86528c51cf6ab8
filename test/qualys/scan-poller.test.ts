import { expect } from 'chai';
import { SimClock, startQualysSimulator, type QualysSimulator } from '../../local/qualys-sim';
import { parseImageReference } from '../../shared/image-reference';
import { QualysClient } from '../../shared/qualys/cs-client';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import { ScanPoller, type PollOutcome } from '../../shared/qualys/scan-poller';
import { createScanWorkflow } from '../../shared/qualys/workflow';

describe('ScanPoller over the simulator in simulated time', function () {
  let sim: QualysSimulator;
  let clock: SimClock;
  beforeEach(async () => {
    clock = new SimClock();
    sim = await startQualysSimulator({ clock });
  });
  afterEach(async () => sim.stop());

  it('sees 60 scans finish with few batched calls, little lag, and gives up on one that never lands', async () => {
    const refs: string[] = [];
    for (let i = 0; i < 60; i++) {
      sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `fleet/app-${i}`, tags: ['1'], scanDurationMs: 30_000 + i * 5_000 });
      refs.push(`shipscandemo.azurecr.io/fleet/app-${i}:1`);
    }
    refs.push('shipscandemo.azurecr.io/fleet/never-pushed:1');
    const client = new QualysClient({ gateway: sim.url, credentials: { kind: 'token', token: sim.credentials.accessToken }, clock, rateLimiter: new RateLimiter({ clock }) });
    const workflow = createScanWorkflow({ client });
    const poller = new ScanPoller({ workflow, clock, random: () => 0.5, headroom: () => client.rateLimiter.headroom(), policy: { deadlineMs: 10 * 60_000 } });
    const outcomes: PollOutcome[] = [];
    let settled = 0;
    const submitted = clock.actor(async () => {
      for (const ref of refs) {
        const ticket = await workflow.submit(parseImageReference(ref));
        void poller.track(ticket).then((o) => {
          outcomes.push(o);
          settled += 1;
        });
      }
    });
    await Promise.all([submitted, clock.actor(() => poller.run(() => settled === refs.length))]);
    const completed = outcomes.filter((o) => o.state === 'COMPLETED');
    expect(completed).to.have.length(60);
    expect(outcomes.find((o) => o.state === 'TIMED_OUT')?.ticket.repository).to.equal('fleet/never-pushed');
    const statusCalls = sim.callLog.filter((c) => c.path === '/csapi/v1.3/images').length;
    // A 10 s loop per scan would need (sum of durations) / 10 s = 60 x 177.5 s / 10 s = 1065 calls.
    expect(statusCalls).to.be.below(200);
    for (const o of completed) {
      const schedule = sim.schedules.find((s) => s.repo === o.ticket.repository)!;
      const lag = o.detectedAt - schedule.completeAt;
      expect(lag, o.ticket.repository).to.be.within(0, Math.max(10_000, 0.15 * (schedule.completeAt - schedule.requestedAt)));
    }
    expect(sim.callLog.filter((c) => c.status === 429)).to.have.length(0);
  });
});
