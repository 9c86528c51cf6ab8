import { reachesThreshold, type Severity } from '../../../shared/severity';
import type { ScanResult } from '../../../shared/scan-result';
import { adaptiveCardMessage, isTeamsWorkflowUrl } from '../../../shared/notify/teams';
import { deliverWebhook, WebhookError } from '../../notify/webhook';

/**
 * Scan alerts (a scanned image at or over the threshold) to a Teams or Slack incoming webhook. Slack and the
 * Office 365 connectors take `{text}`, Teams Workflows an Adaptive Card: the URL rule and the card envelope
 * are shared with the finding notices (shared/notify/teams.ts), the HTTP delivery with the webhook channel
 * (functions/notify/webhook.ts).
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

/** The scan alert as the Adaptive Card the Teams Workflows template posts. */
export function alertAdaptiveCard(a: AlertInput): Record<string, unknown> {
  const c = a.result.counts;
  return adaptiveCardMessage([
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
  ]);
}

/** The body for this webhook URL: an Adaptive Card message for Teams Workflows, `{text}` for the others. */
export function alertPayload(url: string, input: AlertInput): Record<string, unknown> {
  return isTeamsWorkflowUrl(url) ? alertAdaptiveCard(input) : { text: alertText(input) };
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
  try {
    await deliverWebhook(options.url, alertPayload(options.url, input), {
      label: 'alert webhook',
      attempts: options.attempts ?? 4,
      baseDelayMs: options.baseDelayMs ?? 500,
      maxDelayMs: 30_000,
      timeoutMs: options.timeoutMs ?? 10_000,
    });
    return true;
  } catch (error) {
    // The WebhookError already names only the redacted URL (the URL itself authorises posting).
    if (error instanceof WebhookError) throw new AlertError(error.message);
    throw error;
  }
}
