import { z } from 'zod';
import { AWS_POSTURE_RULES } from '../rules/aws/posture/registry';
import { INVENTORY_SERVICES, DEFAULT_POSTURE_SETTINGS } from '../rules/aws/posture/types';

/**
 * `shipscan:aws.inventory`: the scheduled inventory of AWS resources and the posture evaluation over it
 * (seed 001: weekly inventory, daily policy scan, real-time updates). Off by default; the schedules are the
 * seed's (Saturday 00:00 and daily 04:00, UTC).
 */

/**
 * EventBridge Scheduler expressions: `cron(minutes hours day-of-month month day-of-week year)` (six fields,
 * one of the two day fields `?`) or `rate(<n> minute(s)|hour(s)|day(s))`.
 */
export const SCHEDULE_EXPRESSION = /^(cron\((\S+ ){5}\S+\)|rate\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\))$/;

const scheduleExpression = z
  .string()
  .regex(SCHEDULE_EXPRESSION, 'an EventBridge Scheduler expression such as cron(0 4 * * ? *) or rate(12 hours)')
  .refine((expression) => {
    if (!expression.startsWith('cron(')) return true;
    const fields = expression.slice(5, -1).split(' ');
    return (fields[2] === '?') !== (fields[4] === '?');
  }, 'a cron expression needs ? in exactly one of day-of-month and day-of-week');

const timezone = z.string().refine((zone) => {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}, 'an IANA time zone such as UTC or Europe/Paris');

const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/, 'an AWS region such as us-east-1');
const accountId = z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id');

export const RuleScopeSchema = z.strictObject({
  accounts: z.array(accountId).optional().describe('Only these accounts.'),
  tags: z.record(z.string().min(1), z.string()).optional().describe('Only resources carrying every one of these tags (value * for any value).'),
});

export const InventoryConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Inventory AWS resources on a schedule and evaluate the posture rules over them (hub/standalone); spoke mode: create the read-only role the hub inventories this account with.'),
  inventorySchedule: scheduleExpression.default('cron(0 0 ? * SAT *)').describe('When the full inventory runs (EventBridge Scheduler expression; default Saturday 00:00).'),
  evaluationSchedule: scheduleExpression.default('cron(0 4 * * ? *)').describe('When the posture rules are evaluated over the inventory (default daily 04:00).'),
  timezone: timezone.default('UTC').describe('Time zone of both schedules (IANA name).'),
  services: z.array(z.enum(INVENTORY_SERVICES)).min(1).default([...INVENTORY_SERVICES]).describe(`Services to inventory (${INVENTORY_SERVICES.join(', ')}).`),
  regions: z.array(region).default([]).describe('Regions to inventory in every account; empty: the stack region only. The first is where account-wide settings are read.'),
  ruleScopes: z.record(z.string().regex(/^aws\.[a-z0-9-]+\.[a-z0-9-]+$/, 'a rule id such as aws.s3.bucket-versioning-off'), RuleScopeSchema).default({}).describe('Per-rule scope: {<ruleId>: {accounts?, tags?}}.'),
  accessKeyMaxAgeDays: z.number().int().min(1).max(3650).default(DEFAULT_POSTURE_SETTINGS.accessKeyMaxAgeDays).describe('Active access keys older than this fail aws.iam.access-key-too-old.'),
  accessKeyUnusedDays: z.number().int().min(1).max(3650).default(DEFAULT_POSTURE_SETTINGS.accessKeyUnusedDays).describe('Active access keys unused this long fail aws.iam.access-key-unused.'),
  passwordMinLength: z.number().int().min(6).max(128).default(DEFAULT_POSTURE_SETTINGS.passwordMinLength).describe('Shortest password the account password policy may allow.'),
  passwordReusePrevention: z.number().int().min(1).max(24).default(DEFAULT_POSTURE_SETTINGS.passwordReusePrevention).describe('Previous passwords the password policy must refuse.'),
  maxConcurrency: z.number().int().min(2).max(1000).default(10).describe('Collector invocations at once (SQS event source maximum concurrency).'),
  spokeRoleName: z
    .string()
    .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name')
    .default('shipscan-inventory')
    .describe('The read-only role the inventory assumes in each spoke (spoke mode: its name here).'),
  runDeadlineHours: z.number().int().min(1).max(48).default(6).describe('A run whose shards have not all reported by then is incomplete (and deletes nothing).'),
}).superRefine((inventory, ctx) => {
  const known = new Set(AWS_POSTURE_RULES.map((rule) => rule.id));
  for (const ruleId of Object.keys(inventory.ruleScopes)) {
    if (!known.has(ruleId)) ctx.addIssue({ code: 'custom', path: ['ruleScopes', ruleId], message: `no AWS posture rule has this id (${[...known].slice(0, 3).join(', ')}...)` });
  }
  if (new Set(inventory.regions).size !== inventory.regions.length) ctx.addIssue({ code: 'custom', path: ['regions'], message: 'each region once' });
});

export type InventoryConfig = z.infer<typeof InventoryConfigSchema>;
export type RuleScopeConfig = z.infer<typeof RuleScopeSchema>;
