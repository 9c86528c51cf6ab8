import type { EmailConfig, FindingsConfig } from '../../shared/findings/config';
import type { EmailRenderOptions } from '../../shared/notify/email';
import type { MailSink } from './mail-recorder';
import { SmtpEmailChannel, type SmtpCredentials } from './smtp-email';
import { WebhookChannel, type WebhookDeliveryOptions } from './webhook';

/**
 * The parts of `channelsFromConfig` both clouds share: the SMTP channel and the chat webhooks. Each cloud's
 * factory (functions/<cloud>/notify/channels.ts) adds what only it has (SNS and SES on AWS).
 */

export class NotifyConfigError extends Error {
  override readonly name = 'NotifyConfigError';
}

export interface CommonChannelDeps {
  /**
   * SMTP credentials, read by the caller from Secrets Manager or Key Vault (a function's settings carry no
   * password). When absent, those in the config (`findings.email.smtp.username` / `password`, as in a local
   * run) are used, if any; with neither, the relay is used without AUTH.
   */
  smtpCredentials?: SmtpCredentials;
  /** Keeps a copy of each email sent (the local stack writes them as .eml / .html). */
  mailRecorder?: MailSink;
  /** Brand, evidence and subject limits for every rendered notice. */
  render?: EmailRenderOptions;
  /** Attempts, back-off and timeout of the webhook channels. */
  webhook?: Omit<WebhookDeliveryOptions, 'label'>;
  /** Local runs and tests only: talk plain text to a relay on a loopback address (the channel refuses any other host). */
  plaintextLoopbackSmtp?: boolean;
}

export function smtpCredentialsFor(email: EmailConfig, deps: CommonChannelDeps): SmtpCredentials | undefined {
  if (deps.smtpCredentials) return deps.smtpCredentials;
  const smtp = email.smtp;
  if (smtp?.username && smtp.password) return { username: smtp.username, password: smtp.password };
  return undefined;
}

export function smtpChannelFromConfig(email: EmailConfig, deps: CommonChannelDeps): SmtpEmailChannel {
  if (!email.smtp) throw new NotifyConfigError('findings.email.smtp is not set');
  const credentials = smtpCredentialsFor(email, deps);
  return new SmtpEmailChannel({
    from: email.from,
    to: email.to,
    smtp: { host: email.smtp.host, port: email.smtp.port, secure: email.smtp.secure },
    ...(credentials ? { credentials } : {}),
    ...(deps.render ? { render: deps.render } : {}),
    ...(deps.mailRecorder ? { recorder: deps.mailRecorder } : {}),
    ...(deps.plaintextLoopbackSmtp ? { plaintextLoopback: true } : {}),
  });
}

export function webhookChannelsFromConfig(config: FindingsConfig, deps: CommonChannelDeps): WebhookChannel[] {
  const common = { ...(deps.render ? { render: deps.render } : {}), ...(deps.webhook ? { delivery: deps.webhook } : {}) };
  return [
    ...(config.slackWebhookUrl ? [new WebhookChannel({ kind: 'slack', url: config.slackWebhookUrl, ...common })] : []),
    ...(config.teamsWebhookUrl ? [new WebhookChannel({ kind: 'teams', url: config.teamsWebhookUrl, ...common })] : []),
  ];
}
