import type { ScanTicket } from '../../shared/qualys/contracts';
import { nextPoll } from '../../shared/poll-policy';

/** What the poll policy is asked before each re-enqueue. */
export interface PollDelayInput {
  ticket: ScanTicket;
  /** Status checks done so far (0 before the first one). */
  checks: number;
  startedAt: Date;
  deadline: Date;
  now: Date;
}

/** Seconds until the next status check of a scan. */
export type PollDelay = (input: PollDelayInput) => number;

/**
 * Doubling backoff from `minSec` to `maxSec`, never past the deadline (so the TIMEOUT is recorded
 * on time). A reused Qualys scan is checked at once: its results usually exist already.
 */
export function backoffPollDelay(minSec: number, maxSec = 300): PollDelay {
  return ({ ticket, checks, deadline, now }) => {
    if (checks === 0 && ticket.reused) return 0;
    const wanted = Math.min(maxSec, minSec * 2 ** Math.min(checks, 16));
    const left = Math.max(0, (deadline.getTime() - now.getTime()) / 1000);
    return Math.max(0, Math.min(wanted, Math.ceil(left)));
  };
}

/**
 * The shared poll policy (shared/poll-policy.ts) as a PollDelay: first look at the expected completion
 * (from the image size or recent scan durations), then a backoff proportional to the time elapsed,
 * stretched when the Qualys rate-limit headroom runs low, never past the deadline.
 */
export function policyPollDelay(options: {
  pollMinSec: number;
  headroom?: () => number;
  recentMedianMs?: () => number | undefined;
  random?: () => number;
}): PollDelay {
  return ({ ticket, checks, startedAt, deadline, now }) => {
    if (checks === 0 && ticket.reused) return 0;
    const decision = nextPoll(
      {
        submittedAt: startedAt.getTime(),
        now: now.getTime(),
        checks,
        sizeBytes: ticket.sizeBytes,
        recentMedianMs: options.recentMedianMs?.(),
        headroom: options.headroom?.(),
        random: options.random,
      },
      { minIntervalMs: options.pollMinSec * 1000, deadlineMs: Math.max(1, deadline.getTime() - startedAt.getTime()) },
    );
    // Giving up is the poll handler's call: it sees the deadline passed and records TIMEOUT.
    return decision.action === 'give-up' ? 0 : decision.delayMs / 1000;
  };
}
