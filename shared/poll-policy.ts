/**
 * When to look at a pending Qualys scan next. A pure function of what is known (submission time,
 * checks so far, image size, recent scan durations, rate-limit headroom) so the queue-driven Azure
 * poller, in-process pollers and the benchmark all make the same decisions, and tests can tabulate them.
 */

export interface PollPolicyConfig {
  /** Never look at one scan more often than this (default 10 s; azure.pollMinSec). */
  minIntervalMs: number;
  /** Give up this long after submission (default 30 min; azure.maxScanMinutes). */
  deadlineMs: number;
  /** Longest gap between two looks (default 2 min). */
  maxIntervalMs: number;
  /** After the expected completion, wait this fraction of the time elapsed so far (default 0.1). */
  backoffFraction: number;
  /** Relative jitter, +/- (default 0.1), so scans submitted together do not poll together. */
  jitter: number;
  /**
   * When the duration guess comes from recent scans rather than the image size, the first look is
   * at this fraction of it (default 0.5): half the scans finish before the median, and with batched
   * checks an early look costs far less than a late one.
   */
  firstLookFraction: number;
  /** Bounds of the expected scan duration (default 30 s .. 10 min, the published profile's range). */
  minExpectedMs: number;
  maxExpectedMs: number;
  /** Below this rate-limit headroom (0..1) intervals stretch, up to maxStretch x at zero (defaults 0.3, 4). */
  lowHeadroom: number;
  maxStretch: number;
}

export const DEFAULT_POLL_POLICY: PollPolicyConfig = {
  minIntervalMs: 10_000,
  deadlineMs: 30 * 60_000,
  maxIntervalMs: 2 * 60_000,
  backoffFraction: 0.1,
  jitter: 0.1,
  firstLookFraction: 0.5,
  minExpectedMs: 30_000,
  maxExpectedMs: 10 * 60_000,
  lowHeadroom: 0.3,
  maxStretch: 4,
};

export interface PollState {
  /** Epoch ms the scan was submitted. */
  submittedAt: number;
  /** Epoch ms now. */
  now: number;
  /** Status checks already made for this scan. */
  checks: number;
  /** Image size when known (first guess of the duration). */
  sizeBytes?: number;
  /** Median duration of recent scans (ms), the guess when the size is unknown. */
  recentMedianMs?: number;
  /** Rate-limit headroom 0..1 (RateLimiter.headroom()); 1 when unknown. */
  headroom?: number;
  /** Random source in [0, 1) for jitter; default Math.random. */
  random?: () => number;
}

export type PollDecision =
  | { action: 'wait'; delayMs: number; at: number; expectedMs: number; reason: string }
  | { action: 'give-up'; reason: string };

export class PollPolicyError extends Error {
  override readonly name = 'PollPolicyError';
}

const MB = 1_048_576;

/**
 * Expected scan duration from the image size: 20 s of fixed cost plus 0.15 s per MB, which puts the
 * first look near the lower end of the published profile (small 30-60 s, medium 1-3 min, large
 * 3-10 min): with batched checks an early look is nearly free, a late one costs detection lag.
 */
export function expectedScanMs(state: Pick<PollState, 'sizeBytes' | 'recentMedianMs'>, config: PollPolicyConfig = DEFAULT_POLL_POLICY): number {
  return estimate(state, config).ms;
}

function estimate(state: Pick<PollState, 'sizeBytes' | 'recentMedianMs'>, config: PollPolicyConfig): { ms: number; source: 'size' | 'recent' | 'default' } {
  const bound = (ms: number) => Math.min(config.maxExpectedMs, Math.max(config.minExpectedMs, ms));
  if (state.sizeBytes !== undefined && state.sizeBytes > 0) return { ms: bound(20_000 + (state.sizeBytes / MB) * 150), source: 'size' };
  if (state.recentMedianMs !== undefined && state.recentMedianMs > 0) return { ms: bound(state.recentMedianMs), source: 'recent' };
  return { ms: bound(60_000), source: 'default' };
}

