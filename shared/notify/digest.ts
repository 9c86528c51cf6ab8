import { SEVERITIES } from '../severity';
import type { FindingNotice } from '../findings/notifier';
import type { TransitionKind } from '../findings/lifecycle';
import { SEVERITY_COLOURS } from './email';
import { slackEscape, slackEscapeWithin, type ChatKind } from './chat';
import { adaptiveCardMessage, cardSafe, connectorSafe, isTeamsWorkflowUrl, type AdaptiveElement } from './teams';
import { asciiOneLine, escapeHtml, oneLine, truncate } from './text';

/**
 * The digest of a scheduled run (an inventory, an evaluation): one message per run instead of one per finding,
 * for runs whose notify policy is `deferred`. It counts what changed (opened, reopened, resolved, suppressed),
 * lists the most severe changes first (at most `topItems`), and says whether the run was complete. Pure, like
 * every renderer here: the channels (functions/notify) send it.
 *
 *   const digest = renderDigest({ runId, title: 'Azure posture', startedAt, finishedAt, complete, notices, stats });
 *   if (digest.worthSending) for (const channel of digestChannels) await channel.sendDigest(digest);
 */

export interface DigestInput {
  runId: string;
  /** What ran: `Azure inventory`, `AWS posture evaluation`... */
  title: string;
  startedAt: string;
  finishedAt: string;
  /** False when part of the run failed (then nothing was deleted); the digest says so. */
  complete: boolean;
  /** The run's transitions; `touch` notices are ignored. */
  notices: readonly FindingNotice[];
  /** Figures shown as facts, in order (`resources: 120`, `queries: 6`...). */
  stats?: Readonly<Record<string, number | string>>;
  /** Lines shown under the counts (failed queries and why). */
  notes?: readonly string[];
}

export interface DigestOptions {
  brand?: string;
  /** Items listed (default 10); the counts cover them all. */
  topItems?: number;
  subjectMaxLength?: number;
}

export type DigestCounts = Record<'opened' | 'reopened' | 'resolved' | 'suppressed' | 'unsuppressed', number>;

export interface DigestItem {
  severity: string;
  verb: string;
  title: string;
  resourceName: string;
  resourceId: string;
  ruleId: string;
  /** Why it was resolved, for resolved items. */
  reason?: string;
}

export interface RenderedDigest {
  runId: string;
  subject: string;
  text: string;
  html: string;
  counts: DigestCounts;
  /** The most severe changes, opened and reopened before resolved. */
  top: DigestItem[];
  complete: boolean;
  /** Something changed, or the run was incomplete: a digest with neither tells nobody anything. */
  worthSending: boolean;
  /** Plain facts (label, value) for the chat renderers. */
  facts: { label: string; value: string }[];
  notes: string[];
}

const VERB: Partial<Record<TransitionKind, keyof DigestCounts>> = {
  open: 'opened',
  reopen: 'reopened',
  resolve: 'resolved',
  suppress: 'suppressed',
  unsuppress: 'unsuppressed',
};

/** Order: new risk first (opened, reopened, active again), then resolved, then suppressed; within, most severe. */
const KIND_RANK: Record<keyof DigestCounts, number> = { opened: 0, reopened: 0, unsuppressed: 0, resolved: 1, suppressed: 2 };

