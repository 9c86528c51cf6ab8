import nodemailer from 'nodemailer';
import type { FindingNotice, NotificationChannel } from '../../shared/findings/notifier';
import type { EmailRenderOptions } from '../../shared/notify/email';
import { oneLine, truncate } from '../../shared/notify/text';
import type { DigestChannel, RenderedDigest } from '../../shared/notify/digest';
import { composeDigestEmail, composeFindingEmail, type EmailAddressing } from './email-message';
import { recordQuietly, type MailSink } from './mail-recorder';

/**
 * Finding emails through an SMTP relay (Azure, which has no SES; or AWS when `findings.email.smtp` is set),
 * with Nodemailer's SMTP transport. The caller reads the credentials from Key Vault or Secrets Manager and
 * hands them in; they never reach a log, an error or a serialised form of the channel.
 */

export interface SmtpCredentials {
  username: string;
  password: string;
}

export interface SmtpRelay {
  host: string;
  port: number;
  /** Implicit TLS (465). Otherwise the relay must offer STARTTLS: the session is never left in plain text. */
  secure: boolean;
}

export interface SmtpEmailChannelOptions extends EmailAddressing {
  smtp: SmtpRelay;
  credentials?: SmtpCredentials;
  /** A private CA the relay's certificate chains to (PEM). */
  ca?: string;
  render?: EmailRenderOptions;
  /** Receives a copy of each message sent (a MailRecorder writing .eml/.html files). */
  recorder?: MailSink;
  onRecordError?: (error: Error) => void;
  /**
   * Recipients the relay refused while it took the message for the others. The send still counts as done:
   * retrying would send the others a second copy, and a refused address stays refused.
   */
  onRejected?: (recipients: string[], detail: string) => void;
  timeouts?: { connectionMs?: number; greetingMs?: number; socketMs?: number };
  /**
   * For tests against a local SMTP server only: talk plain text (no STARTTLS). Refused for any host but a
   * loopback address, so a setting cannot send a password unencrypted over a network.
   */
  plaintextLoopback?: boolean;
  /** Channel name (default `email`). */
  name?: string;
}

export class SmtpSendError extends Error {
  override readonly name = 'SmtpSendError';
  constructor(
    message: string,
    /** Nodemailer's error code (EAUTH, ECONNECTION, ETLS, EENVELOPE...). */
    readonly code: string | undefined,
    readonly responseCode: number | undefined,
    /** Whether a later attempt may succeed (network, timeouts, 4xx replies). */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;

const PROBLEMS: Record<string, string> = {
  EAUTH: 'authentication failed (the relay rejected the user name or password)',
  ENOAUTH: 'the relay requires authentication and no credentials were given',
  ETLS: 'TLS failed (the relay offers no STARTTLS, or its certificate is not trusted)',
  ECONNECTION: 'the connection failed or closed',
  ESOCKET: 'the connection failed',
  ETIMEDOUT: 'timed out',
  EDNS: 'the host name did not resolve',
  EENVELOPE: 'the relay refused the sender or a recipient',
  EMESSAGE: 'the relay refused the message',
  EPROTOCOL: 'the relay answered outside the SMTP protocol',
};

export class SmtpEmailChannel implements NotificationChannel, DigestChannel {
  readonly name: string;
  readonly #options: Omit<SmtpEmailChannelOptions, 'credentials'>;
  // Private fields: neither util.inspect nor JSON.stringify shows them.
  readonly #secrets: string[];
  readonly #transport: ReturnType<typeof nodemailer.createTransport>;

  constructor(options: SmtpEmailChannelOptions) {
    const { credentials, ...rest } = options;
    this.#options = rest;
    this.name = options.name ?? 'email';
    const host = options.smtp.host;
    if (options.plaintextLoopback && !LOOPBACK.test(host)) {
      throw new SmtpSendError(`SMTP ${host}:${options.smtp.port}: plain text is only allowed to a loopback address`, 'ECONFIG', undefined, false);
    }
    this.#secrets = secretsOf(credentials);
    const t = options.timeouts ?? {};
    this.#transport = nodemailer.createTransport({
      host,
      port: options.smtp.port,
      secure: options.smtp.secure,
      ...(options.plaintextLoopback ? { ignoreTLS: true, requireTLS: false } : { requireTLS: !options.smtp.secure }),
      ...(credentials ? { auth: { user: credentials.username, pass: credentials.password } } : {}),
      tls: { minVersion: 'TLSv1.2', servername: host, ...(options.ca ? { ca: options.ca } : {}) },
      connectionTimeout: t.connectionMs ?? 10_000,
      greetingTimeout: t.greetingMs ?? 10_000,
      socketTimeout: t.socketMs ?? 30_000,
      // Nodemailer's own logging would print the SMTP conversation: off.
      logger: false,
      debug: false,
    });
  }