function validate(config: PollPolicyConfig): void {
  const positive: (keyof PollPolicyConfig)[] = ['minIntervalMs', 'deadlineMs', 'maxIntervalMs', 'minExpectedMs', 'maxExpectedMs', 'maxStretch'];
  for (const key of positive) {
    if (!Number.isFinite(config[key]) || config[key] <= 0) throw new PollPolicyError(`poll policy ${key} must be a positive number, got ${config[key]}`);
  }
  if (config.maxIntervalMs < config.minIntervalMs) throw new PollPolicyError(`poll policy maxIntervalMs (${config.maxIntervalMs}) is below minIntervalMs (${config.minIntervalMs})`);
  if (!(config.firstLookFraction > 0 && config.firstLookFraction <= 1)) throw new PollPolicyError(`poll policy firstLookFraction must be in (0, 1], got ${config.firstLookFraction}`);
  if (config.jitter < 0 || config.jitter >= 1) throw new PollPolicyError(`poll policy jitter must be in [0, 1), got ${config.jitter}`);
  if (config.lowHeadroom < 0 || config.lowHeadroom > 1) throw new PollPolicyError(`poll policy lowHeadroom must be in [0, 1], got ${config.lowHeadroom}`);
}

/**
 * The next look: first at the expected completion (a fraction of it when guessed from recent
 * scans), then every `backoffFraction` of the elapsed time
 * (at least minIntervalMs, at most maxIntervalMs), jittered, stretched when the rate-limit headroom
 * is low, and never past the deadline, where it gives up.
 */
export function nextPoll(state: PollState, overrides: Partial<PollPolicyConfig> = {}): PollDecision {
  const config = { ...DEFAULT_POLL_POLICY, ...overrides };
  validate(config);
  if (!Number.isFinite(state.submittedAt) || !Number.isFinite(state.now)) throw new PollPolicyError('poll state needs finite submittedAt and now (epoch ms)');
  if (!Number.isInteger(state.checks) || state.checks < 0) throw new PollPolicyError(`poll state checks must be a non-negative integer, got ${state.checks}`);
  const elapsed = Math.max(0, state.now - state.submittedAt);
  const deadlineAt = state.submittedAt + config.deadlineMs;
  const guess = estimate(state, config);
  const expectedMs = guess.ms;
  const firstLookMs = guess.source === 'size' ? expectedMs : Math.max(config.minExpectedMs, expectedMs * config.firstLookFraction);
  if (state.now >= deadlineAt) return { action: 'give-up', reason: `no result ${Math.round(config.deadlineMs / 1000)} s after submission` };

  let delay: number;
  let reason: string;
  if (elapsed < firstLookMs) {
    delay = state.submittedAt + firstLookMs - state.now;
    reason = state.checks === 0 ? `first look at the expected completion (${guess.source})` : 'back to the first look';
  } else {
    delay = elapsed * config.backoffFraction;
    reason = 'backoff after the expected completion';
  }
  const headroom = Math.min(1, Math.max(0, state.headroom ?? 1));
  if (headroom < config.lowHeadroom) {
    const stretch = 1 + (config.maxStretch - 1) * (1 - headroom / config.lowHeadroom);
    delay *= stretch;
    reason += `, stretched x${stretch.toFixed(2)} for low rate-limit headroom`;
  }
  const random = state.random ?? Math.random;
  delay *= 1 + config.jitter * (2 * random() - 1);
  // The cap bounds the backoff; the first look waits for the expected completion (itself bounded).
  const cap = elapsed < firstLookMs ? Infinity : config.maxIntervalMs * (headroom < config.lowHeadroom ? config.maxStretch : 1);
  delay = Math.min(cap, Math.max(config.minIntervalMs, delay));
  if (state.now + delay > deadlineAt) {
    delay = deadlineAt - state.now;
    reason = 'last look at the deadline';
  }
  return { action: 'wait', delayMs: Math.round(delay), at: Math.round(state.now + delay), expectedMs, reason };
}

/** Running median of recent scan durations (bounded window), the policy's guess when sizes are unknown. */
export class DurationTracker {
  private readonly samples: number[] = [];

  constructor(private readonly window = 50) {}

  record(durationMs: number): void {
    if (!Number.isFinite(durationMs) || durationMs <= 0) return;
    this.samples.push(durationMs);
    if (this.samples.length > this.window) this.samples.shift();
  }

  mean(): number | undefined {
    if (this.samples.length === 0) return undefined;
    return this.samples.reduce((a, b) => a + b, 0) / this.samples.length;
  }

  median(): number | undefined {
    if (this.samples.length === 0) return undefined;
    const sorted = [...this.samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  }
}
