import { z } from 'zod';
import { SEVERITIES } from '../severity';
import { AllowListsSchema } from '../rules/allow-lists';
import { SuppressionSchema } from './suppressions';

/**
 * `shipscan:findings`: what every capability that produces findings shares: who is told and when, which
 * risks are accepted (suppressions), what the rules treat as normal (allow-lists).
 */

const httpsUrl = z.url({ protocol: /^https$/, error: 'an https:// URL' });

export const SmtpConfigSchema = z.strictObject({
  host: z.string().min(1).describe('SMTP relay host name.'),
  port: z.number().int().min(1).max(65535).default(587).describe('SMTP port (587 STARTTLS, 465 implicit TLS).'),
  secure: z.boolean().default(false).describe('Implicit TLS (port 465); otherwise STARTTLS is required.'),
  username: z.string().min(1).optional().describe('(secret) SMTP user name.'),
  password: z.string().min(1).optional().describe('(secret) SMTP password; stored in Secrets Manager / Key Vault, never in settings.'),
});

export const EmailConfigSchema = z
  .strictObject({
    from: z.email().describe('Sender address (a verified SES identity on AWS).'),
    to: z.array(z.email()).min(1).describe('Recipients.'),
    sesConfigurationSet: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an SES configuration set name').optional().describe('AWS: SES configuration set to send with.'),
    smtp: SmtpConfigSchema.optional().describe('Send through this SMTP relay instead of the SES API (always on Azure).'),
  })
  .superRefine((email, ctx) => {
    if (email.smtp && Boolean(email.smtp.username) !== Boolean(email.smtp.password)) {
      ctx.addIssue({ code: 'custom', path: ['smtp', email.smtp.username ? 'password' : 'username'], message: 'username and password go together' });
    }
  });

export const FindingsConfigSchema = z.strictObject({
  severityThreshold: z.enum(SEVERITIES).default('HIGH').describe('Notify at once when a finding of this severity or worse opens or reopens.'),
  notifyOnResolve: z.boolean().default(false).describe('Also notify when such a finding is resolved.'),
  suppressions: z.array(SuppressionSchema).default([]).describe('Accepted risks: ruleId, resource pattern, reason, expiresAt.'),
  disabledRules: z.array(z.string().min(1)).default([]).describe('Rule ids that never run.'),
  allowLists: AllowListsSchema.default(() => AllowListsSchema.parse({})).describe('What the rules treat as normal.'),
  email: EmailConfigSchema.optional().describe('Email notifications (SES API on AWS, SMTP elsewhere).'),
  slackWebhookUrl: httpsUrl.optional().describe('(secret) Slack incoming webhook for findings.'),
  teamsWebhookUrl: httpsUrl.optional().describe('(secret) Teams incoming webhook (Workflows or connector) for findings.'),
});

export type FindingsConfig = z.infer<typeof FindingsConfigSchema>;
export type EmailConfig = z.infer<typeof EmailConfigSchema>;

/** Keys of this section that hold secrets (dotted, below `findings.`). */
export const FINDINGS_SECRET_KEYS = ['findings.email.smtp.username', 'findings.email.smtp.password', 'findings.slackWebhookUrl', 'findings.teamsWebhookUrl'] as const;
