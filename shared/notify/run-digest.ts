import type { RunDigest } from '../findings/digest';
import { SEVERITY_COLOURS } from './email';
import { SNS_SUBJECT_MAX, type SnsMessage } from './sns';
import { asciiOneLine, escapeHtml, oneLine, truncate } from './text';

/**
 * A scheduled run's digest for every channel that takes one: one email (subject, text and HTML parts) and
 * one SNS message per run, listing the counts and the top items. Values come from findings (resource names
 * an attacker may choose), so they pass through the text helpers like every notice.
 */

export const DIGEST_NOTICE_TYPE = 'ShipscanRunDigest' as const;

const VERBS: Record<string, string> = { open: 'opened', reopen: 'reopened', unsuppress: 'active again', resolve: 'resolved', suppress: 'suppressed' };

export interface DigestRenderOptions {
  brand?: string;
}

function brandOf(options: DigestRenderOptions): string {
  return asciiOneLine(options.brand ?? 'shipscan') || 'shipscan';
}

/** `[shipscan] evaluation 2026...: 3 opened, 1 resolved`: printable ASCII, one line. */
export function digestSubject(digest: RunDigest, max: number, options: DigestRenderOptions = {}): string {
  const parts = [`${digest.opened} opened`, ...(digest.reopened > 0 ? [`${digest.reopened} reopened`] : []), `${digest.resolved} resolved`];
  return truncate(asciiOneLine(`[${brandOf(options)}] ${digest.kind === 'evaluation' ? 'posture evaluation' : 'inventory'}: ${parts.join(', ')}`), max);
}

function itemLine(item: RunDigest['top'][number]): string {
  const verb = VERBS[item.transition] ?? item.transition;
  const reason = item.reason ? ` (${item.reason})` : '';
  return `${item.severity} ${verb}${reason}: ${truncate(oneLine(item.title), 200)} [${truncate(oneLine(item.resourceName), 80)}, ${oneLine(item.scope)}, ${oneLine(item.ruleId)}]`;
}

export function renderDigestText(digest: RunDigest, options: DigestRenderOptions = {}): string {
  const lines = [
    `${digest.kind === 'evaluation' ? 'Posture evaluation' : 'Inventory'} run ${digest.runId} (${oneLine(digest.scope)})`,
    `${digest.startedAt} - ${digest.completedAt}`,
    '',
    `Opened: ${digest.opened}   Reopened: ${digest.reopened}   Resolved: ${digest.resolved}   Suppressed: ${digest.suppressed}`,
    ...Object.entries(digest.stats).map(([key, value]) => `${key}: ${value}`),
    '',
    digest.top.length > 0 ? 'Top items:' : 'Nothing changed.',
    ...digest.top.map((item) => `  - ${itemLine(item)}`),
    ...(digest.more > 0 ? [`  ... and ${digest.more} more (query the findings table by rule or state for all of them)`] : []),
    '',
    '--',
    `Sent by ${brandOf(options)} once for this run.`,
    '',
  ];
  return lines.join('\n');
}

export function renderDigestEmail(digest: RunDigest, options: DigestRenderOptions & { subjectMaxLength?: number } = {}): { subject: string; text: string; html: string } {
  const subject = digestSubject(digest, options.subjectMaxLength ?? 140, options);
  const e = escapeHtml;
  const rows = digest.top
    .map((item) => {
      const colour = item.transition === 'resolve' ? '#15803d' : SEVERITY_COLOURS[item.severity];
      return (
        `<tr><td style="padding:6px 8px;border-bottom:1px solid #e5e7eb;white-space:nowrap;"><span style="background:${colour};color:#ffffff;padding:2px 6px;border-radius:3px;font-size:12px;font-weight:bold;">${e(item.severity)}</span></td>` +
        `<td style="padding:6px 8px;border-bottom:1px solid #e5e7eb;font-size:13px;">${e(VERBS[item.transition] ?? item.transition)}${item.reason ? ` (${e(oneLine(item.reason))})` : ''}</td>` +
        `<td style="padding:6px 8px;border-bottom:1px solid #e5e7eb;font-size:13px;">${e(truncate(oneLine(item.title), 200))}<br><span style="color:#6b7280;font-size:12px;">${e(truncate(oneLine(item.resourceName), 80))} &middot; ${e(oneLine(item.scope))} &middot; ${e(oneLine(item.ruleId))}</span></td></tr>`
      );
    })
    .join('');
  const stat = (label: string, value: number) => `<td style="padding:8px 16px 8px 0;font-size:14px;"><strong style="font-size:20px;">${value}</strong><br><span style="color:#6b7280;">${e(label)}</span></td>`;
  const html = [
    '<!DOCTYPE html>',
    `<html lang="en"><head><meta charset="utf-8"><title>${e(subject)}</title></head>`,
    '<body style="margin:0;padding:24px 12px;background:#f3f4f6;font-family:-apple-system,BlinkMacSystemFont,\'Segoe UI\',Roboto,Helvetica,Arial,sans-serif;color:#111827;">',
    '<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;margin:0 auto;background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;">',
    `<tr><td style="padding:20px 24px 4px 24px;"><h1 style="margin:0;font-size:20px;">${e(digest.kind === 'evaluation' ? 'Posture evaluation' : 'Inventory')} run</h1>`,
    `<p style="margin:6px 0 0 0;color:#6b7280;font-size:13px;">${e(digest.runId)} &middot; ${e(oneLine(digest.scope))} &middot; ${e(digest.startedAt)} &ndash; ${e(digest.completedAt)}</p></td></tr>`,
    `<tr><td style="padding:8px 24px;"><table role="presentation" cellpadding="0" cellspacing="0" border="0"><tr>${stat('opened', digest.opened)}${stat('reopened', digest.reopened)}${stat('resolved', digest.resolved)}${Object.entries(digest.stats)
      .map(([key, value]) => stat(key, value))
      .join('')}</tr></table></td></tr>`,
    `<tr><td style="padding:8px 24px 16px 24px;">${rows ? `<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="width:100%;border-collapse:collapse;">${rows}</table>` : '<p>Nothing changed.</p>'}`,
    digest.more > 0 ? `<p style="font-size:13px;color:#6b7280;">... and ${digest.more} more.</p>` : '',
    `</td></tr><tr><td style="padding:12px 24px 20px 24px;border-top:1px solid #e5e7eb;font-size:12px;color:#6b7280;">Sent by ${e(brandOf(options))} once for this run.</td></tr>`,
    '</table></body></html>',
    '',
  ].join('\n');
  return { subject, text: renderDigestText(digest, options), html };
}

export function renderDigestSns(digest: RunDigest, options: DigestRenderOptions = {}): SnsMessage {
  return {
    subject: digestSubject(digest, SNS_SUBJECT_MAX, options),
    message: JSON.stringify({ type: DIGEST_NOTICE_TYPE, version: 1, summary: renderDigestText(digest, options).split('\n')[3], digest }),
    attributes: { type: DIGEST_NOTICE_TYPE, kind: digest.kind, opened: String(digest.opened), resolved: String(digest.resolved) },
  };
}
