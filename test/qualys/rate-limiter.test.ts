import { expect } from 'chai';
import { RateLimiter, RateWaitTooLong, rateFamily, readRateLimitHeaders, type RateGrant } from '../../shared/qualys/rate-limiter';

function fakeClock(start = 1_000_000) {
  let now = start;
  const sleeps: number[] = [];
  return {
    sleeps,
    now: () => now,
    sleep: async (ms: number) => {
      sleeps.push(ms);
      now += ms;
    },
    advance: (ms: number) => (now += ms),
  };
}

const headers = (limit: number, remaining: number, windowSec: number, toWaitSec = 0) => ({ limit, remaining, windowSec, toWaitSec });

/** A clock whose sleepers wake only when the test moves time (several may sleep at once). */
function manualClock(start = 1_000_000) {
  let now = start;
  const timers: { at: number; resolve: () => void }[] = [];
  return {
    now: () => now,
    sleep: (ms: number) => new Promise<void>((resolve) => timers.push({ at: now + ms, resolve })),
    async advance(ms: number) {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.resolve();
      }
      await settle();
    },
  };
}

/** Lets every promise chain that can move on do so. */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Starts `n` acquires and keeps the grants as they come. */
function queue(limiter: RateLimiter, n: number, family: Parameters<RateLimiter['acquire']>[0] = 'registry') {
  const granted: RateGrant[] = [];
  for (let i = 0; i < n; i++) void limiter.acquire(family).then((g) => granted.push(g));
  return granted;
}

