import { expect } from 'chai';
import fc from 'fast-check';
import { DEFAULT_POLL_POLICY, DurationTracker, expectedScanMs, nextPoll, PollPolicyError, type PollState } from '../../shared/poll-policy';

const T0 = Date.UTC(2026, 0, 15, 9, 0, 0);
const MB = 1_048_576;
const S = 1000;
const noJitter = { random: () => 0.5 };

describe('poll policy', () => {
  describe('decision table (no jitter)', () => {
    const rows: { name: string; state: Partial<PollState>; delaySec?: number; giveUp?: true; reason: RegExp }[] = [
      { name: 'first look, size known (200 MB -> 20 s + 30 s)', state: { checks: 0, sizeBytes: 200 * MB }, delaySec: 50, reason: /first look.*size/ },
      { name: 'first look, tiny image: bounded below at 30 s', state: { checks: 0, sizeBytes: 5 * MB }, delaySec: 30, reason: /first look/ },
      { name: 'first look, huge image: bounded above at 10 min', state: { checks: 0, sizeBytes: 8000 * MB }, delaySec: 600, reason: /first look/ },
      { name: 'first look, size unknown: half the recent median', state: { checks: 0, recentMedianMs: 140 * S }, delaySec: 70, reason: /first look.*recent/ },
      { name: 'first look, nothing known: half of 60 s, bounded at 30 s', state: { checks: 0 }, delaySec: 30, reason: /default/ },
      { name: 'checked early: back to the first look', state: { checks: 1, sizeBytes: 200 * MB, now: T0 + 20 * S }, delaySec: 30, reason: /back to the first look/ },
      { name: 'after the first look: minimum interval', state: { checks: 1, now: T0 + 60 * S }, delaySec: 10, reason: /backoff/ },
      { name: 'later: 10% of the elapsed time', state: { checks: 5, now: T0 + 400 * S }, delaySec: 40, reason: /backoff/ },
      { name: 'much later: capped at 2 min', state: { checks: 9, now: T0 + 25 * 60 * S }, delaySec: 120, reason: /backoff/ },
      { name: 'low headroom stretches the interval', state: { checks: 5, now: T0 + 400 * S, headroom: 0.15 }, delaySec: 100, reason: /stretched x2\.50/ },
      { name: 'no headroom: 4x', state: { checks: 5, now: T0 + 400 * S, headroom: 0 }, delaySec: 160, reason: /stretched x4\.00/ },
      { name: 'ample headroom changes nothing', state: { checks: 5, now: T0 + 400 * S, headroom: 0.9 }, delaySec: 40, reason: /^backoff after the expected completion$/ },
      { name: 'the last look lands on the deadline', state: { checks: 20, now: T0 + 29 * 60 * S + 50 * S }, delaySec: 10, reason: /deadline/ },
      { name: 'at the deadline: give up', state: { checks: 20, now: T0 + 30 * 60 * S }, giveUp: true, reason: /1800 s/ },
    ];
    for (const row of rows) {
      it(row.name, () => {
        const decision = nextPoll({ submittedAt: T0, now: T0, checks: 0, ...noJitter, ...row.state });
        if (row.giveUp) {
          expect(decision.action).to.equal('give-up');
        } else {
          expect(decision.action).to.equal('wait');
          if (decision.action === 'wait') {
            expect(decision.delayMs).to.equal(row.delaySec! * S);
            expect(decision.at).to.equal((row.state.now ?? T0) + row.delaySec! * S);
          }
        }
        expect(decision.reason).to.match(row.reason);
      });
    }
  });

  it('jitters by at most +/-10% and spreads scans submitted together', () => {
    const delays = [0, 0.25, 0.999].map((r) => nextPoll({ submittedAt: T0, now: T0 + 400 * S, checks: 5, random: () => r }));
    expect(delays.map((d) => (d.action === 'wait' ? d.delayMs : 0))).to.deep.equal([36_000, 38_000, 43_992]);
  });

  it('honours configured minimum interval and deadline (azure.pollMinSec / maxScanMinutes)', () => {
    const d = nextPoll({ submittedAt: T0, now: T0 + 60 * S, checks: 1, ...noJitter }, { minIntervalMs: 30 * S, deadlineMs: 5 * 60 * S });
    expect(d).to.include({ action: 'wait', delayMs: 30 * S });
    expect(nextPoll({ submittedAt: T0, now: T0 + 5 * 60 * S, checks: 3 }, { deadlineMs: 5 * 60 * S }).action).to.equal('give-up');
  });

  it('rejects configurations and states that cannot work', () => {
    expect(() => nextPoll({ submittedAt: T0, now: T0, checks: 0 }, { minIntervalMs: 0 })).to.throw(PollPolicyError, /minIntervalMs/);
    expect(() => nextPoll({ submittedAt: T0, now: T0, checks: 0 }, { maxIntervalMs: 1000 })).to.throw(PollPolicyError, /maxIntervalMs/);
    expect(() => nextPoll({ submittedAt: T0, now: T0, checks: 0 }, { jitter: 1 })).to.throw(PollPolicyError, /jitter/);
    expect(() => nextPoll({ submittedAt: T0, now: T0, checks: -1 })).to.throw(PollPolicyError, /checks/);
    expect(() => nextPoll({ submittedAt: NaN, now: T0, checks: 0 })).to.throw(PollPolicyError, /submittedAt/);
  });

  it('never waits less than the minimum (unless the deadline is closer) nor past the deadline', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 40 * 60 }),
        fc.integer({ min: 0, max: 50 }),
        fc.option(fc.integer({ min: 1, max: 5000 }), { nil: undefined }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 0.9999, noNaN: true }),
        (elapsedSec, checks, sizeMb, headroom, r) => {
          const now = T0 + elapsedSec * S;
          const d = nextPoll({ submittedAt: T0, now, checks, headroom, random: () => r, ...(sizeMb ? { sizeBytes: sizeMb * MB } : {}) });
          const deadline = T0 + DEFAULT_POLL_POLICY.deadlineMs;
          if (now >= deadline) return d.action === 'give-up';
          if (d.action !== 'wait') return false;
          const min = Math.min(DEFAULT_POLL_POLICY.minIntervalMs, deadline - now);
          return d.delayMs >= min - 1 && d.at <= deadline && d.delayMs <= Math.max(DEFAULT_POLL_POLICY.maxIntervalMs * DEFAULT_POLL_POLICY.maxStretch, DEFAULT_POLL_POLICY.maxExpectedMs * 1.1 * DEFAULT_POLL_POLICY.maxStretch);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('estimates durations from size, else from recent scans', () => {
    expect(expectedScanMs({ sizeBytes: 100 * MB })).to.equal(35_000);
    expect(expectedScanMs({ recentMedianMs: 90_000 })).to.equal(90_000);
    expect(expectedScanMs({ recentMedianMs: 5_000 })).to.equal(30_000);
    const tracker = new DurationTracker(3);
    expect(tracker.median()).to.equal(undefined);
    for (const ms of [40_000, 100_000, 60_000, 500_000]) tracker.record(ms);
    expect(tracker.median()).to.equal(100_000); // window keeps 100 s, 60 s, 500 s
    tracker.record(NaN);
    tracker.record(-1);
    expect(tracker.median()).to.equal(100_000);
  });
});
