import { expect } from 'chai';
import { mulberry32, SimClock, startQualysSimulator, type QualysSimulator } from '../../local/qualys-sim';
import { parseImageReference } from '../../shared/image-reference';
import type { Clock } from '../../shared/qualys/clock';
import type { ScanTicket } from '../../shared/qualys/contracts';
import { QualysClient } from '../../shared/qualys/cs-client';
import { QualysAuthError, QualysServerError } from '../../shared/qualys/errors';
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
    // While many scans are pending a round is due every few seconds; the last two alone are looked at
    // about every 2 minutes (the policy's longest interval), which is what keeps few scans cheap.
    for (const o of completed) {
      const schedule = sim.schedules.find((s) => s.repo === o.ticket.repository)!;
      const lag = o.detectedAt - schedule.completeAt;
      expect(lag, o.ticket.repository).to.be.within(0, Math.max(10_000, 0.4 * (schedule.completeAt - schedule.requestedAt)));
    }
    expect(sim.callLog.filter((c) => c.status === 429)).to.have.length(0);
  });

  it('few scans cost no more than many: 20 scans of random duration, older scans visible, at most 3.5 calls each, none checked before it could be done', async () => {
    const random = mulberry32(11);
    const refs: string[] = [];
    const arrivals: number[] = [];
    for (let i = 0; i < 20; i++) {
      const r = random();
      // The published profile: half small (30-60 s), a third medium (1-3 min), the rest large (3-10 min).
      const [lo, hi] = r < 0.5 ? [30, 60] : r < 0.85 ? [60, 180] : [180, 600];
      sim.registerImage({ registry: 'shipscandemo.azurecr.io', repository: `few/app-${i}`, tags: ['2'], scannedAgoMs: 2 * 86_400_000, scanDurationMs: Math.round((lo + random() * (hi - lo)) * 1000) });
      refs.push(`shipscandemo.azurecr.io/few/app-${i}:2`);
      arrivals.push(Math.round(random() * 5 * 60_000));
    }
    const client = new QualysClient({ gateway: sim.url, credentials: { kind: 'token', token: sim.credentials.accessToken }, clock, rateLimiter: new RateLimiter({ clock }) });
    const workflow = createScanWorkflow({ client });
    const submittedAt = new Map<string, number>();
    const early: string[] = [];
    const poller = new ScanPoller({
      workflow,
      clock,
      random: () => 0.5,
      onRound: ({ at, tickets }) => {
        for (const t of tickets) if (at - submittedAt.get(t.repository)! < 30_000) early.push(t.repository);
      },
    });
    const start = clock.now();
    let settled = 0;
    const outcomes: PollOutcome[] = [];
    const fetches: Promise<unknown>[] = [];
    // Waiting for the poller holds no clock time, so it is not an actor; submitting and fetching are.
    const scans = refs.map((ref, i) =>
      clock.actor(async () => {
        await clock.sleep(arrivals[i]!);
        const ticket = await workflow.submit(parseImageReference(ref));
        submittedAt.set(ticket.repository, clock.now());
        void poller.track(ticket).then((outcome) => {
          outcomes.push(outcome);
          fetches.push(clock.actor(async () => {
            if (outcome.state === 'COMPLETED') await workflow.results(outcome.ticket, { cloud: 'azure', kind: 'container-image' });
            settled += 1;
          }));
        });
      }),
    );
    await Promise.all([...scans, clock.actor(() => poller.run(() => settled === refs.length))]);
    await Promise.all(fetches);
    expect(outcomes.map((o) => o.state)).to.deep.equal(refs.map(() => 'COMPLETED'));
    const calls = sim.callLog.filter((c) => c.path !== '/auth').length;
    expect(calls / refs.length, `${calls} calls in ${Math.round((clock.now() - start) / 60_000)} simulated minutes`).to.be.at.most(3.5);
    expect(early).to.deep.equal([]);
  });

  describe('when checking breaks for good', () => {
    const ticket = (repository: string): ScanTicket => ({ v: 1, image: `r.io/${repository}:1`, registry: 'r.io', repository, tag: '1', reused: false, submittedAt: new Date(0).toISOString() });
    /** Sleeps advance time at once; the poller needs nothing else from a clock. */
    const fastClock = (): Clock => {
      let t = 0;
      return { now: () => t, sleep: async (ms) => void (t += ms) };
    };
    /** What a tracked promise holds right now: its outcome, or 'pending'. */
    const settledYet = async (p: Promise<PollOutcome>): Promise<PollOutcome | 'pending'> => {
      const pending = Symbol('pending');
      const first = await Promise.race([p, new Promise<typeof pending>((resolve) => setImmediate(() => resolve(pending)))]);
      return first === pending ? 'pending' : first;
    };

    it('a non-retryable error rejects run() and settles every tracked scan FAILED with that error', async () => {
      const denied = new QualysAuthError('GET /csapi/v1.3/images: Qualys rejected the access token (HTTP 401)', 401);
      let calls = 0;
      const poller = new ScanPoller({
        workflow: {
          checkMany: async () => {
            calls += 1;
            // The first round meets a passing outage (retried), the next a rejected token (final).
            if (calls === 1) throw new QualysServerError('GET /csapi/v1.3/images: HTTP 503', 503);
            throw denied;
          },
        },
        clock: fastClock(),
        random: () => 0.5,
      });
      const tracked = [poller.track(ticket('a/one')), poller.track(ticket('a/two'))];
      let runError: unknown;
      await poller.run().catch((err: unknown) => (runError = err));
      expect(runError).to.equal(denied);
      expect(calls).to.equal(2);
      for (const p of tracked) {
        const outcome = await settledYet(p);
        expect(outcome).to.not.equal('pending');
        expect(outcome).to.deep.include({ state: 'FAILED', error: denied });
        expect((outcome as PollOutcome).detail).to.include('QualysAuthError').and.include('HTTP 401');
      }
      expect(poller.pending).to.equal(0);
      // A scan handed over after the poller broke settles at once too, instead of waiting for rounds that never come.
      const late = await settledYet(poller.track(ticket('a/late')));
      expect(late).to.deep.include({ state: 'FAILED', error: denied, checks: 0 });
    });

    it('an unexpected (non-Qualys) error settles the tracked scans the same way', async () => {
      const bug = new TypeError('cannot read properties of undefined');
      const poller = new ScanPoller({ workflow: { checkMany: async () => Promise.reject(bug) }, clock: fastClock(), random: () => 0.5 });
      const tracked = poller.track(ticket('b/one'));
      let runError: unknown;
      await poller.run().catch((err: unknown) => (runError = err));
      expect(runError).to.equal(bug);
      expect(await settledYet(tracked)).to.deep.include({ state: 'FAILED', error: bug });
    });
  });
});
