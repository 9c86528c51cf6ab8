/**
 * Where the local stack's finding emails go: there is no relay to send through on this machine, so the
 * email channel writes each message here (the same MIME a relay would get), and the run folder keeps them
 * as `.eml` (opens in any mail client) and `.html` (opens in a browser).
 */
import type { ComposedEmail } from '../../functions/notify/email-message';
import type { MailSink } from '../../functions/notify/mail-recorder';

/** The addresses of the local stack's email channel (example.com: nothing is ever sent). */
export const LOCAL_MAIL = { from: 'shipscan@example.com', to: ['secops@example.com'] } as const;

export interface OutboxMail {
  channel: string;
  mail: ComposedEmail;
}

export class MailOutbox implements MailSink {
  readonly mails: OutboxMail[] = [];

  async record(mail: ComposedEmail, channel: string): Promise<void> {
    // A notice written again (a retried delivery) replaces its copy: one file per notice.
    const existing = this.mails.findIndex((m) => m.mail.messageId === mail.messageId);
    if (existing >= 0) this.mails[existing] = { channel, mail };
    else this.mails.push({ channel, mail });
  }
}

/** `mail/<time>-<severity>-<transition>-<finding id prefix>`: the name MailRecorder gives the same message. */
export function mailBaseName(mail: ComposedEmail): string {
  return `mail/${mail.at.replace(/[^0-9]/g, '').slice(0, 17)}-${mail.severity.toLowerCase()}-${mail.transition}-${mail.findingId.slice(0, 16)}`;
}
