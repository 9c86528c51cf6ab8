import { buildDigest, digestHasNews, type RunDigest } from '../../../shared/findings/digest';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import type { RecordedTransition } from '../../../shared/findings/recorder';

/**
 * Sends a run's one digest to every channel that takes digests (SNS, email), when the run changed
 * something. A channel that fails is reported, not retried: the run's transitions are written, and running
 * the whole run again would find nothing left to tell.
 */

export interface DigestOutcome {
  digest?: RunDigest;
  sent: string[];
  failed: { channel: string; message: string }[];
  /** Why nothing was sent (no change, no channel). */
  skipped?: string;
}

export async function sendRunDigest(
  channels: readonly NotificationChannel[],
  run: Pick<RunDigest, 'runId' | 'kind' | 'scope' | 'startedAt' | 'completedAt' | 'stats'> & { transitions: readonly RecordedTransition[] },
): Promise<DigestOutcome> {
  const { transitions, ...meta } = run;
  const digest = buildDigest(meta, transitions.map((t) => ({ kind: t.kind, finding: t.finding })));
  if (!digestHasNews(digest)) return { digest, sent: [], failed: [], skipped: 'nothing changed' };
  const takers = channels.filter((channel) => typeof channel.sendDigest === 'function');
  if (takers.length === 0) return { digest, sent: [], failed: [], skipped: 'no channel takes digests' };
  const results = await Promise.allSettled(takers.map((channel) => channel.sendDigest!(digest)));
  const sent: string[] = [];
  const failed: DigestOutcome['failed'] = [];
  results.forEach((result, index) => {
    const name = takers[index]!.name;
    if (result.status === 'fulfilled') sent.push(name);
    else failed.push({ channel: name, message: result.reason instanceof Error ? result.reason.message : String(result.reason) });
  });
  return { digest, sent, failed };
}
