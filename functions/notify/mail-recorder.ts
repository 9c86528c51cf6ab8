import { mkdir, rename, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { RunDigest } from '../../shared/findings/digest';
import type { FindingNotice, NotificationChannel } from '../../shared/findings/notifier';
import type { EmailRenderOptions } from '../../shared/notify/email';
import { composeFindingEmail, composeRunDigestEmail, type ComposedEmail, type EmailAddressing } from './email-message';

/**
 * Keeps a copy of each email a channel sent: the raw MIME as `.eml` (opens in any mail client) and the HTML
 * part as `.html` (opens in a browser). The local stack writes them beside its results so a person can see
 * what a recipient would get.
 */

export interface MailSink {
  record(mail: ComposedEmail, channel: string): Promise<unknown>;
}

export interface RecordedMail {
  channel: string;
  to: string[];
  subject: string;
  findingId: string;
  transition: string;
  eml: string;
  html: string;
}

export class MailRecorder implements MailSink {
  /** What was written, in order (the local stack prints it). */
  readonly recorded: RecordedMail[] = [];

  constructor(readonly dir: string) {}

  /**
   * Writes `<time>-<severity>-<transition>-<finding id prefix>.eml` and `.html`. The name depends on the
   * notice only, so a notice written again (a retried delivery) replaces its files instead of adding copies.
   */
  async record(mail: ComposedEmail, channel: string): Promise<RecordedMail> {
    await mkdir(this.dir, { recursive: true });
    const base = `${mail.at.replace(/[^0-9]/g, '').slice(0, 17)}-${mail.severity.toLowerCase()}-${mail.transition}-${mail.findingId.slice(0, 16)}`;
    const eml = path.join(this.dir, `${base}.eml`);
    const html = path.join(this.dir, `${base}.html`);
    await writeAtomically(eml, mail.raw);
    await writeAtomically(html, mail.html);
    const entry: RecordedMail = { channel, to: [...mail.envelope.to], subject: mail.subject, findingId: mail.findingId, transition: mail.transition, eml, html };
    const existing = this.recorded.findIndex((r) => r.eml === eml);
    if (existing >= 0) this.recorded[existing] = entry;
    else this.recorded.push(entry);
    return entry;
  }
}

/** A reader never sees half a file: write beside it, then rename over it. */
async function writeAtomically(file: string, content: string | Buffer): Promise<void> {
  const temp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(temp, content);
  await rename(temp, file);
}

/**
 * Hands a sent email to the sink without letting the sink's failure reach the caller: the email went out,
 * and a throw here would make the recorder send it again.
 */
export async function recordQuietly(sink: MailSink | undefined, mail: ComposedEmail, channel: string, onError?: (error: Error) => void): Promise<void> {
  if (!sink) return;
  try {
    await sink.record(mail, channel);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    if (onError) onError(e);
    else process.emitWarning(`the copy of the email for finding ${mail.findingId} was not written: ${e.message}`, 'MailRecorderWarning');
  }
}

export interface OutboxEmailChannelOptions extends EmailAddressing {
  sink: MailSink;
  render?: EmailRenderOptions;
  /** Channel name (default `email`). */
  name?: string;
}

/**
 * An email channel that only writes the message to a sink: for local runs, where there is no relay to send
 * through. Writing is its delivery, so a failure to write throws (and the recorder retries it).
 */
export class OutboxEmailChannel implements NotificationChannel {
  readonly name: string;

  constructor(private readonly options: OutboxEmailChannelOptions) {
    this.name = options.name ?? 'email';
  }

  async send(notice: FindingNotice): Promise<void> {
    const mail = await composeFindingEmail(notice, this.options, this.options.render);
    await this.options.sink.record(mail, this.name);
  }

  async sendDigest(digest: RunDigest): Promise<void> {
    const mail = await composeRunDigestEmail(digest, this.options, this.options.render?.brand ? { brand: this.options.render.brand } : {});
    await this.options.sink.record(mail, this.name);
  }
}
