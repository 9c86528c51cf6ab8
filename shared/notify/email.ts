import type { Severity } from '../severity';
import type { FindingNotice } from '../findings/notifier';
import { describeNotice, noticeSubject, type NoticeView, type ViewOptions } from './notice-view';
import { escapeHtml } from './text';

/**
 * The finding email: a subject, an HTML part and an equivalent plain-text part. The HTML is self-contained
 * (inline styles, table layout, no images, fonts or stylesheets to fetch), because mail clients block remote
 * content and strip <style> blocks; every interpolated value is escaped.
 */

export interface EmailRenderOptions extends ViewOptions {
  /** Longest subject in characters (default 140). */
  subjectMaxLength?: number;
}

export interface RenderedEmail {
  subject: string;
  text: string;
  html: string;
}

/** Band colours, each readable under white text (WCAG AA contrast or better). */
export const SEVERITY_COLOURS: Record<Severity, string> = {
  CRITICAL: '#991b1b',
  HIGH: '#c2410c',
  MEDIUM: '#a16207',
  LOW: '#1d4ed8',
  INFORMATIONAL: '#4b5563',
};

const RESOLVED_COLOUR = '#15803d';

export function renderFindingEmail(notice: FindingNotice, options: EmailRenderOptions = {}): RenderedEmail {
  const view = describeNotice(notice, options);
  const subject = noticeSubject(view, options.subjectMaxLength ?? 140);
  return { subject, text: renderText(view), html: renderHtml(view, subject) };
}

function renderText(view: NoticeView): string {
  const width = Math.max(...view.facts.map((f) => f.label.length)) + 2;
  const lines = [
    `[${view.severity}] ${view.title}`,
    view.status,
    '',
    ...view.facts.map((f) => `${`${f.label}:`.padEnd(width)} ${f.value}`),
  ];
  if (view.evidence !== undefined) lines.push('', 'Evidence:', ...view.evidence.split('\n').map((l) => `  ${l}`));
  lines.push('', 'Remediation:', ...view.remediation.text.split('\n').map((l) => `  ${l}`));
  if (view.remediation.url) lines.push(`  ${view.remediation.url}`);
  lines.push('', '--', footerText(view), '');
  return lines.join('\n');
}

function footerText(view: NoticeView): string {
  return `Finding ${view.findingId} | rule ${view.ruleId} | ${view.category} | sent by ${view.brand} once for this change`;
}

const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
const MONO = "SFMono-Regular,Consolas,'Liberation Mono',Menlo,monospace";

function renderHtml(view: NoticeView, subject: string): string {
  const e = escapeHtml;
  const band = SEVERITY_COLOURS[view.severity];
  const badgeColour = view.transition === 'resolve' ? RESOLVED_COLOUR : band;
  const factRows = view.facts
    .map(
      (f) =>
        `<tr><th scope="row" style="text-align:left;vertical-align:top;padding:4px 16px 4px 0;color:#6b7280;font-weight:normal;font-size:13px;white-space:nowrap;">${e(f.label)}</th>` +
        `<td style="padding:4px 0;font-size:14px;color:#111827;word-break:break-all;">${e(f.value)}</td></tr>`,
    )
    .join('');
  const section = (heading: string, body: string) =>
    `<tr><td style="padding:8px 24px 8px 24px;"><h2 style="margin:8px 0 8px 0;font-size:15px;color:#111827;">${e(heading)}</h2>${body}</td></tr>`;
  const evidence =
    view.evidence === undefined
      ? ''
      : section(
          'Evidence',
          `<pre style="margin:0;padding:12px;background:#f9fafb;border:1px solid #e5e7eb;border-radius:4px;font-family:${MONO};font-size:12px;line-height:1.45;color:#111827;white-space:pre-wrap;word-break:break-all;">${e(view.evidence)}</pre>`,
        );
  const remediationText = view.remediation.text
    .split(/\n{2,}/)
    .map((p) => `<p style="margin:0 0 8px 0;font-size:14px;line-height:1.5;color:#111827;">${e(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
  const remediationLink = view.remediation.url
    ? `<p style="margin:0;font-size:14px;"><a href="${e(view.remediation.url)}" style="color:#1d4ed8;text-decoration:underline;">${e(view.remediation.url)}</a></p>`
    : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">',
    `<meta name="color-scheme" content="light"><title>${e(subject)}</title></head>`,
    `<body style="margin:0;padding:0;background:#f3f4f6;font-family:${FONT};">`,
    `<div style="display:none;max-height:0;overflow:hidden;">${e(`${view.severity} ${view.verb}: ${view.title}`)}</div>`,
    '<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background:#f3f4f6;"><tr><td align="center" style="padding:24px 12px;">',
    `<table role="presentation" width="640" cellpadding="0" cellspacing="0" border="0" style="width:100%;max-width:640px;background:#ffffff;border:1px solid #e5e7eb;border-radius:6px;font-family:${FONT};color:#111827;">`,
    `<tr><td style="background:${band};color:#ffffff;padding:12px 24px;font-size:13px;font-weight:bold;letter-spacing:0.06em;border-radius:6px 6px 0 0;">${e(view.severity)} &middot; ${e(view.badge)}</td></tr>`,
    `<tr><td style="padding:20px 24px 4px 24px;"><h1 style="margin:0;font-size:20px;line-height:1.3;color:#111827;">${e(view.title)}</h1>`,
    `<p style="margin:8px 0 0 0;font-size:14px;color:${badgeColour};font-weight:bold;">${e(view.status)}</p></td></tr>`,
    `<tr><td style="padding:12px 24px 8px 24px;"><table role="presentation" cellpadding="0" cellspacing="0" border="0" style="width:100%;">${factRows}</table></td></tr>`,
    evidence,
    section('Remediation', remediationText + remediationLink),
    `<tr><td style="padding:16px 24px 20px 24px;border-top:1px solid #e5e7eb;font-size:12px;line-height:1.5;color:#6b7280;">`,
    `Finding <span style="font-family:${MONO};">${e(view.findingId)}</span> &middot; rule <span style="font-family:${MONO};">${e(view.ruleId)}</span> &middot; ${e(view.category)}<br>`,
    `Sent by ${e(view.brand)} once for this change.</td></tr>`,
    '</table></td></tr></table></body></html>',
    '',
  ].join('\n');
}
