import { SEVERITIES, type Severity } from '../severity';
import type { RunDigest } from './digest';
import type { Finding } from './finding';
import type { TransitionKind } from './lifecycle';

/**
 * One notifier for every category: each channel (SNS, email through SES or SMTP, Slack, Teams) takes the
 * same notice. Channels live in functions/<cloud>/notify; this is the contract they keep.
 */
export interface FindingNotice {
  transition: TransitionKind;
  finding: Finding;
  previous?: Finding;
}

export interface NotificationChannel {
  /** Stable name (`sns`, `email`, `slack`, `teams`...), recorded once the channel took a notice. */
  readonly name: string;
  /** Throws when the notice did not go out, so the delivery is retried for this channel only. */
  send(notice: FindingNotice): Promise<void>;
  /** A scheduled run's one digest (its transitions were recorded without notices); channels without it skip digests. */
  sendDigest?(digest: RunDigest): Promise<void>;
}

export interface NotifyPolicy {
  /** Transitions at or above this severity are told as they happen. */
  severityThreshold: Severity;
  /** Also tell when a finding is resolved. */
  notifyOnResolve: boolean;
  /**
   * `immediate`: the notice goes out with the transition. `deferred`: no notice is written; the caller (a
   * scheduled run) collects the transitions into a digest.
   */
  mode: 'immediate' | 'deferred';
}

export function atOrAbove(severity: Severity, threshold: Severity): boolean {
  return SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

/** Whether a transition gets an immediate notice under the policy. */
export function shouldNotify(transition: TransitionKind, finding: Finding, policy: NotifyPolicy): boolean {
  if (policy.mode !== 'immediate') return false;
  if (!atOrAbove(finding.severity, policy.severityThreshold)) return false;
  if (transition === 'open' || transition === 'reopen' || transition === 'unsuppress') return true;
  return transition === 'resolve' && policy.notifyOnResolve;
}
