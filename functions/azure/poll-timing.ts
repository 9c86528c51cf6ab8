import type { ScanTicket } from '../../shared/qualys/contracts';

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
