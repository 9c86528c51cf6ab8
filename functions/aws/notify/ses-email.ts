import { SendEmailCommand, type SESv2Client } from '@aws-sdk/client-sesv2';
import nodemailer from 'nodemailer';
import type { RunDigest } from '../../../shared/findings/digest';
import type { FindingNotice, NotificationChannel } from '../../../shared/findings/notifier';
import type { EmailRenderOptions } from '../../../shared/notify/email';
import { oneLine, truncate } from '../../../shared/notify/text';
import { composeFindingEmail, composeRunDigestEmail, type ComposedEmail, type EmailAddressing } from '../../notify/email-message';
import { recordQuietly, type MailSink } from '../../notify/mail-recorder';

/**
 * Finding emails through the SES API (SESv2 SendEmail, raw MIME built by Nodemailer). The function's role
 * authorises it (`ses:SendEmail` on the sender identity, and on the configuration set when one applies):
 * there is no SMTP password on AWS.
 */

export interface SesEmailChannelOptions extends EmailAddressing {
  client: SESv2Client;
  /** SES configuration set (event publishing, dedicated IPs); its ARN then needs ses:SendEmail too. */
  configurationSet?: string;
  render?: EmailRenderOptions;
  /** Receives a copy of each message sent (a MailRecorder writing .eml/.html files). */
  recorder?: MailSink;
  onRecordError?: (error: Error) => void;
  /** Channel name (default `email`). */
  name?: string;
}

export class SesSendError extends Error {
  override readonly name = 'SesSendError';
  constructor(
    message: string,
    /** The SES error name (AccessDeniedException, TooManyRequestsException, MessageRejected...). */
    readonly errorName: string,
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/** Errors that a later attempt can get past: throttling, sending quota, SES-side failures. */
const RETRYABLE = new Set(['TooManyRequestsException', 'LimitExceededException', 'ThrottlingException', 'Throttling', 'InternalServiceErrorException', 'ServiceUnavailable', 'RequestTimeout', 'TimeoutError']);

const HINTS: Record<string, string> = {
  AccessDeniedException: 'the role needs ses:SendEmail on the identity and on the configuration set, when one applies',
  MessageRejected: 'in the SES sandbox every recipient must be a verified identity too',
  MailFromDomainNotVerifiedException: 'verify the identity (domain or address) in SES, in this region',
  NotFoundException: 'the identity or the configuration set does not exist in this region',
  TooManyRequestsException: 'SES throttled the call (the sandbox allows 1 message a second)',
  LimitExceededException: 'the sending quota is used up (the sandbox allows 200 messages in 24 hours)',
  SendingPausedException: 'sending is paused for the account or the configuration set',
  AccountSuspendedException: 'the account may not send email',
};

/** SES tag names and values: letters, digits, `_` and `-`, at most 256 characters. */
function tagValue(value: string): string {
  return value.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 256) || '_';
}

export class SesEmailChannel implements NotificationChannel {
  readonly name: string;
  readonly #options: SesEmailChannelOptions;
  readonly #transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(options: SesEmailChannelOptions) {
    this.#options = options;
    this.name = options.name ?? 'email';
    this.#transport = nodemailer.createTransport({ SES: { sesClient: options.client, SendEmailCommand }, logger: false, debug: false });
  }

  async send(notice: FindingNotice): Promise<void> {
    const f = notice.finding;
    await this.deliver(await composeFindingEmail(notice, this.#options, this.#options.render), [
      { Name: 'severity', Value: tagValue(f.severity) },
      { Name: 'category', Value: tagValue(f.category) },
      { Name: 'rule', Value: tagValue(f.ruleId) },
    ]);
  }

  /** A scheduled run's one digest email. */
  async sendDigest(digest: RunDigest): Promise<void> {
    await this.deliver(await composeRunDigestEmail(digest, this.#options, this.#options.render?.brand ? { brand: this.#options.render.brand } : {}), [{ Name: 'category', Value: 'digest' }]);
  }

  private async deliver(mail: ComposedEmail, tags: { Name: string; Value: string }[]): Promise<void> {
    const set = this.#options.configurationSet;
    try {
      await this.#transport.sendMail({
        envelope: mail.envelope,
        raw: mail.raw,
        ses: {
          FromEmailAddress: this.#options.from,
          ...(set
            ? {
                ConfigurationSetName: set,
                // Tags are what a configuration set's event destinations (CloudWatch, Firehose...) group by.
                EmailTags: tags,
              }
            : {}),
        },
      });
    } catch (error) {
      throw this.describe(error);
    }
    await recordQuietly(this.#options.recorder, mail, this.name, this.#options.onRecordError);
  }

  /** Names the sender identity, the configuration set and the SES error; the recorder retries this channel. */
  private describe(error: unknown): SesSendError {
    const e = (error ?? {}) as { name?: unknown; message?: unknown; $retryable?: unknown; $fault?: unknown };
    const name = typeof e.name === 'string' ? e.name : 'Error';
    const message = typeof e.message === 'string' ? e.message : String(error);
    const retryable = RETRYABLE.has(name) || e.$retryable !== undefined || e.$fault === 'server';
    const set = this.#options.configurationSet;
    const hint = HINTS[name];
    return new SesSendError(
      `SES SendEmail from ${this.#options.from}${set ? ` with configuration set ${set}` : ''} failed: ${name}: ${truncate(oneLine(message), 500)}${hint ? ` (${hint})` : ''}`,
      name,
      retryable,
    );
  }
}
