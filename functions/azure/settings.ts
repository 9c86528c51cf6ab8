import { z } from 'zod';
import { SEVERITIES } from '../../shared/severity';
import { QUALYS_GATEWAYS, type QualysPod } from '../../shared/qualys/gateway';
import { INVENTORY_SECRET_SETTINGS, loadInventorySettings, type InventorySettings } from './inventory/settings';
import { FINDINGS_INDEX_TABLE, FINDINGS_TABLE } from '../../shared/findings/tables';
import { FindingsConfigSetting, findingsSettings, type FindingsSettings } from './findings-settings';

/**
 * App settings of the Function App, validated once at startup. The infrastructure sets exactly these
 * names; locally `AzureWebJobsStorage` holds an Azurite connection string instead of the identity-based
 * `AzureWebJobsStorage__accountName`.
 */

const SECRET_SETTINGS = new Set([
  'QUALYS_ACCESS_TOKEN',
  'QUALYS_USERNAME',
  'QUALYS_PASSWORD',
  'ALERT_WEBHOOK_URL',
  'AzureWebJobsStorage',
  'APPLICATIONINSIGHTS_CONNECTION_STRING',
  'FINDINGS_SMTP_USERNAME',
  'FINDINGS_SMTP_PASSWORD',
  'FINDINGS_SLACK_WEBHOOK_URL',
  'FINDINGS_TEAMS_WEBHOOK_URL',
  // Not a secret by design, but a misplaced one would be echoed with it; its problems name the key inside.
  'FINDINGS_CONFIG',
  ...INVENTORY_SECRET_SETTINGS,
]);

