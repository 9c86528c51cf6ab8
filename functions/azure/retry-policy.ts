/**
 * How long the Azure handlers keep at something that may pass, and when they record it as failed
 * instead. Durations are seconds of the handlers' clock (`now`); `queueDelaySec` turns them into queue
 * seconds (they differ only in simulated time).
 *
 * Two kinds of waiting are handled in the handlers, not by the queue's own redelivery (host.json
 * `visibilityTimeout` x `maxDequeueCount`, which stays the fallback for anything unexpected):
 * - a poll message is our own format, so a transient Qualys failure re-enqueues it with an attempt
 *   counter and a doubling delay: a fresh message, so an outage does not burn the queue's deliveries;
 * - a deployment that must wait (Qualys rate limit, or another workload's scan of the same content in
 *   flight) is re-sent with a delay; the dedupe row counts the re-sends so the wait is bounded.
 */
export interface RetryPolicy {
  /** Transient Qualys failures in a row of one poll chain; the last one records the scan FAILED. */
  pollMaxAttempts: number;
  /** Delay before the first retry of a failed check or fetch; doubles per attempt up to `pollRetryMaxSec`. */
  pollRetryBaseSec: number;
  pollRetryMaxSec: number;
  /** Re-sends of one deployment (rate-limit deferrals and waits together) before its pending images are recorded FAILED... */
  deploymentMaxDefers: number;
  /** ...or once this long has passed since the first re-send. */
  deploymentMaxDeferSec: number;
  /** Wait before looking again at a scan of the same content another workload has in flight; doubles up to `waitMaxSec`. */
  waitBaseSec: number;
  waitMaxSec: number;
}

export function defaultRetryPolicy(maxScanMinutes: number): RetryPolicy {
  return {
    // 30, 60, 120, 240, 480, 900, 900 s between the 8 attempts: about 45 minutes of outage before FAILED.
    pollMaxAttempts: 8,
    pollRetryBaseSec: 30,
    pollRetryMaxSec: 900,
    deploymentMaxDefers: 30,
    // Outwaits the longest another workload can hold the content lock (maxScanMinutes + 10), plus an hour of rate limiting.
    deploymentMaxDeferSec: (maxScanMinutes + 10 + 60) * 60,
    waitBaseSec: 30,
    waitMaxSec: 300,
  };
}

/** Seconds before retry number `attempt` (1 = the first retry) of a failed poll. */
export function pollRetryDelaySec(policy: Pick<RetryPolicy, 'pollRetryBaseSec' | 'pollRetryMaxSec'>, attempt: number): number {
  return Math.min(policy.pollRetryMaxSec, policy.pollRetryBaseSec * 2 ** Math.min(Math.max(0, attempt - 1), 20));
}

/** Seconds before a deployment that waited `waits` times already looks at the in-flight scan again. */
export function waitDelaySec(policy: Pick<RetryPolicy, 'waitBaseSec' | 'waitMaxSec'>, waits: number): number {
  return Math.min(policy.waitMaxSec, policy.waitBaseSec * 2 ** Math.min(Math.max(0, waits), 20));
}