export function renderDigest(input: DigestInput, options: DigestOptions = {}): RenderedDigest {
  const brand = asciiOneLine(options.brand ?? 'shipscan') || 'shipscan';
  const counts: DigestCounts = { opened: 0, reopened: 0, resolved: 0, suppressed: 0, unsuppressed: 0 };
  const changes: { verb: keyof DigestCounts; notice: FindingNotice }[] = [];
  for (const notice of input.notices) {
    const verb = VERB[notice.transition];
    if (!verb) continue;
    counts[verb] += 1;
    changes.push({ verb, notice });
  }
  changes.sort(
    (a, b) =>
      KIND_RANK[a.verb] - KIND_RANK[b.verb] ||
      SEVERITIES.indexOf(a.notice.finding.severity) - SEVERITIES.indexOf(b.notice.finding.severity) ||
      (a.notice.finding.id < b.notice.finding.id ? -1 : 1),
  );
  const top: DigestItem[] = changes.slice(0, Math.max(0, options.topItems ?? 10)).map(({ verb, notice }) => {
    const f = notice.finding;
    return {
      severity: f.severity,
      verb,
      title: truncate(oneLine(f.title), 200),
      resourceName: truncate(oneLine(f.resource.name), 120),
      resourceId: truncate(oneLine(f.resource.id), 400),
      ruleId: oneLine(f.ruleId),
      ...(verb === 'resolved' ? { reason: oneLine(f.resolvedReason ?? 'fixed') } : {}),
    };
  });
  const changed = changes.length;
  const summary = [
    counts.opened && `${counts.opened} opened`,
    counts.reopened && `${counts.reopened} reopened`,
    counts.unsuppressed && `${counts.unsuppressed} active again`,
    counts.resolved && `${counts.resolved} resolved`,
    counts.suppressed && `${counts.suppressed} suppressed`,
  ]
    .filter(Boolean)
    .join(', ');
  const status = `${summary || 'no change'}${input.complete ? '' : ' (INCOMPLETE run)'}`;
  const subject = truncate(`[${brand}] ${asciiOneLine(input.title)} digest: ${status}`, options.subjectMaxLength ?? 140);
  const facts = [
    { label: 'Run', value: oneLine(input.runId) },
    { label: 'Started', value: input.startedAt },
    { label: 'Finished', value: input.finishedAt },
    { label: 'Complete', value: input.complete ? 'yes' : 'no: part of the run failed, nothing was deleted' },
    ...Object.entries(input.stats ?? {}).map(([label, value]) => ({ label: oneLine(label), value: oneLine(String(value)) })),
  ];
  const notes = (input.notes ?? []).map((n) => truncate(oneLine(n), 500)).slice(0, 20);
  const more = changed - top.length;
  const line = (i: DigestItem) => `${i.severity} ${i.verb}: ${i.title} (${i.resourceName})${i.reason ? `: ${i.reason}` : ''}\n    ${i.ruleId}  ${i.resourceId}`;
  const width = Math.max(...facts.map((f) => f.label.length)) + 2;
  const text = [
    `${asciiOneLine(input.title)}: ${status}`,
    '',
    ...facts.map((f) => `${`${f.label}:`.padEnd(width)} ${f.value}`),
    ...(notes.length > 0 ? ['', 'Notes:', ...notes.map((n) => `  - ${n}`)] : []),
    ...(top.length > 0 ? ['', `Changes (${changed}${more > 0 ? `, the ${top.length} most severe shown` : ''}):`, ...top.map((i) => `  ${line(i)}`)] : []),
    '',
    '--',
    `${brand} digest of run ${oneLine(input.runId)}, sent once for the run`,
    '',
  ].join('\n');
  return { runId: input.runId, subject, text, html: renderHtml(subject, status, facts, notes, top, changed, brand, input.runId), counts, top, complete: input.complete, worthSending: changed > 0 || !input.complete, facts, notes };
}

