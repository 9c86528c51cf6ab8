/**
 * Teams receives webhooks two ways. The legacy Office 365 connectors ("Incoming Webhook" on
 * outlook.office.com / *.webhook.office.com) take a JSON body with `text`, as Slack does. Teams Workflows
 * webhooks (Power Automate / Logic Apps triggers, which replace the retiring connectors) reject that: they
 * expect a message with an Adaptive Card attachment. The URL tells which one it is. Scan alerts and finding
 * notices both use this one rule.
 */

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

/** An Adaptive Card element (TextBlock, FactSet, Container...): plain JSON. */
export type AdaptiveElement = Record<string, unknown>;

/** The message the Teams Workflows "post to a channel when a webhook request is received" template posts. */
export function adaptiveCardMessage(body: readonly AdaptiveElement[], actions: readonly AdaptiveElement[] = []): Record<string, unknown> {
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
          body,
          ...(actions.length > 0 ? { actions } : {}),
        },
      },
    ],
  };
}

/**
 * Teams renders a markdown subset in connector text and card TextBlocks, with no escape for link syntax: a
 * zero-width space between `]` and `(` keeps a hostile value such as `[sign in](https://...)` from becoming a
 * link. Cards show `<` and `&` as they are (they read no HTML).
 */
export function cardSafe(value: string): string {
  return value.replace(/\]\(/g, ']\u200b(');
}

/** Connector text also reads a little HTML, so HTML-significant characters are entity-escaped there too. */
export function connectorSafe(value: string): string {
  return cardSafe(value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;'));
}