/** A Key Vault reference the platform could not resolve stays in the setting as literal text. */
const UNRESOLVED_KV_REFERENCE = /^@Microsoft\.KeyVault\(/i;

const name = (pattern: RegExp, what: string) => z.string().regex(pattern, what);
const containerName = name(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'a blob container name (3-63 lowercase letters, digits, single hyphens)');
const queueName = name(/^(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/, 'a queue name (3-63 lowercase letters, digits, single hyphens)');
const tableName = name(/^[A-Za-z][A-Za-z0-9]{2,62}$/, 'a table name (3-63 letters and digits, starting with a letter)');
const intSetting = (min: number, max: number, fallback: number) =>
  z.coerce.number().int(`a whole number`).min(min).max(max).default(fallback);
const secretText = z
  .string()
  .min(1)
  .refine((v) => !UNRESOLVED_KV_REFERENCE.test(v), {
    message: 'is an unresolved Key Vault reference: give the app identity "Key Vault Secrets User" on the vault and check the secret name',
  });
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);
/** https everywhere; plain http only on loopback (Azurite, the simulators and stubs of local runs). */
const httpsUrl = z
  .url({ protocol: /^https?$/, message: 'an https URL' })
  .refine((u) => u.startsWith('https:') || isLoopbackUrl(u), { message: 'an https URL (plain http only on loopback)' });

function isLoopbackUrl(u: string): boolean {
  try {
    return LOOPBACK.has(new URL(u).hostname);
  } catch {
    return false;
  }
}

const EnvSchema = z
  .object({
    AzureWebJobsStorage: z.string().min(1).optional(),
    AzureWebJobsStorage__accountName: name(/^[a-z0-9]{3,24}$/, 'a storage account name (3-24 lowercase letters and digits)').optional(),
    AzureWebJobsStorage__blobServiceUri: httpsUrl.optional(),
    AzureWebJobsStorage__queueServiceUri: httpsUrl.optional(),
    AzureWebJobsStorage__tableServiceUri: httpsUrl.optional(),
    RESULTS_CONTAINER: containerName.default('scan-results'),
    DEADLETTER_CONTAINER: containerName.default('deadletter'),
    SCAN_TABLE: tableName.default('ScanMetadata'),
    LOCK_TABLE: tableName.default('ScanLocks'),
    DEDUPE_TABLE: tableName.default('EventDedupe'),
    DEPLOYMENTS_QUEUE: queueName.default('deployments'),
    POLLS_QUEUE: queueName.default('scan-polls'),
    FINDINGS_TABLE: tableName.default(FINDINGS_TABLE),
    FINDINGS_INDEX_TABLE: tableName.default(FINDINGS_INDEX_TABLE),
    SECURITY_EVENTS_QUEUE: queueName.default('security-events'),
    /** `false` when the stack sets azure.securityEvents.enabled false: onSecurityEvent is not registered. */
    SECURITY_EVENTS_ENABLED: z
      .enum(['true', 'false'], { message: 'true or false' })
      .default('true')
      .transform((v) => v === 'true'),
    FINDINGS_CONFIG: FindingsConfigSetting,
    FINDINGS_SMTP_USERNAME: secretText.optional(),
    FINDINGS_SMTP_PASSWORD: secretText.optional(),
    FINDINGS_SLACK_WEBHOOK_URL: secretText.pipe(httpsUrl).optional(),
    FINDINGS_TEAMS_WEBHOOK_URL: secretText.pipe(httpsUrl).optional(),
    QUALYS_POD: z.enum(Object.keys(QUALYS_GATEWAYS) as [QualysPod, ...QualysPod[]]).optional(),
    QUALYS_GATEWAY: httpsUrl.optional(),
    QUALYS_ACCESS_TOKEN: secretText.optional(),
    QUALYS_USERNAME: secretText.optional(),
    QUALYS_PASSWORD: secretText.optional(),
    KEY_VAULT_URL: httpsUrl.optional(),
    CACHE_HOURS: intSetting(0, 720, 24),
    POLL_MIN_SEC: intSetting(1, 3600, 10),
    MAX_SCAN_MINUTES: intSetting(1, 1440, 30),
    SEVERITY_THRESHOLD: z.enum(SEVERITIES).default('HIGH'),
    ALERT_WEBHOOK_URL: secretText.pipe(httpsUrl).optional(),
    APPLICATIONINSIGHTS_CONNECTION_STRING: z.string().min(1).optional(),
    ARM_ENDPOINT: httpsUrl.optional(),
    AZURE_SUBSCRIPTION_ID: z.uuid().optional(),
    /** Local runs only: JSON map registry host -> base URL of a registry stub, e.g. {"docker.io":"http://127.0.0.1:5000"}; key "*" answers for every other registry. */
    REGISTRY_ENDPOINTS: z
      .string()
      .optional()
      .transform((text, ctx) => {
        if (!text) return {} as Record<string, string>;
        try {
          return z.record(z.string(), httpsUrl).parse(JSON.parse(text));
        } catch {
          ctx.addIssue({ code: 'custom', message: 'a JSON object of registry host -> URL' });
          return z.NEVER;
        }
      }),
  });

/** Cross-setting rules, checked on the raw values so they are reported together with the per-setting ones. */
function crossProblems(env: Record<string, string | undefined>): { setting: string; message: string }[] {
  const out: { setting: string; message: string }[] = [];
  if (!env.AzureWebJobsStorage && !env.AzureWebJobsStorage__accountName) {
    out.push({ setting: 'AzureWebJobsStorage__accountName', message: 'set AzureWebJobsStorage__accountName (identity-based) or AzureWebJobsStorage (connection string, local runs)' });
  }
  if (!env.QUALYS_POD && !env.QUALYS_GATEWAY) {
    out.push({ setting: 'QUALYS_POD', message: `set QUALYS_POD (one of ${Object.keys(QUALYS_GATEWAYS).join(', ')}) or QUALYS_GATEWAY` });
  }
  if (Boolean(env.FINDINGS_SMTP_USERNAME) !== Boolean(env.FINDINGS_SMTP_PASSWORD)) {
    out.push({ setting: env.FINDINGS_SMTP_USERNAME ? 'FINDINGS_SMTP_PASSWORD' : 'FINDINGS_SMTP_USERNAME', message: 'FINDINGS_SMTP_USERNAME and FINDINGS_SMTP_PASSWORD go together' });
  }
  if (env.QUALYS_POD && env.QUALYS_GATEWAY) out.push({ setting: 'QUALYS_GATEWAY', message: 'set only one of QUALYS_POD and QUALYS_GATEWAY' });
  if (Boolean(env.QUALYS_USERNAME) !== Boolean(env.QUALYS_PASSWORD)) {
    out.push({ setting: env.QUALYS_USERNAME ? 'QUALYS_PASSWORD' : 'QUALYS_USERNAME', message: 'QUALYS_USERNAME and QUALYS_PASSWORD go together' });
  }
  if (!env.QUALYS_ACCESS_TOKEN && !env.QUALYS_USERNAME && !env.KEY_VAULT_URL) {
    out.push({ setting: 'QUALYS_ACCESS_TOKEN', message: 'set QUALYS_ACCESS_TOKEN, QUALYS_USERNAME + QUALYS_PASSWORD, or KEY_VAULT_URL (secrets qualys-access-token or qualys-username/qualys-password)' });
  }
  return out;
}

export type QualysCredentialSource =
  | { kind: 'token'; accessToken: string }
  | { kind: 'password'; username: string; password: string }
  | { kind: 'key-vault'; vaultUrl: string };

export interface AppSettings {
  storage: { connectionString?: string; accountName?: string; blobUrl?: string; queueUrl?: string; tableUrl?: string };
  resultsContainer: string;
  deadLetterContainer: string;
  scanTable: string;
  lockTable: string;
  dedupeTable: string;
  deploymentsQueue: string;
  pollsQueue: string;
  /** Findings store (functions/azure/findings-store.ts). */
  findingsTable: string;
  findingsIndexTable: string;
  /** ARM events of the security-event subscriptions (onSecurityEvent). */
  securityEventsQueue: string;
  securityEvents: { enabled: boolean };
  findings: FindingsSettings;
  qualys: { gateway: string; pod?: string; credentials: QualysCredentialSource };
  cacheHours: number;
  pollMinSec: number;
  maxScanMinutes: number;
  severityThreshold: (typeof SEVERITIES)[number];
  alertWebhookUrl?: string;
  appInsightsConnectionString?: string;
  armEndpoint?: string;
  subscriptionId?: string;
  registryEndpoints: Record<string, string>;
  /** The Azure inventory (Resource Graph) and posture evaluation; its functions exist only when enabled. */
  inventory: InventorySettings;
}

export class SettingsError extends Error {
  override readonly name = 'SettingsError';
  constructor(readonly problems: readonly { setting: string; message: string }[]) {
    super(`invalid Function App settings:\n${problems.map((p) => `  - ${p.setting}: ${p.message}`).join('\n')}`);
  }
}

/** Parses the app settings; the error names every bad setting and never echoes a secret value. */
export function loadSettings(env: Readonly<Record<string, string | undefined>>): AppSettings {
  // Empty strings mean "unset" for app settings (the portal and Pulumi both write them).
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  const cross = crossProblems(cleaned);
  const inventory = loadInventorySettings(cleaned);
  cross.push(...inventory.problems.map((p) => ({ ...p, message: SECRET_SETTINGS.has(p.setting) || cleaned[p.setting] === undefined ? p.message : `${p.message} (got ${JSON.stringify(cleaned[p.setting]!.slice(0, 100))})` })));
  if (!parsed.success || cross.length > 0 || !inventory.settings) {
    throw new SettingsError([
      ...(parsed.success ? [] : parsed.error.issues).map((issue) => {
        const setting = issue.path.map(String).join('.') || '(settings)';
        const value = cleaned[setting];
        const shown = value === undefined || SECRET_SETTINGS.has(setting) ? '' : ` (got ${JSON.stringify(value.length > 100 ? `${value.slice(0, 100)}...` : value)})`;
        return { setting, message: `${issue.message}${shown}` };
      }),
      ...cross,
    ]);
  }
  const e = parsed.data;
  const credentials: QualysCredentialSource = e.QUALYS_ACCESS_TOKEN
    ? { kind: 'token', accessToken: e.QUALYS_ACCESS_TOKEN }
    : e.QUALYS_USERNAME && e.QUALYS_PASSWORD
      ? { kind: 'password', username: e.QUALYS_USERNAME, password: e.QUALYS_PASSWORD }
      : { kind: 'key-vault', vaultUrl: e.KEY_VAULT_URL as string };
  return {
    storage: {
      connectionString: e.AzureWebJobsStorage,
      accountName: e.AzureWebJobsStorage__accountName,
      blobUrl: e.AzureWebJobsStorage__blobServiceUri,
      queueUrl: e.AzureWebJobsStorage__queueServiceUri,
      tableUrl: e.AzureWebJobsStorage__tableServiceUri,
    },
    resultsContainer: e.RESULTS_CONTAINER,
    deadLetterContainer: e.DEADLETTER_CONTAINER,
    scanTable: e.SCAN_TABLE,
    lockTable: e.LOCK_TABLE,
    dedupeTable: e.DEDUPE_TABLE,
    deploymentsQueue: e.DEPLOYMENTS_QUEUE,
    pollsQueue: e.POLLS_QUEUE,
    findingsTable: e.FINDINGS_TABLE,
    findingsIndexTable: e.FINDINGS_INDEX_TABLE,
    securityEventsQueue: e.SECURITY_EVENTS_QUEUE,
    securityEvents: { enabled: e.SECURITY_EVENTS_ENABLED },
    findings: findingsSettings(e.FINDINGS_CONFIG, {
      smtpUsername: e.FINDINGS_SMTP_USERNAME,
      smtpPassword: e.FINDINGS_SMTP_PASSWORD,
      slackWebhookUrl: e.FINDINGS_SLACK_WEBHOOK_URL,
      teamsWebhookUrl: e.FINDINGS_TEAMS_WEBHOOK_URL,
    }),
    qualys: {
      gateway: (e.QUALYS_GATEWAY ?? QUALYS_GATEWAYS[e.QUALYS_POD as QualysPod]).replace(/\/+$/, ''),
      pod: e.QUALYS_POD,
      credentials,
    },
    cacheHours: e.CACHE_HOURS,
    pollMinSec: e.POLL_MIN_SEC,
    maxScanMinutes: e.MAX_SCAN_MINUTES,
    severityThreshold: e.SEVERITY_THRESHOLD,
    alertWebhookUrl: e.ALERT_WEBHOOK_URL,
    appInsightsConnectionString: e.APPLICATIONINSIGHTS_CONNECTION_STRING,
    armEndpoint: e.ARM_ENDPOINT?.replace(/\/+$/, ''),
    subscriptionId: e.AZURE_SUBSCRIPTION_ID,
    registryEndpoints: e.REGISTRY_ENDPOINTS,
    inventory: inventory.settings,
  };
}

/** Values that must never reach a log line: the log redactor is seeded with these. */
export function secretValues(settings: AppSettings): string[] {
  const out: string[] = [];
  const c = settings.qualys.credentials;
  if (c.kind === 'token') out.push(c.accessToken);
  if (c.kind === 'password') out.push(c.username, c.password);
  if (settings.alertWebhookUrl) out.push(settings.alertWebhookUrl);
  const f = settings.findings;
  if (f.smtpCredentials) out.push(f.smtpCredentials.username, f.smtpCredentials.password);
  if (f.config.slackWebhookUrl) out.push(f.config.slackWebhookUrl);
  if (f.config.teamsWebhookUrl) out.push(f.config.teamsWebhookUrl);
  if (settings.storage.connectionString) {
    const key = /AccountKey=([^;]+)/i.exec(settings.storage.connectionString)?.[1];
    if (key) out.push(key);
  }
  return out;
}
