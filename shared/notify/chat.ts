import type { FindingNotice } from '../findings/notifier';
import type { Severity } from '../severity';
import { describeNotice, noticeSubject, type NoticeView, type ViewOptions } from './notice-view';
import { adaptiveCardMessage, cardSafe, connectorSafe, isTeamsWorkflowUrl, type AdaptiveElement } from './teams';
import { truncate } from './text';

/**
 * Finding notices for chat webhooks: Slack (`{ text, blocks }`), Teams connectors (`{ text }`) and Teams
 * Workflows (an Adaptive Card message). Each keeps within its receiver's limits (Slack: 3000 characters per
 * section, 150 per header) so a long evidence never gets the whole message rejected.
 */

export type ChatKind = 'slack' | 'teams';

const SLACK_EMOJI: Record<Severity, string> = {
  CRITICAL: ':red_circle:',
  HIGH: ':large_orange_circle:',
  MEDIUM: ':large_yellow_circle:',
  LOW: ':large_blue_circle:',
  INFORMATIONAL: ':white_circle:',
};

/** Slack's mrkdwn needs only these three escaped; with them escaped no `<!channel>` or `<url|text>` survives. */
export function slackEscape(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escaped for Slack and at most `max` characters once escaped (an entity is never cut in half). */
export function slackEscapeWithin(value: string, max: number): string {
  const escaped = slackEscape(value);
  if (escaped.length <= max) return escaped;
  let out = '';
  for (const char of value) {
    const next = slackEscape(char);
    if (out.length + next.length > max - 3) break;
    out += next;
  }
  return `${out}...`;
}

function headline(view: NoticeView): string {
  return `${view.severity} ${view.verb}: ${view.title}`;
}

export interface SlackMessage {
  text: string;
  blocks: Record<string, unknown>[];
}

export function renderSlackMessage(notice: FindingNotice, options: ViewOptions = {}): SlackMessage {
  const view = describeNotice(notice, options);
  const emoji = view.transition === 'resolve' ? ':large_green_circle:' : SLACK_EMOJI[view.severity];
  const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: truncate(text, 3000) });
  const blocks: Record<string, unknown>[] = [
    { type: 'header', text: { type: 'plain_text', text: truncate(headline(view), 150), emoji: false } },
    { type: 'section', text: mrkdwn(`${emoji} *${slackEscape(view.status)}*`) },
    { type: 'section', text: mrkdwn(view.facts.map((f) => `*${slackEscape(f.label)}:* ${slackEscape(f.value)}`).join('\n')) },
  ];
  if (view.evidence !== undefined) {
    // A code block shows the JSON as it is; a ``` inside it would end the block early.
    const code = slackEscapeWithin(view.evidence.replace(/```/g, "'''"), 2900);
    blocks.push({ type: 'section', text: mrkdwn(`*Evidence*\n\`\`\`${code}\`\`\``) });
  }
  const link = view.remediation.url ? `\n<${slackEscape(view.remediation.url).replace(/\|/g, '%7C')}|Remediation guide>` : '';
  blocks.push({ type: 'section', text: mrkdwn(`*Remediation*\n${slackEscapeWithin(view.remediation.text, 2500)}${link}`) });
  blocks.push({ type: 'context', elements: [mrkdwn(`Finding \`${view.findingId}\` · rule \`${slackEscape(view.ruleId)}\` · ${view.category} · ${view.brand}`)] });
  // `text` is the notification and the fallback for clients without blocks.
  return { text: slackEscape(truncate(`${emoji} ${noticeSubject(view, 300)}`, 3000)), blocks };
}

/** Office 365 connector: one markdown `text`; a blank line between lines, as connectors need for a break. */
export function renderTeamsConnectorMessage(notice: FindingNotice, options: ViewOptions = {}): { text: string } {
  const view = describeNotice(notice, options);
  const lines = [
    `**${connectorSafe(headline(view))}**`,
    connectorSafe(view.status),
    ...view.facts.map((f) => `**${connectorSafe(f.label)}:** ${connectorSafe(f.value)}`),
    ...(view.evidence !== undefined ? [`**Evidence:** ${connectorSafe(truncate(view.evidence.replace(/\s*\n\s*/g, ' '), 2000))}`] : []),
    `**Remediation:** ${connectorSafe(view.remediation.text)}${view.remediation.url ? ` ${connectorSafe(view.remediation.url)}` : ''}`,
    `Finding ${view.findingId} · rule ${connectorSafe(view.ruleId)} · ${view.category} · ${view.brand}`,
  ];
  return { text: lines.join('\n\n') };
}

const CARD_STYLE: Record<Severity, string> = { CRITICAL: 'attention', HIGH: 'attention', MEDIUM: 'warning', LOW: 'accent', INFORMATIONAL: 'default' };

/** Teams Workflows: an Adaptive Card (1.4, what the Teams Workflows template renders). */
export function renderFindingAdaptiveCard(notice: FindingNotice, options: ViewOptions = {}): Record<string, unknown> {
  const view = describeNotice(notice, options);
  const resolved = view.transition === 'resolve';
  const body: AdaptiveElement[] = [
    {
      type: 'Container',
      style: resolved ? 'good' : CARD_STYLE[view.severity],
      bleed: true,
      items: [{ type: 'TextBlock', text: `${view.severity} · ${view.badge}`, weight: 'Bolder', wrap: true }],
    },
    { type: 'TextBlock', text: cardSafe(view.title), weight: 'Bolder', size: 'Medium', wrap: true },
    { type: 'TextBlock', text: cardSafe(view.status), wrap: true, spacing: 'Small' },
    { type: 'FactSet', facts: view.facts.map((f) => ({ title: f.label, value: cardSafe(f.value) })) },
  ];
  if (view.evidence !== undefined) {
    body.push({ type: 'TextBlock', text: 'Evidence', weight: 'Bolder', wrap: true });
    body.push({ type: 'TextBlock', text: cardSafe(truncate(view.evidence, 3000)), fontType: 'Monospace', wrap: true, size: 'Small' });
  }
  body.push({ type: 'TextBlock', text: 'Remediation', weight: 'Bolder', wrap: true });
  body.push({ type: 'TextBlock', text: cardSafe(view.remediation.text), wrap: true });
  body.push({ type: 'TextBlock', text: `Finding ${view.findingId} · rule ${cardSafe(view.ruleId)} · ${view.category} · ${view.brand}`, isSubtle: true, size: 'Small', wrap: true });
  const actions = view.remediation.url ? [{ type: 'Action.OpenUrl', title: 'Remediation guide', url: view.remediation.url }] : [];
  return adaptiveCardMessage(body, actions);
}

/** The body a chat webhook gets: Slack blocks, or for Teams the card or the connector text the URL calls for. */
export function renderChatPayload(kind: ChatKind, url: string, notice: FindingNotice, options: ViewOptions = {}): Record<string, unknown> {
  if (kind === 'slack') return { ...renderSlackMessage(notice, options) };
  return isTeamsWorkflowUrl(url) ? renderFindingAdaptiveCard(notice, options) : renderTeamsConnectorMessage(notice, options);
}
