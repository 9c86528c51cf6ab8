import { z } from 'zod';
import { FindingsConfigSchema, type FindingsConfig } from './config';

/**
 * `shipscan:findings` travels to a function in two parts: the secret leaves (SMTP credentials, webhook URLs,
 * which carry their own token) in a secret store (Secrets Manager on AWS), read once per cold start; the
 * rest (recipients, threshold, suppressions, allow-lists) in the function's settings. These functions split
 * the config for the infrastructure and join the parts again in the runtime, so no secret ever sits in a
 * function's environment and the runtime still sees one FindingsConfig.
 */

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });

/** What the notify secret holds (JSON): every key optional, only those the stack configures. */
export const NotifySecretsSchema = z.strictObject({
  smtpUsername: z.string().min(1).optional(),
  smtpPassword: z.string().min(1).optional(),
  slackWebhookUrl: httpsUrl.optional(),
  teamsWebhookUrl: httpsUrl.optional(),
});
export type NotifySecrets = z.infer<typeof NotifySecretsSchema>;

/** The secret leaves of the config, or undefined when it has none (then no secret needs to exist). */
export function notifySecretsOf(config: FindingsConfig): NotifySecrets | undefined {
  const secrets: NotifySecrets = {};
  const smtp = config.email?.smtp;
  if (smtp?.username) secrets.smtpUsername = smtp.username;
  if (smtp?.password) secrets.smtpPassword = smtp.password;
  if (config.slackWebhookUrl) secrets.slackWebhookUrl = config.slackWebhookUrl;
  if (config.teamsWebhookUrl) secrets.teamsWebhookUrl = config.teamsWebhookUrl;
  return Object.keys(secrets).length > 0 ? secrets : undefined;
}

/** The config without its secret leaves: what a function's settings may carry. */
export function withoutNotifySecrets(config: FindingsConfig): FindingsConfig {
  const { slackWebhookUrl: _slack, teamsWebhookUrl: _teams, ...rest } = config;
  if (!rest.email?.smtp) return rest;
  const { username: _user, password: _password, ...smtp } = rest.email.smtp;
  return { ...rest, email: { ...rest.email, smtp } };
}

export class NotifySettingsError extends Error {
  override readonly name = 'NotifySettingsError';
}

/**
 * Reads a function's findings settings (the JSON withoutNotifySecrets produced). Settings that carry a
 * secret leaf are refused: the infrastructure never writes one there, so one found there is a bug that must
 * not go unnoticed (it would sit in the function's configuration in plain text).
 */
export function parseNotifySettings(json: unknown): FindingsConfig {
  const settings = FindingsConfigSchema.parse(json);
  const leaked = notifySecretsOf(settings);
  if (leaked) throw new NotifySettingsError(`the findings settings hold secret values (${Object.keys(leaked).join(', ')}); they belong in the notify secret`);
  return settings;
}

/** The settings with the secret leaves read from the secret put back where the config has them. */
export function withNotifySecrets(settings: FindingsConfig, secrets: NotifySecrets): FindingsConfig {
  const joined: FindingsConfig = { ...settings };
  if (secrets.slackWebhookUrl) joined.slackWebhookUrl = secrets.slackWebhookUrl;
  if (secrets.teamsWebhookUrl) joined.teamsWebhookUrl = secrets.teamsWebhookUrl;
  const smtp = settings.email?.smtp;
  if (settings.email && smtp && secrets.smtpUsername && secrets.smtpPassword) {
    joined.email = { ...settings.email, smtp: { ...smtp, username: secrets.smtpUsername, password: secrets.smtpPassword } };
  }
  return joined;
}
