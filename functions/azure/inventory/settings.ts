import { z } from 'zod';
import { FindingsConfigSchema, type FindingsConfig } from '../../../shared/findings/config';
import { INVENTORY_TYPES } from '../../../shared/rules/azure/resource-graph';
import { NCRONTAB_FIELD } from '../../../shared/config';
import type { RuleScope } from './evaluate';

/**
 * App settings of the Azure inventory (azure/inventory.ts sets them from `shipscan:azure.inventory` and
 * `shipscan:findings`). Read beside the scanner's settings (settings.ts) and reported with them.
 */

export interface InventorySettings {
  enabled: boolean;
  /** Lower-case subscription ids to inventory. */
  subscriptions: string[];
  types: string[];
  ruleScopes: RuleScope[];
  /** NCRONTAB; the host reads them from the settings (`%INVENTORY_SCHEDULE%`), validated here too. */
  inventorySchedule: string;
  evaluationSchedule: string;
  queue: string;
  resourcesTable: string;
  runsTable: string;
  findingsTable: string;
  findingsIndexTable: string;
  /** `shipscan:findings` with its secrets filled in from their own (Key Vault reference) settings. */
  findings: FindingsConfig;
  smtpCredentials?: { username: string; password: string };
  /** Resource Graph endpoint other than management.azure.com (the local simulator). */
  resourceGraphEndpoint?: string;
}

export const INVENTORY_SECRET_SETTINGS = ['FINDINGS_SMTP_USERNAME', 'FINDINGS_SMTP_PASSWORD', 'FINDINGS_SLACK_WEBHOOK_URL', 'FINDINGS_TEAMS_WEBHOOK_URL'] as const;

const schedule = z
  .string()
  .refine((v) => {
    const fields = v.trim().split(/\s+/);
    return fields.length === 6 && fields.every((f) => NCRONTAB_FIELD.test(f));
  }, 'a six-field NCRONTAB expression (second minute hour day month day-of-week)');
const commaList = z.string().transform((v) => v.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
const json = <T extends z.ZodType>(schema: T) =>
  z.string().transform((text, ctx) => {
    try {
      return schema.parse(JSON.parse(text)) as z.infer<T>;
    } catch (error) {
      ctx.addIssue({ code: 'custom', message: `JSON that does not fit: ${error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ') : (error as Error).message}` });
      return z.NEVER;
    }
  });
const tableName = z.string().regex(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'a table name');
const queueName = z.string().regex(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'a queue name');

const RuleScopeSchema = z.strictObject({
  ruleId: z.string().min(1),
  subscriptions: z.array(z.string().min(1)).optional(),
  tags: z.record(z.string(), z.string()).optional(),
});

const EnvSchema = z.object({
  INVENTORY_ENABLED: z.enum(['true', 'false']).default('false'),
  INVENTORY_SUBSCRIPTIONS: commaList.pipe(z.array(z.uuid('a subscription id'))).optional(),
  AZURE_SUBSCRIPTION_ID: z.uuid().optional(),
  INVENTORY_TYPES: commaList.pipe(z.array(z.enum(INVENTORY_TYPES))).optional(),
  INVENTORY_RULE_SCOPES: json(z.array(RuleScopeSchema)).optional(),
  INVENTORY_SCHEDULE: schedule.default('0 0 0 * * Sat'),
  EVALUATION_SCHEDULE: schedule.default('0 0 4 * * *'),
  INVENTORY_QUEUE: queueName.default('inventory-requests'),
  RESOURCES_TABLE: tableName.default('Resources'),
  INVENTORY_RUNS_TABLE: tableName.default('InventoryRuns'),
  FINDINGS_TABLE: tableName.default('Findings'),
  FINDINGS_INDEX_TABLE: tableName.default('FindingsByState'),
  FINDINGS_CONFIG: json(FindingsConfigSchema).optional(),
  FINDINGS_SMTP_USERNAME: z.string().min(1).optional(),
  FINDINGS_SMTP_PASSWORD: z.string().min(1).optional(),
  FINDINGS_SLACK_WEBHOOK_URL: z.url().optional(),
  FINDINGS_TEAMS_WEBHOOK_URL: z.url().optional(),
  RESOURCE_GRAPH_ENDPOINT: z.url().optional(),
});

export function loadInventorySettings(env: Readonly<Record<string, string | undefined>>): { settings?: InventorySettings; problems: { setting: string; message: string }[] } {
  const parsed = EnvSchema.safeParse(env);
  // Cross-setting rules on the raw values, so they are reported together with the per-setting ones.
  const problems: { setting: string; message: string }[] = [];
  if (Boolean(env.FINDINGS_SMTP_USERNAME) !== Boolean(env.FINDINGS_SMTP_PASSWORD)) problems.push({ setting: env.FINDINGS_SMTP_USERNAME ? 'FINDINGS_SMTP_PASSWORD' : 'FINDINGS_SMTP_USERNAME', message: 'FINDINGS_SMTP_USERNAME and FINDINGS_SMTP_PASSWORD go together' });
  if (!parsed.success) {
    return { problems: [...parsed.error.issues.map((issue) => ({ setting: issue.path.map(String).join('.') || '(settings)', message: issue.message })), ...problems] };
  }
  const e = parsed.data;
  const enabled = e.INVENTORY_ENABLED === 'true';
  const subscriptions = [...new Set(e.INVENTORY_SUBSCRIPTIONS ?? (e.AZURE_SUBSCRIPTION_ID ? [e.AZURE_SUBSCRIPTION_ID.toLowerCase()] : []))];
  if (enabled && subscriptions.length === 0) problems.push({ setting: 'INVENTORY_SUBSCRIPTIONS', message: 'set the subscriptions to inventory (or AZURE_SUBSCRIPTION_ID)' });
  const findings: FindingsConfig = {
    ...(e.FINDINGS_CONFIG ?? FindingsConfigSchema.parse({})),
    ...(e.FINDINGS_SLACK_WEBHOOK_URL ? { slackWebhookUrl: e.FINDINGS_SLACK_WEBHOOK_URL } : {}),
    ...(e.FINDINGS_TEAMS_WEBHOOK_URL ? { teamsWebhookUrl: e.FINDINGS_TEAMS_WEBHOOK_URL } : {}),
  };
  if (problems.length > 0) return { problems };
  return {
    problems,
    settings: {
      enabled,
      subscriptions,
      types: [...new Set(e.INVENTORY_TYPES ?? [...INVENTORY_TYPES])],
      ruleScopes: (e.INVENTORY_RULE_SCOPES ?? []).map((s) => ({ ...s, ...(s.subscriptions ? { subscriptions: s.subscriptions.map((x) => x.toLowerCase()) } : {}) })),
      inventorySchedule: e.INVENTORY_SCHEDULE,
      evaluationSchedule: e.EVALUATION_SCHEDULE,
      queue: e.INVENTORY_QUEUE,
      resourcesTable: e.RESOURCES_TABLE,
      runsTable: e.INVENTORY_RUNS_TABLE,
      findingsTable: e.FINDINGS_TABLE,
      findingsIndexTable: e.FINDINGS_INDEX_TABLE,
      findings,
      ...(e.FINDINGS_SMTP_USERNAME && e.FINDINGS_SMTP_PASSWORD ? { smtpCredentials: { username: e.FINDINGS_SMTP_USERNAME, password: e.FINDINGS_SMTP_PASSWORD } } : {}),
      ...(e.RESOURCE_GRAPH_ENDPOINT ? { resourceGraphEndpoint: e.RESOURCE_GRAPH_ENDPOINT.replace(/\/+$/, '') } : {}),
    },
  };
}