function renderHtml(subject: string, status: string, facts: RenderedDigest['facts'], notes: string[], top: DigestItem[], changed: number, brand: string, runId: string): string {
  const e = escapeHtml;
  const rows = top
    .map((i) => {
      const colour = i.verb === 'resolved' ? '#15803d' : SEVERITY_COLOURS[i.severity as keyof typeof SEVERITY_COLOURS] ?? '#4b5563';
      return (
        `<tr><td style="padding:6px 8px;vertical-align:top;"><span style="background:${colour};color:#ffffff;padding:2px 6px;border-radius:3px;font-size:12px;font-weight:bold;">${e(i.severity)}</span></td>` +
        `<td style="padding:6px 8px;font-size:14px;color:#111827;"><strong>${e(i.verb)}</strong>: ${e(i.title)}${i.reason ? ` <em>(${e(i.reason)})</em>` : ''}<br>` +
        `<span style="font-size:12px;color:#6b7280;word-break:break-all;">${e(i.ruleId)} &middot; ${e(i.resourceId)}</span></td></tr>`
      );
    })
    .join('');
  const factRows = facts.map((f) => `<tr><th scope="row" style="text-align:left;padding:2px 16px 2px 0;color:#6b7280;font-weight:normal;font-size:13px;">${e(f.label)}</th><td style="font-size:13px;color:#111827;">${e(f.value)}</td></tr>`).join('');
  return [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${e(subject)}</title></head>`,
    '<body style="margin:0;padding:24px;background:#f3f4f6;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;">',
    '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;">',
    `<tr><td style="padding:20px 24px 8px 24px;"><h1 style="margin:0;font-size:19px;color:#111827;">${e(subject)}</h1><p style="margin:8px 0 0 0;font-size:14px;font-weight:bold;color:#111827;">${e(status)}</p></td></tr>`,
    `<tr><td style="padding:8px 24px;"><table role="presentation" cellpadding="0" cellspacing="0" border="0">${factRows}</table></td></tr>`,
    notes.length > 0 ? `<tr><td style="padding:8px 24px;font-size:13px;color:#991b1b;">${notes.map((n) => e(n)).join('<br>')}</td></tr>` : '',
    top.length > 0 ? `<tr><td style="padding:8px 24px 16px 24px;"><h2 style="margin:8px 0;font-size:15px;">Changes (${changed})</h2><table role="presentation" cellpadding="0" cellspacing="0" border="0" style="width:100%;">${rows}</table></td></tr>` : '',
    `<tr><td style="padding:12px 24px 20px 24px;border-top:1px solid #e5e7eb;font-size:12px;color:#6b7280;">${e(brand)} digest of run ${e(runId)}, sent once for the run.</td></tr>`,
    '</table></body></html>',
    '',
  ].join('\n');
}

/** The digest as a chat webhook takes it: Slack blocks, a Teams card (Workflows URL) or connector text. */
export function renderDigestChatPayload(kind: ChatKind, url: string, digest: RenderedDigest): Record<string, unknown> {
  const items = digest.top.map((i) => ({ head: `${i.severity} ${i.verb}: ${i.title} (${i.resourceName})${i.reason ? `: ${i.reason}` : ''}`, rule: i.ruleId }));
  if (kind === 'slack') {
    const mrkdwn = (text: string) => ({ type: 'mrkdwn', text: truncate(text, 3000) });
    const blocks: Record<string, unknown>[] = [
      { type: 'header', text: { type: 'plain_text', text: truncate(digest.subject, 150), emoji: false } },
      { type: 'section', text: mrkdwn(digest.facts.map((f) => `*${slackEscape(f.label)}:* ${slackEscape(f.value)}`).join('\n')) },
    ];
    if (digest.notes.length > 0) blocks.push({ type: 'section', text: mrkdwn(slackEscapeWithin(digest.notes.join('\n'), 2900)) });
    if (items.length > 0) blocks.push({ type: 'section', text: mrkdwn(slackEscapeWithin(items.map((i) => `• ${i.head} [${i.rule}]`).join('\n'), 2900)) });
    return { text: slackEscape(truncate(digest.subject, 3000)), blocks };
  }
  if (isTeamsWorkflowUrl(url)) {
    const body: AdaptiveElement[] = [
      { type: 'TextBlock', text: cardSafe(digest.subject), weight: 'Bolder', size: 'Medium', wrap: true },
      { type: 'FactSet', facts: digest.facts.map((f) => ({ title: f.label, value: cardSafe(f.value) })) },
      ...digest.notes.map((n) => ({ type: 'TextBlock', text: cardSafe(n), color: 'Attention', wrap: true })),
      ...items.map((i) => ({ type: 'TextBlock', text: cardSafe(`${i.head} [${i.rule}]`), wrap: true, size: 'Small' })),
    ];
    return adaptiveCardMessage(body);
  }
  const lines = [
    `**${connectorSafe(digest.subject)}**`,
    ...digest.facts.map((f) => `**${connectorSafe(f.label)}:** ${connectorSafe(f.value)}`),
    ...digest.notes.map((n) => connectorSafe(n)),
    ...items.map((i) => `- ${connectorSafe(i.head)} [${connectorSafe(i.rule)}]`),
  ];
  return { text: lines.join('\n\n') };
}

/** A channel that takes a run's digest (the email and webhook channels implement it beside `send`). */
export interface DigestChannel {
  readonly name: string;
  sendDigest(digest: RenderedDigest): Promise<void>;
}
