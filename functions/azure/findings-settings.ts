import { z } from 'zod';
import { FindingsConfigSchema, type FindingsConfig } from '../../shared/findings/config';
import type { SmtpCredentials } from '../notify/smtp-email';

/**
 * The `shipscan:findings` config as the Function App receives it: the non-secret part as JSON in one app
 * setting (FINDINGS_CONFIG), each secret in a setting of its own that the infrastructure fills with a Key
 * Vault reference (the platform resolves it with the app's identity). Secrets inside FINDINGS_CONFIG are
 * refused: they would sit in plain text in the site config, where every reader of the app's settings sees them.
 */

/** App settings holding the secrets of `shipscan:findings`, by config key. */
export const FINDINGS_SECRET_SETTINGS = {
  'findings.email.smtp.username': 'FINDINGS_SMTP_USERNAME',
  'findings.email.smtp.password': 'FINDINGS_SMTP_PASSWORD',
  'findings.slackWebhookUrl': 'FINDINGS_SLACK_WEBHOOK_URL',
  'findings.teamsWebhookUrl': 'FINDINGS_TEAMS_WEBHOOK_URL',
} as const;

export interface FindingsSettings {
  /** The config the channels and the recorder are built from, webhook URLs included. */
  config: FindingsConfig;
  /** From FINDINGS_SMTP_USERNAME / FINDINGS_SMTP_PASSWORD (Key Vault references in Azure). */
  smtpCredentials?: SmtpCredentials;
}

/** Where a secret would sit inside FINDINGS_CONFIG, and the setting it belongs in instead. */
function secretsInside(raw: unknown): string[] {
  const at = (value: unknown, ...keys: string[]): unknown =>
    keys.reduce<unknown>((here, key) => (here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[key] : undefined), value);
  const found: string[] = [];
  if (at(raw, 'email', 'smtp', 'username') !== undefined) found.push(`email.smtp.username (use ${FINDINGS_SECRET_SETTINGS['findings.email.smtp.username']})`);
  if (at(raw, 'email', 'smtp', 'password') !== undefined) found.push(`email.smtp.password (use ${FINDINGS_SECRET_SETTINGS['findings.email.smtp.password']})`);
  if (at(raw, 'slackWebhookUrl') !== undefined) found.push(`slackWebhookUrl (use ${FINDINGS_SECRET_SETTINGS['findings.slackWebhookUrl']})`);
  if (at(raw, 'teamsWebhookUrl') !== undefined) found.push(`teamsWebhookUrl (use ${FINDINGS_SECRET_SETTINGS['findings.teamsWebhookUrl']})`);
  return found;
}

/** FINDINGS_CONFIG: JSON of the non-secret `shipscan:findings` keys; unset means every default. */
export const FindingsConfigSetting = z
  .string()
  .optional()
  .transform((text, ctx): FindingsConfig => {
    let raw: unknown = {};
    if (text !== undefined) {
      try {
        raw = JSON.parse(text);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'JSON of the shipscan:findings config (without its secrets)' });
        return z.NEVER;
      }
    }
    const secrets = secretsInside(raw);
    if (secrets.length > 0) {
      // The values are not echoed: only where they are.
      ctx.addIssue({ code: 'custom', message: `holds secrets, which belong in Key Vault references: ${secrets.join(', ')}` });
      return z.NEVER;
    }
    const parsed = FindingsConfigSchema.safeParse(raw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) ctx.addIssue({ code: 'custom', message: `${issue.path.map(String).join('.') || '(root)'}: ${issue.message}` });
      return z.NEVER;
    }
    if (parsed.data.email && !parsed.data.email.smtp) {
      ctx.addIssue({ code: 'custom', message: 'email.smtp: on Azure email goes through an SMTP relay (the SES API serves AWS only); set findings.email.smtp' });
      return z.NEVER;
    }
    return parsed.data;
  });

/** The findings settings, secrets merged in (the webhook URLs are validated by their own settings). */
export function findingsSettings(
  config: FindingsConfig,
  secrets: { smtpUsername?: string; smtpPassword?: string; slackWebhookUrl?: string; teamsWebhookUrl?: string },
): FindingsSettings {
  const merged: FindingsConfig = {
    ...config,
    ...(secrets.slackWebhookUrl ? { slackWebhookUrl: secrets.slackWebhookUrl } : {}),
    ...(secrets.teamsWebhookUrl ? { teamsWebhookUrl: secrets.teamsWebhookUrl } : {}),
  };
  const out: FindingsSettings = { config: merged };
  if (secrets.smtpUsername && secrets.smtpPassword) out.smtpCredentials = { username: secrets.smtpUsername, password: secrets.smtpPassword };
  return out;
}