  async send(notice: FindingNotice): Promise<void> {
    const mail = await composeFindingEmail(notice, this.#options, this.#options.render);
    let info: { rejected?: unknown[]; rejectedErrors?: unknown[] };
    try {
      info = await this.#transport.sendMail({ envelope: mail.envelope, raw: mail.raw });
    } catch (error) {
      throw this.describe(error, mail.envelope.to.length);
    }
    const rejected = (info.rejected ?? []).map((r) => (typeof r === 'string' ? r : String((r as { address?: unknown }).address)));
    if (rejected.length > 0) this.reportRejected(rejected, info.rejectedErrors?.[0]);
    await recordQuietly(this.#options.recorder, mail, this.name, this.#options.onRecordError);
  }

  /** A run's digest (deferred notifications): one message to the same recipients. */
  async sendDigest(digest: RenderedDigest): Promise<void> {
    const mail = await composeDigestEmail(digest, this.#options, this.#options.render?.brand);
    let info: { rejected?: unknown[]; rejectedErrors?: unknown[] };
    try {
      info = await this.#transport.sendMail({ envelope: mail.envelope, raw: mail.raw });
    } catch (error) {
      throw this.describe(error, mail.envelope.to.length);
    }
    const rejected = (info.rejected ?? []).map((r) => (typeof r === 'string' ? r : String((r as { address?: unknown }).address)));
    if (rejected.length > 0) this.reportRejected(rejected, info.rejectedErrors?.[0]);
  }

  private reportRejected(rejected: string[], firstError: unknown): void {
    const e = (firstError ?? {}) as { response?: unknown };
    const detail = truncate(oneLine(redact(typeof e.response === 'string' ? e.response : 'refused', this.#secrets)), 300);
    const { host, port } = this.#options.smtp;
    if (this.#options.onRejected) this.#options.onRejected(rejected, detail);
    else process.emitWarning(`SMTP ${host}:${port} refused ${rejected.length} recipient(s) (${rejected.join(', ')}): ${detail}; the others got the email`, 'SmtpRecipientWarning');
  }

  /** Names the relay and the problem; the relay's answer is kept, with anything credential-like removed. */
  private describe(error: unknown, recipients: number): SmtpSendError {
    const e = (error ?? {}) as { code?: unknown; responseCode?: unknown; response?: unknown; message?: unknown };
    const code = typeof e.code === 'string' ? e.code : undefined;
    const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
    const said = typeof e.response === 'string' ? e.response : typeof e.message === 'string' ? e.message : String(error);
    const detail = truncate(oneLine(redact(said, this.#secrets)), 300);
    const problem = (code && PROBLEMS[code]) ?? 'sending failed';
    const { host, port } = this.#options.smtp;
    const retryable = responseCode !== undefined ? responseCode >= 400 && responseCode < 500 : code !== 'EAUTH' && code !== 'ENOAUTH' && code !== 'EENVELOPE';
    return new SmtpSendError(`email to ${recipients} recipient(s) via SMTP ${host}:${port} failed: ${problem}${code ? ` [${code}]` : ''}: ${detail}`, code, responseCode, retryable);
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, smtp: this.#options.smtp, from: this.#options.from, to: this.#options.to };
  }

  /** Releases the transport (a non-pooled transport holds no connection between messages). */
  close(): void {
    this.#transport.close();
  }
}

/** The credentials and the encodings they travel in (AUTH PLAIN and LOGIN are base64), longest first. */
function secretsOf(credentials: SmtpCredentials | undefined): string[] {
  if (!credentials) return [];
  const { username, password } = credentials;
  const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
  return [password, b64(password), b64(`\u0000${username}\u0000${password}`), b64(`${username}\u0000${username}\u0000${password}`), b64(username), username]
    .filter((s) => s.length >= 3)
    .sort((a, b) => b.length - a.length);
}

function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) out = out.split(secret).join('[redacted]');
  return out;
}
