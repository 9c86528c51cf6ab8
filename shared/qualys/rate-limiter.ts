import { systemClock, waitThrough, type Clock } from './clock';

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

/** Qualys documents every Container Security limit per 60 s: the window assumed when a 429 names none. */
export const DOCUMENTED_WINDOW_SEC = 60;

interface Bucket {
  limit?: number;
  windowMs?: number;
  /** The newest answer that counted the budget: what was left, the grant it answered, when it came. */
  obs?: { remaining: number; seq: number; at: number };
  /**
   * When the window of `obs` ends at the latest: the server's ToWait when it sent one, else a full
   * window after the answer that opened it (it began before that answer came). Never early, so
   * calls are not sent into a budget that has not come back yet.
   */
  windowEnd?: number;
  blockedUntil: number;
  /** Header-less 429s in a row, for the exponential backoff (calls already in flight at one add none). */
  strikes: number;
  /** The last grant sent before the latest strike: rejections of it or earlier grants are the same strike. */
  strikeSeq: number;
  /** Calls granted and not answered yet (grant seq -> family). */
  inFlight: Map<number, RateFamily>;
  /** Grants not yet accounted for by an answer's remaining count (seq -> family, time). */
  unaccounted: Map<number, { family: RateFamily; at: number }>;
  lastGrantAt: number;
}

/** A granted call; hand it back to complete(), rejected() or release(). */
export interface RateGrant {
  family: RateFamily;
  /** Order of the grant, to tell a newer answer from a late one. */
  seq: number;
}

/**
 * `low` is for work that starts something new (submitting a scan); it waits while less than
 * lowPriorityReserve of a budget shared with other endpoint families is left, so scans already in
 * flight can still finish.
 */
export type RatePriority = 'normal' | 'low';

export interface RateLimiterOptions {
  /** Below this fraction of the budget left, calls are spread evenly over the rest of the window. */
  reserveFraction?: number;
  /** Low-priority calls wait while less than this fraction is left (default 0.5). */
  lowPriorityReserve?: number;
  /**
   * Calls of one budget in flight while nothing says how much of it is left (default 2): before the
   * first answer, when a window has rolled over and nobody has seen the new one, and throughout when
   * the server sends no rate-limit headers at all.
   */
  probeConcurrency?: number;
  /**
   * Longest backoff after header-less 429s in a row (default two windows: long enough that a probe
   * never meets the same spent window twice, short enough that a passing storm of 429s costs minutes).
   */
  maxBackoffMs?: number;
  /** Random source for the backoff jitter. */
  random?: () => number;
  clock?: Clock;
}

type Verdict = { kind: 'go' } | { kind: 'sleep'; ms: number } | { kind: 'answer' };

