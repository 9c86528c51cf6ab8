import MailComposer from 'nodemailer/lib/mail-composer';
import { createHash } from 'node:crypto';
import type { FindingNotice } from '../../shared/findings/notifier';
import type { RenderedDigest } from '../../shared/notify/digest';
import { renderFindingEmail, type EmailRenderOptions } from '../../shared/notify/email';
import { transitionTime } from '../../shared/notify/notice-view';
import { asciiOneLine } from '../../shared/notify/text';

/**
 * The MIME message of a finding email, built once by Nodemailer's composer: the bytes the SES and SMTP
 * channels send are the bytes a MailRecorder writes, so the `.eml` beside a local run is what a recipient
 * would get.
 */

export interface EmailAddressing {
  from: string;
  to: readonly string[];
  /** Display name of the sender (default `shipscan`). */
  fromName?: string;
}

export interface ComposedEmail {
  subject: string;
  text: string;
  html: string;
  /** The whole message (RFC 5322), as sent. */
  raw: Buffer;
  messageId: string;
  envelope: { from: string; to: string[] };
  findingId: string;
  transition: string;
  severity: string;
  /** When the transition happened (ISO), to name files and order them. */
  at: string;
}

function domainOf(address: string): string {
  const domain = address.slice(address.lastIndexOf('@') + 1).replace(/[^A-Za-z0-9.-]/g, '');
  return domain || 'shipscan.invalid';
}

/**
 * Message-IDs are derived from the finding and the transition, not random: should a relay take a message
 * and the answer be lost, the retried copy has the same Message-ID and mail systems that drop duplicates
 * drop it. Every notice of one finding also names the same thread root in References, so mail clients group
 * open, resolve and reopen of one finding together.
 */
export function findingMessageIds(notice: FindingNotice, from: string): { messageId: string; threadRoot: string } {
  const domain = domainOf(from);
  const at = transitionTime(notice).replace(/[^0-9]/g, '');
  return {
    messageId: `<${notice.transition}.${at}.${notice.finding.id}@${domain}>`,
    threadRoot: `<${notice.finding.id}@${domain}>`,
  };
}

export async function composeFindingEmail(notice: FindingNotice, addressing: EmailAddressing, render: EmailRenderOptions = {}): Promise<ComposedEmail> {
  const rendered = renderFindingEmail(notice, render);
  const f = notice.finding;
  const { messageId, threadRoot } = findingMessageIds(notice, addressing.from);
  const to = [...addressing.to];
  const composer = new MailComposer({
    from: { name: asciiOneLine(addressing.fromName ?? render.brand ?? 'shipscan'), address: addressing.from },
    to,
    subject: rendered.subject,
    text: rendered.text,
    html: rendered.html,
    messageId,
    references: [threadRoot],
    date: new Date(),
    headers: {
      // RFC 3834: no out-of-office or other automatic replies to a notification.
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      'X-Shipscan-Finding-Id': f.id,
      'X-Shipscan-Rule-Id': asciiOneLine(f.ruleId),
      'X-Shipscan-Severity': f.severity,
      'X-Shipscan-Transition': notice.transition,
    },
    // Everything is inline text: a message never reads a file or a URL while it is built.
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  const raw = await composer.compile().build();
  return {
    ...rendered,
    raw,
    messageId,
    envelope: { from: addressing.from, to },
    findingId: f.id,
    transition: notice.transition,
    severity: f.severity,
    at: transitionTime(notice),
  };
}

/** The MIME message of a run's digest; its Message-ID comes from the run id, so a resent copy is the same message. */
export async function composeDigestEmail(digest: RenderedDigest, addressing: EmailAddressing, brand = 'shipscan'): Promise<{ raw: Buffer; envelope: { from: string; to: string[] }; messageId: string }> {
  const to = [...addressing.to];
  const messageId = `<digest.${createHash('sha256').update(digest.runId).digest('hex').slice(0, 32)}@${domainOf(addressing.from)}>`;
  const composer = new MailComposer({
    from: { name: asciiOneLine(addressing.fromName ?? brand), address: addressing.from },
    to,
    subject: digest.subject,
    text: digest.text,
    html: digest.html,
    messageId,
    date: new Date(),
    headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', 'X-Shipscan-Run-Id': asciiOneLine(digest.runId) },
    disableFileAccess: true,
    disableUrlAccess: true,
  });
  return { raw: await composer.compile().build(), envelope: { from: addressing.from, to }, messageId };
}
