import { DEFAULT_POLL_POLICY, DurationTracker, expectedScanMs, nextPoll, PollPolicyError, type PollPolicyConfig } from '../poll-policy';
import { systemClock, type Clock } from './clock';
import type { CheckOutcome, ScanTicket, ScanWorkflow } from './contracts';
import { QualysError, QualysRateLimitError } from './errors';

/** The longest round gap, as a share of the age of the youngest scan that could be done. */
const LAG_SHARE = 0.5;

export interface PollOutcome {
  state: 'COMPLETED' | 'FAILED' | 'TIMED_OUT';
  detail: string;
  ticket: ScanTicket;
  /** Epoch ms of the check that saw the final state (or of giving up). */
  detectedAt: number;
  /** Rounds this scan took part in. */
  checks: number;
  /**
   * Set when polling itself broke (a non-retryable error such as a rejected token, or a bug): the state
   * is FAILED because this poller gave up, not because Qualys reported the scan failed.
   */
  error?: unknown;
}

export interface ScanPollerOptions {
  workflow: Pick<ScanWorkflow, 'checkMany'>;
  clock?: Clock;
  policy?: Partial<PollPolicyConfig>;
  /** Shortest gap between two batched rounds (default 5 s); stretched like the policy when headroom is low. */
  roundIntervalMs?: number;
  /** Tickets one checkMany call answers (default 40, the workflow's batch size). */
  batchSize?: number;
  /**
   * Status calls a scan may cost on average (default 1). With few scans pending a round serves few of
   * them, so rounds are spaced out to about (expected scan time) / (this x scans that could be done
   * by now), so that 20 scans cost per scan about what 500 do; the wait never exceeds half the age of
   * the youngest of them or the policy's longest interval, which bounds the detection lag it costs.
   */
  checksPerScan?: number;
  /** Rate-limit headroom 0..1 (e.g. () => client.rateLimiter.headroom()). */
  headroom?: () => number;
  random?: () => number;
  /** Called once per round, for metrics (and the benchmark's cost attribution). */
  onRound?: (round: { at: number; tickets: readonly ScanTicket[]; due: number }) => void;
}

interface Entry {
  ticket: ScanTicket;
  submittedAt: number;
  checks: number;
  nextAt: number;
  lastCheckedAt: number;
  resolve: (o: PollOutcome) => void;
}

/**
 * Polls many pending scans with as few calls as the API allows. Each scan keeps its own schedule
 * from the poll policy (first look at the expected completion, backoff, deadline). A round runs only
 * when some scan is due, and never sooner after the last one than the round gap: the round interval,
 * or, while few scans are pending, longer (see checksPerScan), so that a round's call is shared by
 * enough scans to keep few scans as cheap as many. A round checks the due scans with checkMany and
 * fills the spare places of its calls with the scans closest to being due; those ride along at no
 * extra cost. A scan younger than the shortest scan duration can not be done yet and is never checked.
 * Retryable errors postpone the round; any other error ends polling: run() (or round()) rejects with
 * it, and every tracked scan, and any tracked afterwards, resolves FAILED with the error in `error`.
 */
export class ScanPoller {
  private readonly entries: Entry[] = [];
  private readonly clock: Clock;
  private readonly roundIntervalMs: number;
  private readonly batchSize: number;
  private readonly durations = new DurationTracker();
  private lastRoundAt = -Infinity;
  private stopped = false;
  /** The error that ended polling; later track() calls settle at once with it. */
  private fatal?: { error: unknown };
  readonly stats = { rounds: 0, ticketsChecked: 0, errors: 0 };

  private readonly checksPerScan: number;
  private readonly config: PollPolicyConfig;

