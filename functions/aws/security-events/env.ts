import { z } from 'zod';
import type { FindingsConfig } from '../../../shared/findings/config';
import { parseNotifySettings } from '../../../shared/findings/notify-secrets';
import { parseEnv } from '../env';

/**
 * Environment of the security-events function, validated once at cold start (a wrong value stops the
 * function at init, naming the variable). It never holds a secret: SMTP credentials and webhook URLs are in
 * the notify secret (NOTIFY_SECRET_ARN), read on the first record.
 */

export const SECURITY_EVENTS_SERVICE_NAME = 'shipscan-security-events';
export const UNPROCESSABLE_PREFIX = 'security-events/unprocessable';

/** `shipscan:findings` without its secret leaves, as JSON (aws/security-events.ts writes it). */
const findingsSettings = z.string().transform((raw, ctx): FindingsConfig => {
  try {
    return parseNotifySettings(JSON.parse(raw));
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `expected the findings settings as JSON (${(error as Error).message.slice(0, 300)})` });
    return z.NEVER;
  }
});

export const SecurityEventsEnvSchema = z.object({
  FINDINGS_TABLE: z.string().min(3, 'a DynamoDB table name'),
  FINDINGS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]+:.+$/, 'an SNS topic ARN'),
  /** Where unprocessable events are recorded (under UNPROCESSABLE_PREFIX). */
  RESULTS_BUCKET: z.string().min(3, 'an S3 bucket name'),
  FINDINGS_SETTINGS: findingsSettings.optional(),
  /** The notify secret: SMTP credentials and webhook URLs, when the stack configures any. */
  NOTIFY_SECRET_ARN: z.string().min(1, 'a Secrets Manager secret ARN or name').optional(),
  UNPROCESSABLE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/, 'a key prefix without leading or trailing slash')
    .default(UNPROCESSABLE_PREFIX),
  METRICS_NAMESPACE: z.string().min(1).default('Shipscan'),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default(SECURITY_EVENTS_SERVICE_NAME),
  AWS_REGION: z.string().min(1, 'set by the Lambda runtime'),
});
export type SecurityEventsEnv = z.infer<typeof SecurityEventsEnvSchema>;

export function loadSecurityEventsEnv(env: Readonly<Record<string, string | undefined>> = process.env): SecurityEventsEnv {
  return parseEnv(SecurityEventsEnvSchema, env);
}
