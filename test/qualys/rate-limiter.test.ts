import { expect } from 'chai';
import { RateLimiter, RateWaitTooLong, rateFamily, readRateLimitHeaders } from '../../shared/qualys/rate-limiter';

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

  it('holds back low-priority work when less than half the budget is left', async () => {
    const clock = fakeClock();
    const limiter = new RateLimiter({ clock });
    limiter.complete(await limiter.acquire('registry'), headers(300, 140, 3600));
    expect(limiter.delayFor('registry', 'normal')).to.equal(0);
    expect(limiter.delayFor('registry', 'low')).to.equal(3600_000);
    let caught: unknown;
    await limiter.acquire('registry', 'low', 60_000).catch((e: unknown) => (caught = e));
    expect(caught).to.be.instanceOf(RateWaitTooLong);
    expect((caught as RateWaitTooLong).waitMs).to.equal(3600_000);
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