  constructor(private readonly options: ScanPollerOptions) {
    this.clock = options.clock ?? systemClock;
    this.roundIntervalMs = options.roundIntervalMs ?? 5000;
    this.batchSize = options.batchSize ?? 40;
    this.checksPerScan = options.checksPerScan ?? 1;
    if (!(this.checksPerScan > 0)) throw new PollPolicyError(`checksPerScan must be a positive number, got ${this.checksPerScan}`);
    this.config = { ...DEFAULT_POLL_POLICY, ...options.policy };
  }

  /** No scan finishes sooner than the shortest expected duration: a check before that is wasted. */
  private canBeDone(entry: Entry, now: number): boolean {
    return now - entry.submittedAt >= this.config.minExpectedMs;
  }

  get pending(): number {
    return this.entries.length;
  }

  private decide(entry: Entry, now: number) {
    return nextPoll(
      {
        submittedAt: entry.submittedAt,
        now,
        checks: entry.checks,
        ...(entry.ticket.sizeBytes !== undefined ? { sizeBytes: entry.ticket.sizeBytes } : {}),
        ...(this.durations.median() !== undefined ? { recentMedianMs: this.durations.median()! } : {}),
        headroom: this.options.headroom?.() ?? 1,
        ...(this.options.random ? { random: this.options.random } : {}),
      },
      this.options.policy,
    );
  }

  /** Starts polling a submitted ticket; resolves with its final state. */
  track(ticket: ScanTicket): Promise<PollOutcome> {
    return new Promise((resolve) => {
      const now = this.clock.now();
      if (this.fatal) {
        resolve(this.brokenOutcome(ticket, this.fatal.error, now, 0));
        return;
      }
      const submittedAt = Date.parse(ticket.submittedAt);
      const entry: Entry = { ticket, submittedAt: Number.isNaN(submittedAt) ? now : submittedAt, checks: 0, nextAt: now, lastCheckedAt: now, resolve };
      const decision = this.decide(entry, now);
      if (decision.action === 'give-up') {
        resolve({ state: 'TIMED_OUT', detail: decision.reason, ticket, detectedAt: now, checks: 0 });
        return;
      }
      entry.nextAt = decision.at;
      this.entries.push(entry);
    });
  }

  stop(): void {
    this.stopped = true;
  }

  /**
   * Shortest time between two rounds: the round interval (stretched when the rate-limit headroom is
   * low), or longer while few scans are pending, so that the calls of the rounds a scan lives through
   * are shared out to about checksPerScan per scan; never longer than half the age of the youngest
   * scan that could be done, nor the policy's longest interval.
   */
  private roundGap(now: number): number {
    const headroom = this.options.headroom?.() ?? 1;
    const { lowHeadroom, maxStretch, maxIntervalMs } = this.config;
    const base = headroom < lowHeadroom ? this.roundIntervalMs * (1 + (maxStretch - 1) * (1 - headroom / lowHeadroom)) : this.roundIntervalMs;
    // Each scan that could be done is allotted checksPerScan looks over its expected life (at least
    // the time it has run so far); a round looks at all of them, so rounds come at the sum of those rates.
    const active = this.entries.filter((e) => this.canBeDone(e, now));
    if (active.length === 0) return base;
    const mean = this.durations.mean();
    let rate = 0;
    for (const e of active) {
      const expected = expectedScanMs({ ...(e.ticket.sizeBytes !== undefined ? { sizeBytes: e.ticket.sizeBytes } : {}), ...(mean !== undefined ? { recentMedianMs: mean } : {}) }, this.config);
      rate += this.checksPerScan / Math.max(expected, now - e.submittedAt);
    }
    // Past one call's worth of scans a round serves no more of them: the rate stops growing there.
    rate *= Math.min(1, this.batchSize / active.length);
    // Saving calls must not cost more lag than a share of the youngest scan's age.
    const youngest = Math.min(...active.map((e) => now - e.submittedAt));
    return Math.max(base, Math.min(maxIntervalMs, LAG_SHARE * youngest, 1 / rate));
  }

