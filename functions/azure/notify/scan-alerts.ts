import { reachesThreshold, type Severity } from '../../shared/severity';
import type { ScanResult } from '../../shared/scan-result';

/**
 * Findings alerts to a Teams or Slack incoming webhook. Slack and the legacy Office 365 connectors
 * ("Incoming Webhook" on outlook.office.com / *.webhook.office.com) take a JSON body with `text`. Teams
 * Workflows webhooks (Power Automate / Logic Apps triggers, which replace the retiring connectors)
 * reject that: they expect a message with an Adaptive Card attachment. The URL tells which one it is.
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

/**
 * Teams Workflows trigger URLs: Logic Apps (`https://prod-NN.<region>.logic.azure.com/workflows/<id>/triggers/...`)
 * and Power Automate (`https://<env>.environment.api.powerplatform.com/powerautomate/automations/direct/workflows/<id>/...`).
 */
export function isTeamsWorkflowUrl(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = parsed.hostname.toLowerCase();
  return host.endsWith('.logic.azure.com') || host.endsWith('.environment.api.powerplatform.com') || /\/workflows\//i.test(parsed.pathname);
}

/** The Adaptive Card the Teams Workflows "post to a channel when a webhook request is received" template posts. */
export function adaptiveCardMessage(a: AlertInput): Record<string, unknown> {
  const c = a.result.counts;
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: `shipscan: ${a.image} (${a.containerType})`, weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text: `${c.critical} critical, ${c.high} high, ${c.medium} medium, ${c.low} low vulnerabilities.`, wrap: true },
            {
              type: 'FactSet',
              facts: [
                { title: 'Resource', value: a.resourceId },
                { title: 'Scan', value: `${a.result.scanId} (${a.result.status})` },
                { title: 'Result', value: a.blobPath },
              ],
            },
          ],
        },
      },
    ],
  };
}

/** The body for this webhook URL: an Adaptive Card message for Teams Workflows, `{text}` for the others. */
export function alertPayload(url: string, input: AlertInput): Record<string, unknown> {
  return isTeamsWorkflowUrl(url) ? adaptiveCardMessage(input) : { text: alertText(input) };
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
  const body = JSON.stringify(alertPayload(options.url, input));
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
