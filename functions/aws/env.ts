import { z } from 'zod';
import { SEVERITIES } from '../../shared/severity';

/**
 * Environment of the two Lambda functions, validated once at cold start. The infrastructure sets
 * these; a wrong value stops the function at init with a message naming the variable.
 */

export class EnvError extends Error {
  override readonly name = 'EnvError';
  constructor(readonly problems: readonly { variable: string; message: string }[]) {
    super(`invalid function environment:\n${problems.map((p) => `  - ${p.variable}: ${p.message}`).join('\n')}`);
  }
}

/** A variable holding JSON, checked against `schema` (each issue reported with its path). */
export function jsonOf<T extends z.ZodType>(schema: T, what: string) {
  return z.string().transform((raw, ctx): z.infer<T> => {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      ctx.addIssue({ code: 'custom', message: `expected JSON (${what})` });
      return z.NEVER;
    }
    const parsed = schema.safeParse(value);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${issue.path.length ? `[${issue.path.join('.')}] ` : ''}${issue.message}` });
      }
      return z.NEVER;
    }
    return parsed.data;
  });
}

export const csv = z.string().transform((raw) => raw.split(',').map((part) => part.trim()).filter((part) => part.length > 0));

export const booleanFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'expected true or false' })
  .transform((flag) => flag === 'true' || flag === '1' || flag === 'yes');

export const positiveInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

export const SpokeRoleSchema = z.strictObject({
  accountId: z.string().regex(/^[0-9]{12}$/, 'a 12-digit account id'),
  roleArn: z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/.+$/, 'an IAM role ARN'),
  externalId: z.string().min(2),
});
export type SpokeRole = z.infer<typeof SpokeRoleSchema>;

export const spokeRoles = jsonOf(z.array(SpokeRoleSchema), 'an array of {accountId, roleArn, externalId}');

const regexList = jsonOf(
  z.array(z.string().min(1)).superRefine((patterns, ctx) => {
    patterns.forEach((pattern, index) => {
      try {
        new RegExp(pattern);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: [index], message: `not a regular expression (${(error as Error).message})` });
      }
    });
  }),
  'an array of regular expressions',
);

export const ScannerEnvSchema = z
  .object({
    RESULTS_BUCKET: z.string().min(3, 'an S3 bucket name'),
    CACHE_TABLE: z.string().min(3, 'a DynamoDB table name'),
    FINDINGS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]+:.+$/, 'an SNS topic ARN'),
    QUALYS_SECRET_ARN: z.string().min(1, 'a Secrets Manager secret ARN or name'),
    QUALYS_POD: z.string().min(2).optional(),
    QUALYS_GATEWAY: z.url({ protocol: /^https?$/ }).optional(),
    CACHE_TTL_DAYS: positiveInt(1, 365).default(30),
    /** Minutes a PARTIAL result is reused before it is scanned again. */
    PARTIAL_CACHE_TTL_MINUTES: positiveInt(1, 7 * 24 * 60).default(60),
    SEVERITY_THRESHOLD: z.enum(SEVERITIES).default('HIGH'),
    TAG_FUNCTIONS: booleanFlag.default(true),
    SELF_FUNCTION_NAMES: csv.default([]),
    SPOKE_ROLES: spokeRoles.default([]),
    /** Function names matching any of these are never scanned, by events or by the bulk scan. */
    EXCLUDE_PATTERNS: regexList.default([]),
    QSCANNER_PATH: z.string().min(1).default('/opt/qscanner/qscanner'),
    QSCANNER_CACHE_DIR: z.string().min(1).default('/tmp/qscanner-cache'),
    QSCANNER_SCAN_TYPES: csv.default(['pkg', 'secret']),
    QSCANNER_POLICY_TAGS: csv.default([]),
    /** Upper bound of one qscanner run; the remaining Lambda time lowers it further. */
    SCAN_TIMEOUT_SEC: positiveInt(1, 900).default(840),
    /** Bounded wait for State=Active / LastUpdateStatus=Successful. */
    READY_WAIT_SEC: positiveInt(0, 600).default(120),
    /** Seconds a record waits when the report is not ready (exit 40/41) or another scan holds the lock. */
    RETRY_DELAY_SEC: positiveInt(0, 43200).default(60),
    /** Lifetime of the in-flight lock; longer than one scan. */
    LOCK_TTL_SEC: positiveInt(30, 7200).default(960),
    METRICS_NAMESPACE: z.string().min(1).default('Shipscan'),
    POWERTOOLS_SERVICE_NAME: z.string().min(1).default('shipscan-scanner'),
    SCAN_QUEUE_URL: z.url().optional(),
    AWS_REGION: z.string().min(1, 'set by the Lambda runtime'),
  })
  .superRefine((env, ctx) => {
    if (!env.QUALYS_POD && !env.QUALYS_GATEWAY) ctx.addIssue({ code: 'custom', path: ['QUALYS_POD'], message: 'set QUALYS_POD or QUALYS_GATEWAY' });
  });
export type ScannerEnv = z.infer<typeof ScannerEnvSchema>;

export const BulkEnvSchema = z.object({
  SCAN_QUEUE_URL: z.url('the scan queue URL'),
  EXCLUDE_PATTERNS: regexList.default([]),
  SPOKE_ROLES: spokeRoles.default([]),
  REGIONS: csv.default([]),
  SELF_FUNCTION_NAMES: csv.default([]),
  BATCH_SIZE: positiveInt(10, 10000).default(100),
  MAX_WORKERS: positiveInt(1, 100).default(10),
  INVOCATION_DELAY_MS: positiveInt(0, 60000).default(100),
  POWERTOOLS_SERVICE_NAME: z.string().min(1).default('shipscan-bulk'),
  METRICS_NAMESPACE: z.string().min(1).default('Shipscan'),
  AWS_REGION: z.string().min(1, 'set by the Lambda runtime'),
});
export type BulkEnv = z.infer<typeof BulkEnvSchema>;

export function parseEnv<T extends z.ZodType>(schema: T, env: Readonly<Record<string, string | undefined>>): z.infer<T> {
  // Empty strings mean "unset" (infrastructure templates often render absent values that way).
  const present = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== undefined && value !== ''));
  const parsed = schema.safeParse(present);
  if (parsed.success) return parsed.data;
  throw new EnvError(parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '(environment)'), message: issue.message })));
}

export function loadScannerEnv(env: Readonly<Record<string, string | undefined>> = process.env): ScannerEnv {
  return parseEnv(ScannerEnvSchema, env);
}

export function loadBulkEnv(env: Readonly<Record<string, string | undefined>> = process.env): BulkEnv {
  return parseEnv(BulkEnvSchema, env);
}