  /** Runs rounds until stop() or `until()` says so; sleeps through the clock in between. */
  async run(until: () => boolean = () => false): Promise<void> {
    while (!this.stopped && !until()) {
      const now = this.clock.now();
      if (this.entries.length === 0) {
        await this.clock.sleep(this.roundIntervalMs);
        continue;
      }
      const nextDue = Math.min(...this.entries.map((e) => e.nextAt));
      const at = Math.max(nextDue, this.lastRoundAt + this.roundGap(now));
      if (at > now) {
        // Wake at least every round interval: scans tracked meanwhile may be due sooner.
        await this.clock.sleep(Math.min(at - now, this.roundIntervalMs));
        continue;
      }
      await this.round();
    }
  }

  /** One batched check of every due scan, its spare places filled with the scans closest to being due. */
  async round(): Promise<void> {
    const now = this.clock.now();
    this.lastRoundAt = now;
    const due = this.entries.filter((e) => e.nextAt <= now);
    // How far into its current wait a scan is: the nearer to due, the more a free look is worth.
    const progress = (e: Entry) => (now - e.lastCheckedAt) / Math.max(1, e.nextAt - e.lastCheckedAt);
    const riders = this.entries.filter((e) => e.nextAt > now && this.canBeDone(e, now)).sort((a, b) => progress(b) - progress(a));
    if (due.length === 0 && riders.length === 0) return;
    const capacity = Math.max(1, Math.ceil(due.length / this.batchSize)) * this.batchSize;
    const batch = [...due, ...riders.slice(0, capacity - due.length)];
    this.stats.rounds += 1;
    this.stats.ticketsChecked += batch.length;
    this.options.onRound?.({ at: now, tickets: batch.map((e) => e.ticket), due: due.length });
    let outcomes: CheckOutcome[];
    try {
      outcomes = await this.options.workflow.checkMany(batch.map((e) => e.ticket));
    } catch (err) {
      if (!(err instanceof QualysError) || !err.retryable) {
        // run() ends with this error; every waiting track() must hear of it rather than hang.
        this.fatal = { error: err };
        this.stopped = true;
        const at = this.clock.now();
        for (const entry of [...this.entries]) this.finish(entry, this.brokenOutcome(entry.ticket, err, at, entry.checks));
        throw err;
      }
      this.stats.errors += 1;
      const retryMs = err instanceof QualysRateLimitError ? err.retryAfterSec * 1000 : this.roundIntervalMs;
      for (const e of due) e.nextAt = Math.max(e.nextAt, this.clock.now() + retryMs);
      return;
    }
    const detectedAt = this.clock.now();
    batch.forEach((entry, i) => {
      const outcome = outcomes[i]!;
      entry.ticket = outcome.ticket;
      entry.checks += 1;
      entry.lastCheckedAt = detectedAt;
      if (outcome.state === 'COMPLETED' || outcome.state === 'FAILED') {
        if (outcome.state === 'COMPLETED') this.durations.record(detectedAt - entry.submittedAt);
        this.finish(entry, { state: outcome.state, detail: outcome.detail, ticket: outcome.ticket, detectedAt, checks: entry.checks });
        return;
      }
      const decision = this.decide(entry, detectedAt);
      if (decision.action === 'give-up') {
        this.finish(entry, { state: 'TIMED_OUT', detail: decision.reason, ticket: outcome.ticket, detectedAt, checks: entry.checks });
        return;
      }
      entry.nextAt = decision.at;
    });
  }

  private brokenOutcome(ticket: ScanTicket, error: unknown, at: number, checks: number): PollOutcome {
    const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    return { state: 'FAILED', detail: `polling stopped: ${reason}`, ticket, detectedAt: at, checks, error };
  }

  private finish(entry: Entry, outcome: PollOutcome): void {
    const index = this.entries.indexOf(entry);
    if (index >= 0) this.entries.splice(index, 1);
    entry.resolve(outcome);
  }
}
