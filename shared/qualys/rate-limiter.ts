import { systemClock, type Clock } from './clock';

/**
 * Qualys counts Container Security calls per endpoint family (../reference/qualys.md): `/images/list`
 * (listing), `/images/**`, `/registry/**`. `/auth` is exempt.
 */
export type RateFamily = 'images-list' | 'images' | 'registry' | 'other';

export function rateFamily(method: string, apiPath: string): RateFamily {
  const p = apiPath.replace(/\?.*$/, '').replace(/\/+$/, '');
  if (method === 'GET' && /\/images$/.test(p)) return 'images-list';
  if (/\/images(\/|$)/.test(p)) return 'images';
  if (/\/registry(\/|$)/.test(p)) return 'registry';
  return 'other';
}

export interface RateLimitHeaders {
  limit?: number;
  remaining?: number;
  windowSec?: number;
  toWaitSec?: number;
}

function headerNumber(headers: Record<string, string | string[] | undefined>, name: string): number | undefined {
  const raw = headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined || value.trim() === '') return undefined;
  const n = Number(value);
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** Reads the X-RateLimit-* headers (lower-case keys, as undici gives them). */
export function readRateLimitHeaders(headers: Record<string, string | string[] | undefined>): RateLimitHeaders {
  const out: RateLimitHeaders = {};
  const limit = headerNumber(headers, 'x-ratelimit-limit');
  const remaining = headerNumber(headers, 'x-ratelimit-remaining');
  const windowSec = headerNumber(headers, 'x-ratelimit-window-sec');
  const toWaitSec = headerNumber(headers, 'x-ratelimit-towait-sec');
  if (limit !== undefined) out.limit = limit;
  if (remaining !== undefined) out.remaining = remaining;
  if (windowSec !== undefined) out.windowSec = windowSec;
  if (toWaitSec !== undefined) out.toWaitSec = toWaitSec;
  return out;
}

/** acquire() would have to wait longer than allowed. */
export class RateWaitTooLong extends Error {
  override readonly name = 'RateWaitTooLong';
  constructor(readonly family: RateFamily, readonly waitMs: number) {
    super(`the ${family} rate-limit budget is spent for the next ${Math.ceil(waitMs / 1000)} s`);
  }
}

interface Bucket {
  limit?: number;
  remaining?: number;
  windowSec?: number;
  /** Start of the current window when it is known (a response with limit - 1 remaining). */
  windowStart?: number;
  observedAt: number;
  blockedUntil: number;
  lastGrantAt: number;
  inFlight: number;
}

/** A granted call; hand it back to complete() or release(). */
export interface RateGrant {
  family: RateFamily;
  bucket: string;
}

/**
 * `low` is for work that starts something new (submitting a scan); it waits while less than
 * lowPriorityReserve of the budget is left, so scans already in flight can still finish.
 */
export type RatePriority = 'normal' | 'low';

export interface RateLimiterOptions {
  /** Below this fraction of the budget left, calls are spread evenly over the rest of the window. */
  reserveFraction?: number;
  /** Low-priority calls wait while less than this fraction is left (default 0.5). */
  lowPriorityReserve?: number;
  clock?: Clock;
}

