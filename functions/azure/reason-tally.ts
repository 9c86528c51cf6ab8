/**
 * Counts the events of one message by reason in bounded memory: however many events share or differ
 * in their reasons, a tally holds at most `maxReasons` reasons of at most `maxReasonChars` characters
 * each, and counts the events of any further reason together. A message of 30,000 bad events is
 * summarised by the same few lines as a message of three.
 */

export interface ReasonCount {
  reason: string;
  count: number;
}

export interface TallyLimits {
  /** Distinct reasons kept with their own count. */
  maxReasons: number;
  /** A longer reason is cut (the cut form is what is counted). */
  maxReasonChars: number;
}

export const DEFAULT_TALLY_LIMITS: TallyLimits = { maxReasons: 10, maxReasonChars: 300 };

function cutReason(reason: string, max: number): string {
  return reason.length > max ? `${reason.slice(0, max)}...` : reason;
}

export class ReasonTally {
  private readonly counts = new Map<string, number>();
  /** Events whose reason came after the kept ones were full. */
  private others = 0;
  private total = 0;

  constructor(private readonly limits: TallyLimits = DEFAULT_TALLY_LIMITS) {}

  add(reason: string): void {
    this.total += 1;
    const key = cutReason(reason, this.limits.maxReasonChars);
    const seen = this.counts.get(key);
    if (seen !== undefined) this.counts.set(key, seen + 1);
    else if (this.counts.size < this.limits.maxReasons) this.counts.set(key, 1);
    else this.others += 1;
  }

  get count(): number {
    return this.total;
  }

  /** Events counted under no reason of their own (their reason came after `maxReasons` others). */
  get otherReasons(): number {
    return this.others;
  }

  /** The kept reasons, most frequent first (first seen first among equals). */
  reasons(): ReasonCount[] {
    return [...this.counts.entries()].map(([reason, count]) => ({ reason, count })).sort((a, b) => b.count - a.count);
  }

  /** One line for a telemetry dimension or a log field: `reason (n); reason (m) and k more events`. */
  summary(maxChars = 1000): string {
    const parts: string[] = [];
    let length = 0;
    let listed = 0;
    for (const { reason, count } of this.reasons()) {
      const part = `${reason} (${count})`;
      if (parts.length > 0 && length + part.length + 2 > maxChars) break;
      parts.push(part);
      length += part.length + 2;
      listed += count;
    }
    const unlisted = this.total - listed;
    return `${parts.join('; ')}${unlisted > 0 ? ` and ${unlisted} more events` : ''}`;
  }
}
