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
  const raw = headers[name] ?? headers[name.toLowerCase()];
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

interface FamilyState {
  limit?: number;
  remaining?: number;
  windowSec?: number;
  observedAt: number;
  blockedUntil: number;
  lastGrantAt: number;
  inFlight: number;
}

export interface RateLimiterOptions {
  /** Below this fraction of the budget left, calls are spread evenly over the rest of the window. */
  reserveFraction?: number;
  clock?: Clock;
}

/**
 * What the server said about the budget, shared by every call of a process (see defaultRateLimiter).
 * It never spends the last calls of a window in a burst: under `reserveFraction` of the budget, calls
 * are paced at window / remaining; at zero, or after a 429, it waits what the server said.
 */
export class RateLimiter {
  private readonly families = new Map<RateFamily, FamilyState>();
  private readonly reserveFraction: number;
  readonly clock: Clock;
  /** Time spent waiting in acquire, for metrics and the benchmark. */
  readonly stats = { waits: 0, waitedMs: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.reserveFraction = options.reserveFraction ?? 0.2;
    this.clock = options.clock ?? systemClock;
  }

  private state(family: RateFamily): FamilyState {
    let s = this.families.get(family);
    if (!s) {
      s = { observedAt: 0, blockedUntil: 0, lastGrantAt: 0, inFlight: 0 };
      this.families.set(family, s);
    }
    return s;
  }

  /** Milliseconds to wait before the next call of `family` (0 = go). */
  delayFor(family: RateFamily, now = this.clock.now()): number {
    const s = this.state(family);
    if (now < s.blockedUntil) return s.blockedUntil - now;
    if (s.limit === undefined || s.remaining === undefined || s.windowSec === undefined) return 0;
    const windowMs = s.windowSec * 1000;
    // A window that has surely rolled over since the last observation says nothing any more.
    if (now - s.observedAt >= windowMs) return 0;
    const left = s.remaining - s.inFlight;
    if (left <= 0) return Math.max(0, s.observedAt + windowMs - now);
    if (left >= s.limit * this.reserveFraction) return 0;
    const spacing = windowMs / (left + 1);
    return Math.max(0, s.lastGrantAt + spacing - now);
  }

  /** Waits (through the clock) until a call of `family` fits the budget, then counts it in flight. */
  async acquire(family: RateFamily): Promise<void> {
    for (;;) {
      const wait = this.delayFor(family);
      if (wait <= 0) break;
      this.stats.waits += 1;
      this.stats.waitedMs += wait;
      await this.clock.sleep(wait);
    }
    const s = this.state(family);
    s.inFlight += 1;
    s.lastGrantAt = this.clock.now();
  }

  /** Records a response's headers and ends the call's in-flight count. */
  complete(family: RateFamily, headers: RateLimitHeaders): void {
    const s = this.state(family);
    s.inFlight = Math.max(0, s.inFlight - 1);
    const now = this.clock.now();
    if (headers.limit !== undefined) s.limit = headers.limit;
    if (headers.windowSec !== undefined) s.windowSec = headers.windowSec;
    if (headers.remaining !== undefined) {
      s.remaining = headers.remaining;
      s.observedAt = now;
    }
    if (headers.toWaitSec !== undefined && headers.toWaitSec > 0) s.blockedUntil = Math.max(s.blockedUntil, now + headers.toWaitSec * 1000);
  }

  /** Ends a call that got no response (network error, timeout). */
  release(family: RateFamily): void {
    const s = this.state(family);
    s.inFlight = Math.max(0, s.inFlight - 1);
  }

  /** After a 429: nobody in this process calls the family again before `ms` have passed. */
  block(family: RateFamily, ms: number): void {
    const s = this.state(family);
    const now = this.clock.now();
    s.blockedUntil = Math.max(s.blockedUntil, now + ms);
    // The window is over when the wait is: what we knew of the old one must not extend it.
    s.remaining = undefined;
  }

  /**
   * Fraction of the budget left (0..1) for one family, or the tightest of all known families; 1 when
   * nothing is known yet. The poll policy spends less when this is low.
   */
  headroom(family?: RateFamily): number {
    const now = this.clock.now();
    const fractions: number[] = [];
    for (const [name, s] of this.families) {
      if (family && name !== family) continue;
      if (now < s.blockedUntil) {
        fractions.push(0);
        continue;
      }
      if (s.limit === undefined || s.remaining === undefined || s.windowSec === undefined || s.limit === 0) continue;
      if (now - s.observedAt >= s.windowSec * 1000) continue;
      fractions.push(Math.max(0, s.remaining - s.inFlight) / s.limit);
    }
    return fractions.length === 0 ? 1 : Math.min(...fractions);
  }
}

/** The process-wide limiter every client uses unless given its own (tests, benchmarks). */
export const defaultRateLimiter = new RateLimiter();