/**
 * What the server said about the budget, shared by every call of a process (see defaultRateLimiter).
 * It never spends the last calls of a window in a burst: under `reserveFraction` of the budget, calls
 * are paced at window / remaining; at zero, or after a 429, it waits what the server said.
 *
 * Families that report the same limit and window are treated as one budget: that is what a
 * subscription-wide cap (e.g. 300 per hour for every endpoint) looks like from the outside, and
 * sharing only ever makes the client more careful. Qualys' documented defaults differ per family.
 */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly familyBucket = new Map<RateFamily, string>();
  private readonly reserveFraction: number;
  private readonly lowPriorityReserve: number;
  readonly clock: Clock;
  /** Time spent waiting in acquire, for metrics and the benchmark. */
  readonly stats = { waits: 0, waitedMs: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.reserveFraction = options.reserveFraction ?? 0.2;
    this.lowPriorityReserve = options.lowPriorityReserve ?? 0.5;
    this.clock = options.clock ?? systemClock;
  }

  private bucketKey(family: RateFamily): string {
    return this.familyBucket.get(family) ?? `family:${family}`;
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { observedAt: 0, blockedUntil: 0, lastGrantAt: 0, inFlight: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }

  /** Milliseconds to wait before the next call of `family` (0 = go). */
  delayFor(family: RateFamily, priority: RatePriority = 'normal', now = this.clock.now()): number {
    const b = this.bucket(this.bucketKey(family));
    if (now < b.blockedUntil) return b.blockedUntil - now;
    if (b.limit === undefined || b.remaining === undefined || b.windowSec === undefined) return 0;
    const windowMs = b.windowSec * 1000;
    // A window that has surely rolled over since the last observation says nothing any more.
    if (now - b.observedAt >= windowMs) return 0;
    const windowEnd = b.windowStart !== undefined ? b.windowStart + windowMs : b.observedAt + windowMs;
    if (now >= windowEnd) return 0;
    const left = b.remaining - b.inFlight;
    if (left <= 0) return Math.max(1, windowEnd - now);
    if (priority === 'low' && left < b.limit * this.lowPriorityReserve) return Math.max(1, windowEnd - now);
    if (left >= b.limit * this.reserveFraction) return 0;
    // Spread what is left over what is left of the window (all of it when its start is unknown).
    const spacing = (b.windowStart !== undefined ? windowEnd - now : windowMs) / (left + 1);
    return Math.max(0, b.lastGrantAt + spacing - now);
  }

  /**
   * Waits (through the clock) until a call of `family` fits the budget, then counts it in flight.
   * When the next wait would take the total past maxWaitMs it throws RateWaitTooLong instead, so a
   * queue handler can hand the work back rather than sleep through its invocation.
   */
  async acquire(family: RateFamily, priority: RatePriority = 'normal', maxWaitMs = Infinity): Promise<RateGrant> {
    let waited = 0;
    for (;;) {
      const wait = this.delayFor(family, priority);
      if (wait <= 0) break;
      if (waited + wait > maxWaitMs) throw new RateWaitTooLong(family, wait);
      waited += wait;
      this.stats.waits += 1;
      this.stats.waitedMs += wait;
      await this.clock.sleep(wait);
    }
    const key = this.bucketKey(family);
    const b = this.bucket(key);
    b.inFlight += 1;
    b.lastGrantAt = this.clock.now();
    return { family, bucket: key };
  }

  /** Records a response's headers and ends the call's in-flight count. */
  complete(grant: RateGrant, headers: RateLimitHeaders): void {
    this.release(grant);
    if (headers.limit === undefined || headers.windowSec === undefined) {
      this.applyWait(this.bucket(this.bucketKey(grant.family)), headers);
      return;
    }
    const key = `${headers.limit}/${headers.windowSec}`;
    const previous = this.familyBucket.get(grant.family);
    this.familyBucket.set(grant.family, key);
    const b = this.bucket(key);
    if (previous && previous !== key) b.blockedUntil = Math.max(b.blockedUntil, this.bucket(previous).blockedUntil);
    b.limit = headers.limit;
    b.windowSec = headers.windowSec;
    if (headers.remaining !== undefined) {
      const now = this.clock.now();
      const reset = b.remaining === undefined || headers.remaining > b.remaining;
      if (headers.remaining === headers.limit - 1 && reset) b.windowStart = now;
      else if (reset) b.windowStart = undefined;
      if (b.windowStart !== undefined && now >= b.windowStart + headers.windowSec * 1000) b.windowStart = undefined;
      b.remaining = headers.remaining;
      b.observedAt = now;
    }
    this.applyWait(b, headers);
  }

  private applyWait(b: Bucket, headers: RateLimitHeaders): void {
    if (headers.toWaitSec === undefined || headers.toWaitSec <= 0) return;
    b.blockedUntil = Math.max(b.blockedUntil, this.clock.now() + headers.toWaitSec * 1000);
    // The server said when the budget comes back; the old count no longer holds after that.
    b.remaining = undefined;
  }

  /** Ends a call that got no response (network error, timeout). */
  release(grant: RateGrant): void {
    const b = this.bucket(grant.bucket);
    b.inFlight = Math.max(0, b.inFlight - 1);
  }

  /** After a 429: nobody in this process calls the family's budget again before `ms` have passed. */
  block(family: RateFamily, ms: number): void {
    const b = this.bucket(this.bucketKey(family));
    b.blockedUntil = Math.max(b.blockedUntil, this.clock.now() + ms);
    // The window is over when the wait is: what we knew of the old one must not extend it.
    b.remaining = undefined;
  }

  /**
   * Fraction of the budget left (0..1) for one family, or the tightest of all known budgets; 1 when
   * nothing is known yet. The poll policy spends less when this is low.
   */
  headroom(family?: RateFamily): number {
    const now = this.clock.now();
    const keys = family ? [this.bucketKey(family)] : [...this.buckets.keys()];
    const fractions: number[] = [];
    for (const key of keys) {
      const b = this.buckets.get(key);
      if (!b) continue;
      if (now < b.blockedUntil) {
        fractions.push(0);
        continue;
      }
      if (b.limit === undefined || b.remaining === undefined || b.windowSec === undefined || b.limit === 0) continue;
      if (now - b.observedAt >= b.windowSec * 1000) continue;
      fractions.push(Math.max(0, b.remaining - b.inFlight) / b.limit);
    }
    return fractions.length === 0 ? 1 : Math.min(...fractions);
  }
}

/** The process-wide limiter every client uses unless given its own (tests, benchmarks). */
export const defaultRateLimiter = new RateLimiter();