describe('rate limiter', () => {
  it('maps paths to the documented endpoint families', () => {
    expect(rateFamily('GET', '/csapi/v1.3/images')).to.equal('images-list');
    expect(rateFamily('GET', '/csapi/v1.3/images/abc/vuln')).to.equal('images');
    expect(rateFamily('GET', '/csapi/v1.3/registry')).to.equal('registry');
    expect(rateFamily('POST', '/csapi/v1.3/registry/u/schedule')).to.equal('registry');
    expect(rateFamily('GET', '/csapi/v1.3/containers')).to.equal('other');
  });

  it('reads the X-RateLimit headers defensively', () => {
    expect(readRateLimitHeaders({ 'x-ratelimit-limit': '300', 'x-ratelimit-remaining': '12', 'x-ratelimit-window-sec': '3600', 'x-ratelimit-towait-sec': '' })).to.deep.equal({
      limit: 300,
      remaining: 12,
      windowSec: 3600,
    });
    expect(readRateLimitHeaders({ 'x-ratelimit-limit': 'lots', 'x-ratelimit-remaining': '-3' })).to.deep.equal({});
  });

  it('goes at full speed with ample budget and paces calls once under the reserve', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('images'), headers(100, 50, 60));
    expect(clock.sleeps).to.deep.equal([]);
    limiter.complete(await limiter.acquire('images'), headers(100, 9, 60));
    // 9 left in a 60 s window: one call per 6 s.
    await limiter.acquire('images');
    expect(clock.sleeps).to.deep.equal([6000]);
    expect(limiter.headroom('images')).to.be.closeTo(0.08, 0.001);
  });

  it('waits for the window when nothing is left, and for ToWait-Sec when told', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('registry'), headers(10, 0, 60));
    await limiter.acquire('registry');
    expect(clock.sleeps).to.deep.equal([60_000]);
    const other = new RateLimiter({ clock });
    other.complete(await other.acquire('registry'), headers(10, 0, 60, 17));
    await other.acquire('registry');
    expect(clock.sleeps.slice(1)).to.deep.equal([17_000]);
  });

  it('treats families that report the same limit and window as one budget', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('registry'), headers(300, 200, 3600));
    limiter.complete(await limiter.acquire('images-list'), headers(300, 0, 3600));
    expect(limiter.delayFor('registry')).to.equal(3600_000);
    limiter.complete(await limiter.acquire('images'), headers(5000, 4000, 60));
    expect(limiter.delayFor('images')).to.equal(0);
  });

  it('holds back low-priority work when less than half of a shared budget is left', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('images-list'), headers(300, 141, 3600));
    limiter.complete(await limiter.acquire('registry'), headers(300, 140, 3600));
    expect(limiter.delayFor('registry', 'normal')).to.equal(0);
    expect(limiter.delayFor('registry', 'low')).to.equal(3600_000);
    let caught: unknown;
    await limiter.acquire('registry', 'low', 60_000).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(RateWaitTooLong);
    expect((caught as RateWaitTooLong).waitMs).to.equal(3600_000);
  });

  it('lets low-priority work use all of a budget no other family draws on (per-family limits)', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('images'), headers(12, 11, 60));
    limiter.complete(await limiter.acquire('registry'), headers(10, 4, 60));
    expect(limiter.delayFor('registry', 'low')).to.equal(0);
  });

  it('forgets a window that must have rolled over, and blocks after a 429', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('images'), headers(10, 0, 60));
    clock.advance(61_000);
    expect(limiter.delayFor('images')).to.equal(0);
    expect(limiter.headroom()).to.equal(1);
    limiter.block('images', 30_000);
    expect(limiter.delayFor('images')).to.equal(30_000);
    expect(limiter.headroom('images')).to.equal(0);
  });

  it('spreads what is left over what is left of the window when it saw the window start', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('images'), headers(300, 299, 3600));
    clock.advance(1800_000);
    limiter.complete(await limiter.acquire('images'), headers(300, 29, 3600));
    // 29 left (minus none in flight) for the last 30 minutes: one call per 60 s, not per 120 s.
    expect(limiter.delayFor('images')).to.equal(60_000);
    clock.advance(1800_000);
    expect(limiter.delayFor('images')).to.equal(0);
  });

  it('keeps two calls in flight before the first answer, then goes by what that answer says', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ clock });
    const granted = queue(limiter, 30, 'images');
    await settle();
    expect(granted).to.have.length(2);
    limiter.complete(granted[0]!, headers(12, 11, 60));
    await settle();
    // 11 left, one of them taken by the other call in flight: 10 more, the last two of them paced.
    expect(granted).to.have.length(10);
    await clock.advance(60_000);
    expect(granted.length).to.be.at.most(12);
  });

  it('releases a queue gradually when a window rolls over: two probes, then what the new window holds', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('registry'), headers(10, 0, 60, 30));
    const granted = queue(limiter, 20);
    await settle();
    expect(granted).to.have.length(0);
    await clock.advance(30_000);
    expect(granted).to.have.length(2);
    limiter.complete(granted[0]!, headers(10, 9, 60));
    await settle();
    // 9 left minus the other probe in flight: 8 more go at once, the reserve is spread over the window.
    expect(granted).to.have.length(2 + 8 - 1);
    await clock.advance(59_000);
    expect(granted).to.have.length(10);
  });

  it('never counts a late answer over a newer one', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ clock, reserveFraction: 0 });
    const [a, b] = [await limiter.acquire('images'), await limiter.acquire('images')];
    limiter.complete(b, headers(10, 1, 60));
    limiter.complete(a, headers(10, 2, 60));
    expect(limiter.headroom('images')).to.be.closeTo(0.1, 0.001);
  });

  it('backs off exponentially with jitter after 429s that say nothing, from a full window', async () => {
    const clock = manualClock();
    let r = 0;
    const limiter = new RateLimiter({ clock, random: () => r });
    expect(limiter.rejected(await limiter.acquire('images'), {})).to.equal(60_000);
    await clock.advance(60_000);
    r = 1;
    expect(limiter.rejected(await limiter.acquire('images'), {})).to.equal(150_000);
    expect(limiter.delayFor('images')).to.equal(150_000);
    expect(limiter.delayFor('registry')).to.equal(0);
    await clock.advance(150_000);
    r = 0;
    // Capped at two windows: a probe never meets the same spent window twice, a storm costs minutes, not hours.
    expect(limiter.rejected(await limiter.acquire('images'), {})).to.equal(120_000);
    await clock.advance(120_000);
    limiter.complete(await limiter.acquire('images'), {});
    expect(limiter.rejected(await limiter.acquire('images'), {})).to.equal(60_000);
    // Calls already in flight when a strike comes are part of it, not new strikes.
    const fresh = new RateLimiter({ clock, random: () => 0 });
    const [a, b] = [await fresh.acquire('images'), await fresh.acquire('images')];
    expect([fresh.rejected(a, {}), fresh.rejected(b, {})]).to.deep.equal([60_000, 60_000]);
    // A known window is the base.
    const other = new RateLimiter({ clock, random: () => 0 });
    other.complete(await other.acquire('registry'), headers(10, 5, 30));
    expect(other.rejected(await other.acquire('registry'), {})).to.equal(30_000);
  });

  it('a 429 that names a wait blocks for it, one that only says the budget is spent until its window ends', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ clock });
    expect(limiter.rejected(await limiter.acquire('registry'), headers(10, 0, 60, 17))).to.equal(17_000);
    await clock.advance(17_000);
    limiter.complete(await limiter.acquire('registry'), headers(10, 9, 60));
    await clock.advance(5_000);
    expect(limiter.rejected(await limiter.acquire('registry'), { limit: 10, remaining: 0, windowSec: 60 })).to.equal(55_000);
  });

  it('counts calls in flight against what is left', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock, reserveFraction: 0 });
    limiter.complete(await limiter.acquire('images'), headers(10, 2, 60));
    const a = await limiter.acquire('images');
    await limiter.acquire('images');
    expect(limiter.delayFor('images')).to.be.above(0);
    limiter.release(a);
    expect(limiter.delayFor('images')).to.equal(0);
  });
});
