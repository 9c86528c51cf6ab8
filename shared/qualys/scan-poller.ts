import { DurationTracker, nextPoll, type PollPolicyConfig } from '../poll-policy';
import { systemClock, type Clock } from './clock';
import type { CheckOutcome, ScanTicket, ScanWorkflow } from './contracts';
import { QualysError, QualysRateLimitError } from './errors';

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
   * Detection-lag goal as a fraction of the time since submission (default 0.08). A ripe scan not
   * checked for longer than that is "at risk" and joins the next round even if it needs another
   * call; the others only fill spare places.
   */
  lagTarget?: number;
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
  /** First look made (the scan may be done any moment now). */
  ripe: boolean;
  lastCheckedAt: number;
  resolve: (o: PollOutcome) => void;
}

/**
 * Polls many pending scans with as few calls as the API allows. Each scan keeps its own schedule
 * from the poll policy (first look at the expected completion, backoff, deadline). A round runs
 * when scans are due, and every round interval while some scan is past its first look ("ripe");
 * it checks the due scans with checkMany, adds the ripe scans whose detection lag would exceed
 * lagTarget of their age, and fills the spare places of the batch with the other ripe scans, most
 * at risk first. Those ride along at no extra cost, so a scan is seen done within about one round
 * interval while the calls stay about one per batch per round, however many scans are pending.
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

  constructor(private readonly options: ScanPollerOptions) {
    this.clock = options.clock ?? systemClock;
    this.roundIntervalMs = options.roundIntervalMs ?? 5000;
    this.batchSize = options.batchSize ?? 40;
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
      const entry: Entry = { ticket, submittedAt: Number.isNaN(submittedAt) ? now : submittedAt, checks: 0, nextAt: now, ripe: false, lastCheckedAt: now, resolve };
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

  private roundGap(): number {
    const headroom = this.options.headroom?.() ?? 1;
    const low = this.options.policy?.lowHeadroom ?? 0.3;
    const maxStretch = this.options.policy?.maxStretch ?? 4;
    return headroom < low ? this.roundIntervalMs * (1 + (maxStretch - 1) * (1 - headroom / low)) : this.roundIntervalMs;
  }

  /** Runs rounds until stop() or `until()` says so; sleeps through the clock in between. */
  async run(until: () => boolean = () => false): Promise<void> {
    while (!this.stopped && !until()) {
      const now = this.clock.now();
      if (this.entries.length === 0) {
        await this.clock.sleep(this.roundIntervalMs);
        continue;
      }
      // Ripe scans justify a round of their own every gap: one call answers up to batchSize of them.
      const anyRipe = this.entries.some((e) => e.ripe);
      const nextDue = Math.min(...this.entries.map((e) => e.nextAt));
      const gapEnd = this.lastRoundAt + this.roundGap();
      const at = anyRipe ? gapEnd : Math.max(nextDue, gapEnd);
      if (at > now) {
        await this.clock.sleep(Math.min(at - now, this.roundIntervalMs));
        continue;
      }
      await this.round();
    }
  }

  /** One batched check of every due scan, topped up with the ripe scans checked longest ago. */
  async round(): Promise<void> {
    const now = this.clock.now();
    this.lastRoundAt = now;
    const due = this.entries.filter((e) => e.nextAt <= now);
    const ripe = this.entries.filter((e) => e.nextAt > now && e.ripe);
    if (due.length === 0 && ripe.length === 0) return;
    // Risk = the lag ratio this scan would show if it finished right after its last check.
    const risk = (e: Entry) => (now - e.lastCheckedAt) / Math.max(1, now - e.submittedAt);
    const lagTarget = this.options.lagTarget ?? 0.08;
    ripe.sort((a, b) => risk(b) - risk(a));
    const atRisk = ripe.filter((e) => risk(e) >= lagTarget).length;
    const capacity = Math.max(1, Math.ceil((due.length + atRisk) / this.batchSize)) * this.batchSize;
    const extras = ripe.slice(0, capacity - due.length);
    const batch = [...due, ...extras];
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
      entry.ripe = true;
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
