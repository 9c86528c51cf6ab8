import { reachesThreshold, type Severity } from '../../shared/severity';
import type { ScanResult } from '../../shared/scan-result';

/**
 * Findings alerts to a Teams or Slack incoming webhook. Both accept a JSON body with `text`
 * (Slack renders mrkdwn, Teams Markdown), which keeps one payload for both.
 */

export interface AlertInput {
  result: ScanResult;
  image: string;
  containerType: string;
  resourceId: string;
  blobPath: string;
}

export function alertText(a: AlertInput): string {
  const c = a.result.counts;
  return [
    `*shipscan*: ${a.image} (${a.containerType}) has ${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low vulnerabilities.`,
    `Resource: ${a.resourceId}`,
    `Scan: ${a.result.scanId} (${a.result.status}); result: ${a.blobPath}`,
  ].join('\n');
}

export class AlertError extends Error {
  override readonly name = 'AlertError';
}

export interface AlertOptions {
  url: string;
  threshold: Severity;
  attempts?: number;
  baseDelayMs?: number;
  timeoutMs?: number;
}

/** Returns false when the counts stay under the threshold; throws AlertError after the last failed attempt. */
export async function sendAlert(input: AlertInput, options: AlertOptions): Promise<boolean> {
  if (!reachesThreshold(input.result.counts, options.threshold)) return false;
  const attempts = options.attempts ?? 4;
  const base = options.baseDelayMs ?? 500;
  const body = JSON.stringify({ text: alertText(input) });
  let last = '';
  let made = 0;
  for (let attempt = 1; attempt <= attempts; attempt += 1) {
    made = attempt;
    try {
      const response = await fetch(options.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer().catch(() => undefined);
      if (response.ok) return true;
      last = `HTTP ${response.status}`;
      // 4xx other than throttling will not get better by retrying.
      if (response.status < 500 && response.status !== 429 && response.status !== 408) break;
      const retryAfter = Number(response.headers.get('retry-after'));
      if (attempt < attempts) await sleep(Number.isFinite(retryAfter) && retryAfter > 0 ? Math.min(retryAfter * 1000, 30_000) : base * 2 ** (attempt - 1));
    } catch (error) {
      last = (error as Error).name === 'TimeoutError' ? 'timed out' : (error as Error).message;
      if (attempt < attempts) await sleep(base * 2 ** (attempt - 1));
    }
  }
  // The URL itself is a secret (it authorises posting): never put it in the message.
  throw new AlertError(`alert webhook failed after ${made} attempt(s): ${last}`);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