/**
 * What the server said about each budget, shared by every call of a process (see defaultRateLimiter).
 * Per budget it sends at most what the last answer said is left, minus the calls granted since; it
 * never spends the last `reserveFraction` of a window in a burst but spreads it over the rest of the
 * window; while nothing current is known (first contact, a window that has rolled over, a server that
 * sends no headers) it keeps `probeConcurrency` calls in flight and lets the next ones go when an
 * answer says how much is left, so a queue is released gradually rather than all at once. A 429 blocks
 * the budget for the wait the server names; one that names none backs off exponentially, with jitter,
 * from a full window.
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
  private readonly probeConcurrency: number;
  private readonly maxBackoffMs: number | undefined;
  private readonly random: () => number;
  private seq = 0;
  /** acquire() calls waiting for an answer to arrive (no time passes for them, only news). */
  private waiters: (() => void)[] = [];
  readonly clock: Clock;
  /** Time spent waiting in acquire, for metrics and the benchmark. */
  readonly stats = { waits: 0, waitedMs: 0, answerWaits: 0 };

  constructor(options: RateLimiterOptions = {}) {
    this.reserveFraction = options.reserveFraction ?? 0.2;
    this.lowPriorityReserve = options.lowPriorityReserve ?? 0.5;
    this.probeConcurrency = Math.max(1, Math.floor(options.probeConcurrency ?? 2));
    this.maxBackoffMs = options.maxBackoffMs;
    this.random = options.random ?? Math.random;
    this.clock = options.clock ?? systemClock;
  }

  private bucketKey(family: RateFamily): string {
    return this.familyBucket.get(family) ?? `family:${family}`;
  }

  private bucket(key: string): Bucket {
    let b = this.buckets.get(key);
    if (!b) {
      b = { blockedUntil: 0, strikes: 0, strikeSeq: 0, inFlight: new Map(), unaccounted: new Map(), lastGrantAt: 0 };
      this.buckets.set(key, b);
    }
    return b;
  }

  /** The budget `family` counts against, moving its calls there when an answer names a new one. */
  private rebucket(family: RateFamily, key: string): Bucket {
    const previous = this.bucketKey(family);
    const b = this.bucket(key);
    if (previous === key) return b;
    this.familyBucket.set(family, key);
    const old = this.bucket(previous);
    for (const [seq, f] of old.inFlight) if (f === family) (old.inFlight.delete(seq), b.inFlight.set(seq, f));
    for (const [seq, g] of old.unaccounted) if (g.family === family) (old.unaccounted.delete(seq), b.unaccounted.set(seq, g));
    b.blockedUntil = Math.max(b.blockedUntil, old.blockedUntil);
    b.strikes = Math.max(b.strikes, old.strikes);
    b.strikeSeq = Math.max(b.strikeSeq, old.strikeSeq);
    return b;
  }

  /** How many endpoint families are known to draw on the budget `family` draws on. */
  private sharedBy(family: RateFamily): number {
    const key = this.bucketKey(family);
    let n = 0;
    for (const k of this.familyBucket.values()) if (k === key) n += 1;
    return n;
  }

  /** Calls this budget still allows in the current window, or undefined when that is not known now. */
  private left(b: Bucket, now: number): number | undefined {
    if (!b.obs || b.windowEnd === undefined || now >= b.windowEnd) return undefined;
    let since = 0;
    for (const seq of b.unaccounted.keys()) if (seq > b.obs.seq) since += 1;
    return b.obs.remaining - since;
  }

  private verdict(family: RateFamily, priority: RatePriority, now: number): Verdict {
    const b = this.bucket(this.bucketKey(family));
    if (now < b.blockedUntil) return { kind: 'sleep', ms: b.blockedUntil - now };
    const left = this.left(b, now);
    if (left === undefined || b.windowEnd === undefined) {
      // Nothing current to go by: a few calls find out, the rest wait for what they learn.
      return b.inFlight.size >= this.probeConcurrency ? { kind: 'answer' } : { kind: 'go' };
    }
    const untilReset = Math.max(1, b.windowEnd - now);
    if (left <= 0) return { kind: 'sleep', ms: untilReset };
    if (b.limit === undefined) return { kind: 'go' };
    // The reserve keeps a shared budget for the checks of scans already running; a budget only new
    // work draws on (registry lookups and schedules under per-family limits) has nobody to keep it for.
    if (priority === 'low' && left < b.limit * this.lowPriorityReserve && this.sharedBy(family) > 1) return { kind: 'sleep', ms: untilReset };
    if (left >= b.limit * this.reserveFraction) return { kind: 'go' };
    // Spread what is left over what is left of the window.
    const wait = b.lastGrantAt + (b.windowEnd - now) / (left + 1) - now;
    return wait > 0 ? { kind: 'sleep', ms: wait } : { kind: 'go' };
  }

  /**
   * Milliseconds to wait before the next call of `family` (0 = go now, or as soon as an answer to a
   * call in flight says how much budget is left).
   */
  delayFor(family: RateFamily, priority: RatePriority = 'normal', now = this.clock.now()): number {
    const v = this.verdict(family, priority, now);
    return v.kind === 'sleep' ? v.ms : 0;
  }

  /**
   * Waits (through the clock, or for an answer) until a call of `family` fits the budget, then counts
   * it in flight. When the next timed wait would take the total past maxWaitMs it throws
   * RateWaitTooLong instead, so a queue handler can hand the work back rather than sleep through its
   * invocation.
   */
  async acquire(family: RateFamily, priority: RatePriority = 'normal', maxWaitMs = Infinity): Promise<RateGrant> {
    let waited = 0;
    for (;;) {
      const v = this.verdict(family, priority, this.clock.now());
      if (v.kind === 'go') break;
      if (v.kind === 'answer') {
        this.stats.answerWaits += 1;
        await waitThrough(this.clock, new Promise<void>((resolve) => this.waiters.push(resolve)));
        continue;
      }
      if (waited + v.ms > maxWaitMs) throw new RateWaitTooLong(family, v.ms);
      waited += v.ms;
      this.stats.waits += 1;
      this.stats.waitedMs += v.ms;
      await this.clock.sleep(v.ms);
    }
    const b = this.bucket(this.bucketKey(family));
    const seq = ++this.seq;
    const now = this.clock.now();
    b.inFlight.set(seq, family);
    b.unaccounted.set(seq, { family, at: now });
    b.lastGrantAt = now;
    return { family, seq };
  }

  private settle(grant: RateGrant): Bucket {
    const b = this.bucket(this.bucketKey(grant.family));
    b.inFlight.delete(grant.seq);
    return b;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }

  /** Takes in what an answer's headers say about the budget of its family. */
  private observe(grant: RateGrant, headers: RateLimitHeaders): Bucket {
    const known = headers.limit !== undefined && headers.windowSec !== undefined && headers.windowSec > 0;
    const b = known ? this.rebucket(grant.family, `${headers.limit}/${headers.windowSec}`) : this.bucket(this.bucketKey(grant.family));
    if (known) {
      b.limit = headers.limit;
      b.windowMs = headers.windowSec! * 1000;
    }
    const now = this.clock.now();
    const toWaitMs = headers.toWaitSec !== undefined && headers.toWaitSec > 0 ? headers.toWaitSec * 1000 : undefined;
    if (headers.remaining !== undefined && (!b.obs || grant.seq > b.obs.seq)) {
      const newWindow = !b.obs || b.windowEnd === undefined || now >= b.windowEnd || headers.remaining > b.obs.remaining;
      const windowMs = b.windowMs ?? DOCUMENTED_WINDOW_SEC * 1000;
      if (toWaitMs !== undefined) b.windowEnd = now + toWaitMs;
      else if (newWindow) b.windowEnd = now + windowMs;
      b.obs = { remaining: headers.remaining, seq: grant.seq, at: now };
      // Grants up to this one are in the count now; later ones are not.
      for (const seq of [...b.unaccounted.keys()]) if (seq <= grant.seq) b.unaccounted.delete(seq);
    } else if (toWaitMs !== undefined) {
      b.windowEnd = Math.max(b.windowEnd ?? 0, now + toWaitMs);
    }
    // Answered grants that told nothing (no remaining) must age out, or they would hold the budget for ever.
    const horizon = now - (b.windowMs ?? DOCUMENTED_WINDOW_SEC * 1000);
    for (const [seq, g] of [...b.unaccounted]) if (g.at <= horizon && !b.inFlight.has(seq)) b.unaccounted.delete(seq);
    return b;
  }

  /** Records an answer (not a rate-limit rejection) and ends the call's in-flight count. */
  complete(grant: RateGrant, headers: RateLimitHeaders, ok = true): void {
    this.settle(grant);
    const b = this.observe(grant, headers);
    if (ok) b.strikes = 0;
    this.wake();
  }

  /**
   * Records a 429 (or a 409 that says the budget is spent) and blocks the budget: for the wait the
   * server named, else until the window it described ends, else, when the answer says nothing about the
   * budget, for an exponential backoff with jitter starting at a full window. Returns the wait in ms.
   */
  rejected(grant: RateGrant, headers: RateLimitHeaders): number {
    this.settle(grant);
    const b = this.observe(grant, headers);
    const now = this.clock.now();
    const said = headers.limit !== undefined || headers.remaining !== undefined || headers.windowSec !== undefined || headers.toWaitSec !== undefined;
    let waitMs: number;
    if (headers.toWaitSec !== undefined && headers.toWaitSec > 0) waitMs = headers.toWaitSec * 1000;
    else if (said && b.windowEnd !== undefined && b.windowEnd > now) waitMs = b.windowEnd - now;
    else {
      // Calls that were already on their way when the last strike came were rejected by the same spent budget.
      if (grant.seq > b.strikeSeq || b.strikes === 0) {
        b.strikes += 1;
        b.strikeSeq = this.seq;
      }
      const base = b.windowMs ?? DOCUMENTED_WINDOW_SEC * 1000;
      waitMs = Math.min(this.maxBackoffMs ?? 2 * base, base * 2 ** (b.strikes - 1)) * (1 + 0.25 * this.random());
    }
    waitMs = Math.max(1, Math.round(waitMs));
    b.blockedUntil = Math.max(b.blockedUntil, now + waitMs);
    // After the wait the old count says nothing: the next calls probe the new window.
    b.windowEnd = Math.min(b.windowEnd ?? Infinity, b.blockedUntil);
    this.wake();
    return waitMs;
  }

  /** Ends a call that got no response (network error, timeout); it is presumed not counted. */
  release(grant: RateGrant): void {
    const b = this.settle(grant);
    b.unaccounted.delete(grant.seq);
    this.wake();
  }

  /** Nobody in this process calls the family's budget again before `ms` have passed. */
  block(family: RateFamily, ms: number): void {
    const b = this.bucket(this.bucketKey(family));
    b.blockedUntil = Math.max(b.blockedUntil, this.clock.now() + ms);
    // The window is over when the wait is: what we knew of the old one must not extend it.
    b.windowEnd = Math.min(b.windowEnd ?? Infinity, b.blockedUntil);
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
      const left = this.left(b, now);
      if (left === undefined || b.limit === undefined || b.limit === 0) continue;
      fractions.push(Math.max(0, left) / b.limit);
    }
    return fractions.length === 0 ? 1 : Math.min(...fractions);
  }
}

/** The process-wide limiter every client uses unless given its own (tests, benchmarks). */
export const defaultRateLimiter = new RateLimiter();
