import { z } from 'zod';
import { SEVERITIES } from './severity';
import { FindingsConfigSchema, FINDINGS_SECRET_KEYS } from './findings/config';
import { INVENTORY_TYPES } from './rules/azure/resource-graph';
import { AZURE_REGISTRY } from './rules/azure/registry';

/**
 * The stack configuration (namespace `shipscan:`), one zod schema for validation, defaults and the
 * README's configuration reference. Structured keys are set with `pulumi config set --path`.
 * Secret keys are marked in their description with "(secret)" and must be set with `--secret`.
 */

const accountId = z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id');
const externalId = z
  .string()
  .regex(/^[\w+=,.@:/-]{2,1224}$/, '2-1224 characters of letters, digits and +=,.@:/-')
  // The program keeps it out of plain state when the stack marks it secret (set it with --secret).
  .describe('(secret) ExternalId the hub presents when it assumes the spoke role.');
const severity = z.enum(SEVERITIES);
/** An exact role ARN: the character set of IAM names and paths, so no `*` or `?` wildcard. */
const roleArn = z.string().regex(/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]{1,512}$/, 'an IAM role ARN without wildcards');

const bucketName = z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name');

export const ArtifactsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Scan new S3 objects (CloudTrail data events) and ECR pushes as they land (issue 16).'),
    buckets: z
      .strictObject({
        include: z.array(bucketName).default([]).describe('Only these buckets (empty: every bucket, which needs allBuckets).'),
        exclude: z.array(bucketName).default([]).describe('Never these buckets (the stack\'s own buckets are always excluded).'),
      })
      .default({ include: [], exclude: [] })
      .describe('Which buckets are read.'),
    allBuckets: z
      .boolean()
      .default(false)
      .describe('With an empty buckets.include: read objects in every bucket (s3:GetObject on arn:aws:s3:::*/* for the reader roles).'),
    prefixes: z
      .strictObject({
        include: z.array(z.string().min(1)).default([]).describe('Only keys under these prefixes (empty: every key).'),
        exclude: z.array(z.string().min(1)).default([]).describe('Never keys under these prefixes (recorded as skipped when they reach the scanner).'),
      })
      .default({ include: [], exclude: [] })
      .describe('Which keys are read.'),
    maxObjectMb: z.number().int().min(1).max(10240).default(512).describe('Objects larger than this are recorded as skipped, not read.'),
    excludedMimeTypes: z.array(z.string().regex(/^[a-z]+\/[\w.+-]+$/, 'a MIME type')).default([]).describe('Sniffed types (magic bytes) recorded as skipped, e.g. application/pdf.'),
    crossAccountRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name')
      .default('shipscan-object-reader')
      .describe('The object-reader role in other accounts (spokes and StackSet accounts).'),
    organizationUnitIds: z
      .array(z.string().regex(/^(ou-[a-z0-9]{4,32}-[a-z0-9]{8,32}|r-[a-z0-9]{4,32})$/, 'an OU id (ou-...) or the root id (r-...)'))
      .default([])
      .describe('hub mode: deploy the forwarders and reader roles to these OUs (or the root) with a service-managed StackSet.'),
    stackSetRegions: z.array(z.string().regex(/^[a-z]{2}(-[a-z]+)+-[0-9]$/, 'an AWS region')).default([]).describe('Regions of the StackSet instances (empty: the stack\'s region).'),
    createOrgTrail: z
      .boolean()
      .default(false)
      .describe('hub mode: create the organisation trail with S3 write data events (one org trail per organisation: reuse an existing one instead).'),
    ecrPushes: z.boolean().default(true).describe('Also scan images pushed to ECR (PUSH, SUCCESS) before anything deploys them.'),
    memoryMb: z.number().int().min(512).max(10240).default(2048).describe('Object scanner Lambda memory (MB).'),
    ephemeralMb: z.number().int().min(512).max(10240).default(4096).describe('Object scanner /tmp (MB): room for the object, its extraction and the scanner.'),
    maxConcurrency: z.number().int().min(2).max(1000).default(5).describe('Maximum concurrent object scans (SQS event source maximum concurrency).'),
    extractMaxMb: z.number().int().min(1).max(10240).default(2048).describe('Bytes extracted from one object in all (archive bombs stop here).'),
    extractMaxEntries: z.number().int().min(1).max(1000000).default(20000).describe('Archive entries read from one object in all.'),
    extractMaxRatio: z.number().int().min(2).max(100000).default(100).describe('Largest compression ratio accepted (per entry and overall, above 1 MiB).'),
    extractMaxDepth: z.number().int().min(0).max(10).default(3).describe('Archives inside archives are opened down to this depth.'),
  })
  .superRefine((a, ctx) => {
    if (!a.enabled) return;
    if (a.buckets.include.length === 0 && !a.allBuckets) {
      ctx.addIssue({ code: 'custom', path: ['buckets', 'include'], message: 'list the buckets to read, or set allBuckets true to read every bucket' });
    }
    if (a.maxObjectMb + a.extractMaxMb > a.ephemeralMb - 256) {
      ctx.addIssue({ code: 'custom', path: ['ephemeralMb'], message: `at least maxObjectMb + extractMaxMb + 256 (${a.maxObjectMb + a.extractMaxMb + 256}) MB: the object and its extraction share /tmp with the scanner` });
    }
  });
export const SecurityEventsConfigSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Deploy the security-events rule(s), queue and function (spokes: forward these events to the hub).'),
  maxConcurrency: z.number().int().min(2).max(1000).default(5).describe('Maximum concurrent security-events invocations (SQS event source maximum concurrency).'),
  memoryMb: z.number().int().min(128).max(10240).default(512).describe('Security-events Lambda memory (MB).'),
  timeoutSec: z.number().int().min(10).max(900).default(60).describe('Security-events Lambda timeout (seconds); the queue hides a message 6 times as long.'),
  maxReceiveCount: z.number().int().min(1).max(1000).default(5).describe('Deliveries of one event before it moves to the dead-letter queue.'),
});

export const AwsConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Deploy the AWS Lambda scanner.'),
    mode: z
      .enum(['standalone', 'hub', 'spoke'])
      .default('standalone')
      .describe('standalone: scan this account; hub: also receive spoke events; spoke: forward events to a hub.'),
    createTrail: z
      .boolean()
      .default(false)
      .describe('Create a multi-region CloudTrail trail (only when the account has none: EventBridge needs management events).'),
    qscannerLayerArn: z
      .string()
      .regex(/^arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:layer:[A-Za-z0-9_-]+:[0-9]+$/, 'a Lambda layer version ARN')
      .optional()
      .describe('ARN of a Lambda layer version holding the QScanner binary (one of qscannerLayerArn / qscannerZip).'),
    qscannerZip: z
      .string()
      .min(1)
      .optional()
      .describe('Path of a zip holding qscanner/qscanner, published as a layer (one of qscannerLayerArn / qscannerZip).'),
    scanOnConfigurationChange: z
      .boolean()
      .default(false)
      .describe('Also scan on UpdateFunctionConfiguration (layers change the code that runs).'),
    cacheTtlDays: z.number().int().min(1).max(365).default(30).describe('Days a scan result is reused for the same code.'),
    memoryMb: z.number().int().min(512).max(10240).default(2048).describe('Scanner Lambda memory (MB).'),
    timeoutSec: z.number().int().min(60).max(900).default(900).describe('Scanner Lambda timeout (seconds).'),
    ephemeralMb: z.number().int().min(512).max(10240).default(2048).describe('Scanner Lambda /tmp size (MB).'),
    maxConcurrency: z
      .number()
      .int()
      .min(2)
      .max(1000)
      .default(10)
      .describe('Maximum concurrent scanner invocations (SQS event source maximum concurrency).'),
    bulkSchedule: z
      .string()
      .regex(/^(rate|cron)\(.+\)$/, 'an EventBridge schedule expression such as rate(7 days) or cron(0 3 ? * SUN *)')
      .optional()
      .describe('Schedule for the bulk scan of existing functions; unset: manual only.'),
    excludePatterns: z
      .array(z.string().min(1))
      .default([])
      .describe('Regular expressions; functions whose names match are never scanned.'),
    hub: z
      .strictObject({
        accountId,
        eventBusArn: z.string().regex(/^arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus\/.+$/, 'an event bus ARN'),
        roleArns: z
          .array(roleArn)
          .min(1)
          .max(10)
          .optional()
          .describe("The hub's roles that may assume the spoke role, exactly (the hub stack's aws.spokeHub.roleArns output)."),
        externalId,
      })
      .optional()
      .describe("spoke mode: the hub account, its central event bus, its roles and the ExternalId it presents (the hub stack's aws.spokeHub output, plus externalId)."),
    spokes: z
      .array(
        z.strictObject({
          accountId,
          externalId,
          roleName: z.string().regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name').default('shipscan-spoke'),
        }),
      )
      .default([])
      .describe('hub mode: spoke accounts, the ExternalId each expects and the role to assume there.'),
    spokeRoleName: z
      .string()
      .regex(/^[\w+=,.@-]{1,64}$/, 'an IAM role name')
      .default('shipscan-spoke')
      .describe('spoke mode: name of the role the hub assumes here (the hub lists it as spokes[].roleName).'),
    organizationId: z
      .string()
      .regex(/^o-[a-z0-9]{10,32}$/, 'an AWS Organizations id such as o-abc123defg')
      .optional()
      .describe('hub mode: accept events from every account of this organization (aws:PrincipalOrgID).'),
    alertEmail: z.email().optional().describe('Subscribe this address to the findings topic.'),
    severityThreshold: severity.default('HIGH').describe('Notify when a scan finds this severity or worse.'),
    logRetentionDays: z
      .union([z.literal(1), z.literal(3), z.literal(5), z.literal(7), z.literal(14), z.literal(30), z.literal(60), z.literal(90), z.literal(120), z.literal(150), z.literal(180), z.literal(365), z.literal(400), z.literal(545), z.literal(731), z.literal(1096), z.literal(1827), z.literal(2192), z.literal(2557), z.literal(2922), z.literal(3288), z.literal(3653)], {
        error: 'one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653',
      })
      .default(90)
      .describe('CloudWatch Logs retention (days, one of the values CloudWatch accepts).'),
    resultRetentionDays: z.number().int().min(1).max(3650).default(365).describe('Days before stored results expire.'),
    accessLogging: z
      .boolean()
      .default(true)
      .describe(
        'S3 server access logs of the results and trail buckets, into a log bucket of the stack (SSE-S3: log delivery cannot write to SSE-KMS buckets), kept logRetentionDays.',
      ),
    tagFunctions: z.boolean().default(true).describe('Tag scanned functions with Shipscan* tags.'),
    artifacts: ArtifactsConfigSchema.default(() => ArtifactsConfigSchema.parse({})).describe('New-artifact scanning: S3 objects and ECR pushes.'),
    securityEvents: SecurityEventsConfigSchema.default(() => SecurityEventsConfigSchema.parse({})).describe(
      'Security-event detection: risky API calls (CloudTrail through EventBridge) become findings and notifications (shipscan:findings). IAM, STS and console sign-in events arrive in us-east-1 only.',
    ),
  })
  .superRefine((aws, ctx) => {
    const artifacts = aws.artifacts;
    if (aws.enabled && artifacts.enabled && (artifacts.organizationUnitIds.length > 0 || artifacts.createOrgTrail)) {
      if (aws.mode !== 'hub') ctx.addIssue({ code: 'custom', path: ['artifacts', 'organizationUnitIds'], message: 'organisation-wide forwarding (StackSet, org trail) is a hub-mode feature' });
      if (!aws.organizationId) ctx.addIssue({ code: 'custom', path: ['organizationId'], message: 'organisation-wide artifacts need organizationId (the bus policy and the reader roles are scoped to it)' });
    }
    if (aws.qscannerLayerArn && aws.qscannerZip) {
      ctx.addIssue({ code: 'custom', path: ['qscannerZip'], message: 'set only one of qscannerLayerArn and qscannerZip' });
    }
    if (aws.enabled && aws.mode !== 'spoke' && !aws.qscannerLayerArn && !aws.qscannerZip) {
      ctx.addIssue({ code: 'custom', path: ['qscannerLayerArn'], message: 'set qscannerLayerArn or qscannerZip (the QScanner binary from Qualys)' });
    }
    if (aws.enabled && aws.mode === 'spoke' && !aws.hub) {
      ctx.addIssue({ code: 'custom', path: ['hub'], message: 'spoke mode needs hub {accountId, eventBusArn, roleArns, externalId}' });
    }
    if (aws.enabled && aws.mode === 'spoke' && aws.hub && !aws.hub.roleArns) {
      ctx.addIssue({ code: 'custom', path: ['hub', 'roleArns'], message: "the spoke trusts exactly the hub's roles: set the hub stack's aws.spokeHub.roleArns output" });
    }
    for (const [index, arn] of (aws.hub?.roleArns ?? []).entries()) {
      if (arn.split(':')[4] !== aws.hub?.accountId) {
        ctx.addIssue({ code: 'custom', path: ['hub', 'roleArns', index], message: `a role of the hub account ${aws.hub?.accountId}` });
      }
    }
    if (aws.enabled && aws.mode === 'hub' && aws.spokes.length === 0 && !aws.organizationId) {
      ctx.addIssue({ code: 'custom', path: ['spokes'], message: 'hub mode needs spokes [{accountId, externalId, roleName}] or organizationId (who may send events)' });
    }
    if (aws.mode !== 'hub' && aws.spokes.length > 0) {
      ctx.addIssue({ code: 'custom', path: ['spokes'], message: 'spokes are only used in hub mode' });
    }
    for (const [index, pattern] of aws.excludePatterns.entries()) {
      try {
        new RegExp(pattern);
      } catch (error) {
        ctx.addIssue({ code: 'custom', path: ['excludePatterns', index], message: `not a valid regular expression (${(error as Error).message})` });
      }
    }
  });

export const QualysConfigSchema = z
  .strictObject({
    pod: z
      .enum(['US1', 'US2', 'US3', 'US4', 'EU1', 'EU2', 'EU3', 'CA1', 'IN1', 'AE1', 'UK1', 'AU1', 'KSA1'])
      .optional()
      .describe('Qualys platform (POD) name; one of pod / gateway.'),
    gateway: z.url({ protocol: /^https$/, error: 'an https:// URL' }).optional().describe('Qualys gateway URL (private cloud platforms); one of pod / gateway.'),
    accessToken: z.string().min(1).optional().describe('(secret) Qualys access token; or username + password.'),
    username: z.string().min(1).optional().describe('(secret) Qualys API user (Container Security API, Azure).'),
    password: z.string().min(1).optional().describe('(secret) Qualys API password.'),
  })
  .superRefine((q, ctx) => {
    if (!q.pod && !q.gateway) ctx.addIssue({ code: 'custom', path: ['pod'], message: 'set pod (e.g. US2) or gateway' });
    if (q.pod && q.gateway) ctx.addIssue({ code: 'custom', path: ['gateway'], message: 'set only one of pod and gateway' });
    if (!q.accessToken && !(q.username && q.password)) {
      ctx.addIssue({ code: 'custom', path: ['accessToken'], message: 'set accessToken, or username and password (as secrets)' });
    }
    if (Boolean(q.username) !== Boolean(q.password)) {
      ctx.addIssue({ code: 'custom', path: [q.username ? 'password' : 'username'], message: 'username and password go together' });
    }
  });

/**
 * An Azure Functions timer schedule: six NCRONTAB fields (second minute hour day month day-of-week). Flex
 * Consumption on Linux runs timers in UTC (WEBSITE_TIME_ZONE is not supported there).
 */
export const NCRONTAB_FIELD = /^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?)*$/;
const ncrontab = z
  .string()
  .refine((v) => {
    const fields = v.trim().split(/\s+/);
    return fields.length === 6 && fields.every((f) => NCRONTAB_FIELD.test(f));
  }, 'a six-field NCRONTAB expression in UTC (second minute hour day month day-of-week), such as 0 0 0 * * Sat');

const postureRuleIds = new Set(AZURE_REGISTRY.posture.map((r) => r.id));

export const AzureInventoryConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(false).describe('Scheduled Azure inventory (Resource Graph) and posture evaluation.'),
    subscriptions: z
      .array(z.uuid('a subscription id (GUID)'))
      .max(5000)
      .default([])
      .describe("Subscriptions to inventory (the Function App gets a read-only role on each); empty: the deployment's subscription."),
    inventorySchedule: ncrontab.default('0 0 0 * * Sat').describe('When the inventory runs (NCRONTAB, UTC; default weekly, Saturday 00:00).'),
    evaluationSchedule: ncrontab.default('0 0 4 * * *').describe('When the posture rules re-evaluate the stored inventory (NCRONTAB, UTC; default daily 04:00).'),
    types: z
      .array(z.enum(INVENTORY_TYPES))
      .min(1)
      .default([...INVENTORY_TYPES])
      .describe('Resource types to collect (lower-case ARM types); default every type an Azure posture rule reads.'),
    ruleScopes: z
      .array(
        z.strictObject({
          ruleId: z.string().min(1).describe('An Azure posture rule id, e.g. azure.storage.minimum-tls.'),
          subscriptions: z.array(z.uuid('a subscription id (GUID)')).optional().describe('Only resources of these subscriptions.'),
          tags: z.record(z.string(), z.string()).optional().describe('Only resources carrying all these tags (name: value).'),
        }),
      )
      .default([])
      .describe('Per-rule scope: a rule runs only on resources of these subscriptions and/or carrying all these tags.'),
  })
  .superRefine((inventory, ctx) => {
    inventory.ruleScopes.forEach((scope, index) => {
      if (!postureRuleIds.has(scope.ruleId)) {
        ctx.addIssue({ code: 'custom', path: ['ruleScopes', index, 'ruleId'], message: `an Azure posture rule id (${[...postureRuleIds].join(', ')})` });
      }
    });
  });
export const AzureSecurityEventsSchema = z.strictObject({
  enabled: z.boolean().default(true).describe('Deliver ARM security events to onSecurityEvent (a second event subscription, a queue, a read-only custom role).'),
});

export const AzureConfigSchema = z.strictObject({
  enabled: z.boolean().default(false).describe('Deploy the Azure container scanner.'),
  location: z.string().regex(/^[a-z0-9]+$/, 'an Azure region name such as westeurope').default('westeurope').describe('Azure region.'),
  resourceGroupName: z
    .string()
    .regex(/^[-\w._()]{1,90}$/, 'an existing resource group name')
    .optional()
    .describe('Deploy into this existing resource group instead of creating one.'),
  existingSystemTopicId: z
    .string()
    .regex(/^\/subscriptions\/[^/]+\/resourceGroups\/[^/]+\/providers\/Microsoft\.EventGrid\/systemTopics\/[^/]+$/i, 'a system topic resource id')
    .optional()
    .describe('Reuse this Microsoft.Resources.Subscriptions system topic (a subscription allows only one).'),
  cacheHours: z.number().int().min(0).max(720).default(24).describe('Hours a scan of the same image digest is reused.'),
  pollMinSec: z.number().int().min(5).max(3600).default(10).describe('Minimum seconds between two status checks of a scan.'),
  maxScanMinutes: z.number().int().min(1).max(1440).default(30).describe('Give up on a scan (TIMEOUT) after this many minutes.'),
  alertWebhookUrl: z.url({ protocol: /^https$/, error: 'an https:// URL' }).optional().describe('(secret) Teams or Slack incoming webhook for findings.'),
  severityThreshold: severity.default('HIGH').describe('Alert when a scan finds this severity or worse.'),
  alertEmail: z.email().optional().describe('Email the Azure Monitor alerts (failed scans, poison messages, dead-lettered events) to this address.'),
  resultRetentionDays: z.number().int().min(1).max(3650).default(365).describe('Days before stored results are deleted.'),
  logRetentionDays: z.number().int().min(30).max(730).default(90).describe('Log Analytics retention (days).'),
  acrResourceIds: z
    .array(z.string().regex(/^\/subscriptions\/.+\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i, 'a container registry resource id'))
    .default([])
    .describe('Registries the Function App may pull manifests from (AcrPull) to resolve tags to digests.'),
  inventory: AzureInventoryConfigSchema.default(() => AzureInventoryConfigSchema.parse({})).describe('Scheduled inventory through Azure Resource Graph and posture evaluation.'),
  securityEvents: AzureSecurityEventsSchema.default(() => AzureSecurityEventsSchema.parse({})).describe(
    'Security events: the system topic also delivers the ARM writes and deletes the Azure rules react to (NSGs, storage accounts, Key Vaults, role assignments, diagnostic settings, container groups and apps) to the security-events queue; onSecurityEvent reads each resource from ARM and records findings.',
  ),
});

export const StackConfigSchema = z.strictObject({
  aws: AwsConfigSchema.default(() => AwsConfigSchema.parse({})),
  azure: AzureConfigSchema.default(() => AzureConfigSchema.parse({})),
  qualys: QualysConfigSchema.optional(),
  findings: FindingsConfigSchema.default(() => FindingsConfigSchema.parse({})),
});

export type AwsConfig = z.infer<typeof AwsConfigSchema>;
export type ArtifactsConfig = z.infer<typeof ArtifactsConfigSchema>;
export type AzureConfig = z.infer<typeof AzureConfigSchema>;
export type AzureInventoryConfig = z.infer<typeof AzureInventoryConfigSchema>;
export type QualysConfig = z.infer<typeof QualysConfigSchema>;
export type StackConfig = z.infer<typeof StackConfigSchema>;
export type { FindingsConfig } from './findings/config';

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly { key: string; value: unknown; message: string }[]) {
    super(
      `invalid shipscan configuration:\n${problems
        .map((p) => `  - shipscan:${p.key} = ${p.value === undefined ? '(unset)' : JSON.stringify(p.value)}: ${p.message}`)
        .join('\n')}`,
    );
  }
}

/**
 * Keys whose values are secrets, as dotted paths; `*` stands for a list index. ExternalIds are
 * listed although AWS does not call them secrets: they gate cross-account access, so the stack may
 * keep them encrypted, and an error message must not print them either way.
 */
const SECRET_KEY_PATTERNS: readonly (readonly string[])[] = [
  'qualys.accessToken',
  'qualys.username',
  'qualys.password',
  'azure.alertWebhookUrl',
  'aws.hub.externalId',
  'aws.spokes.*.externalId',
  ...FINDINGS_SECRET_KEYS,
].map((pattern) => pattern.split('.'));

function segmentMatches(pattern: string, segment: string): boolean {
  return pattern === '*' ? /^[0-9]+$/.test(segment) : pattern === segment;
}

function pathMatches(pattern: readonly string[], path: readonly string[]): boolean {
  return pattern.length === path.length && pattern.every((step, index) => segmentMatches(step, path[index]!));
}

/** Secret keys are never echoed back in errors. */
export function isSecretKey(key: string): boolean {
  const path = key.split('.');
  return SECRET_KEY_PATTERNS.some((pattern) => pathMatches(pattern, path));
}

/** True when a secret key lives below `key` (so a plain value set there may itself be the secret). */
export function holdsSecretKeys(key: string): boolean {
  const path = key === '' ? [] : key.split('.');
  return SECRET_KEY_PATTERNS.some((pattern) => pattern.length > path.length && pathMatches(pattern.slice(0, path.length), path));
}

/** True when `parent` directly holds a secret key, so a misspelt sibling key may be that secret. */
function siblingOfSecret(parent: readonly string[]): boolean {
  return SECRET_KEY_PATTERNS.some((pattern) => pathMatches(pattern.slice(0, -1), parent));
}

const KNOWN_SECTIONS = new Set(Object.keys(StackConfigSchema.shape));

/** Replaces secret leaves, so a value shown in an error (even a whole object) never carries a secret. */
function redactSecrets(key: string, value: unknown): unknown {
  if (isSecretKey(key)) return value === undefined ? undefined : '[secret]';
  if (value === null || typeof value !== 'object') {
    if (value === undefined) return undefined;
    // A plain value outside the known sections, or where a section holding secrets belongs (e.g. a token set
    // as `shipscan:qualys`), may itself be a secret.
    const known = KNOWN_SECTIONS.has(key.split('.')[0]!);
    return known && !holdsSecretKeys(key) ? value : '[hidden]';
  }
  const prefix = key === '' ? '' : `${key}.`;
  if (Array.isArray(value)) return value.map((item, index) => redactSecrets(`${prefix}${index}`, item));
  return Object.fromEntries(Object.entries(value).map(([name, item]) => [name, redactSecrets(`${prefix}${name}`, item)]));
}

const SECTION_KEYS: Record<string, readonly string[]> = {
  '': Object.keys(StackConfigSchema.shape),
  aws: Object.keys(AwsConfigSchema.shape),
  'aws.artifacts': Object.keys(ArtifactsConfigSchema.shape),
  'aws.securityEvents': Object.keys(SecurityEventsConfigSchema.shape),
  azure: Object.keys(AzureConfigSchema.shape),
  'azure.inventory': Object.keys(AzureInventoryConfigSchema.shape),
  'azure.securityEvents': Object.keys(AzureSecurityEventsSchema.shape),
  qualys: Object.keys(QualysConfigSchema.shape),
  findings: Object.keys(FindingsConfigSchema.shape),
};

/** Edit distance, case-insensitive: a typo of a key is usually a letter or two, or its casing. */
function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  let previous = Array.from({ length: y.length + 1 }, (_, j) => j);
  for (let i = 1; i <= x.length; i++) {
    const current = [i];
    for (let j = 1; j <= y.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[y.length]!;
}

/** The allowed key closest to a misspelt one, when it is close enough to be what was meant. */
export function nearestKey(key: string, allowed: readonly string[]): string | undefined {
  const ranked = allowed.map((candidate) => ({ candidate, distance: editDistance(key, candidate) })).sort((a, b) => a.distance - b.distance);
  const best = ranked[0];
  return best && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.candidate : undefined;
}

function unknownKeyMessage(parent: readonly PropertyKey[], key: string): string {
  const parentPath = parent.map(String).join('.');
  const allowed = SECTION_KEYS[parentPath];
  if (!allowed) return 'unknown key';
  const nearest = nearestKey(key, allowed);
  const prefix = parentPath ? `shipscan:${parentPath}.` : 'shipscan:';
  // `pulumi config set shipscan:aws.enabled true` without --path stores a top-level key named "aws.enabled".
  const dotted = parent.length === 0 && key.includes('.') && allowed.includes(key.split('.')[0]!);
  const hint = dotted
    ? `; set nested keys with --path (pulumi config set --path ${prefix}${key} <value>).`
    : nearest
      ? `; did you mean ${prefix}${nearest}?`
      : ';';
  return `unknown key${hint} allowed: ${allowed.join(', ')}`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let here: unknown = root;
  for (const step of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<PropertyKey, unknown>)[step];
  }
  return here;
}

/**
 * Validates the raw `shipscan:` config (`{ aws?, azure?, qualys? }` as read from Pulumi) and applies
 * defaults. Qualys settings are required once either cloud is enabled.
 */
export function validateConfig(raw: unknown): StackConfig {
  const parsed = StackConfigSchema.safeParse(raw ?? {});
  const problems: { key: string; value: unknown; message: string }[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      if (issue.code === 'unrecognized_keys') {
        // Name each unknown key itself: echoing the parent object would also echo its secret leaves.
        for (const unknownKey of issue.keys) {
          const path = [...issue.path, unknownKey];
          const key = path.map(String).join('.');
          // Not shown next to secrets: a misspelt secret key (qualys.acessToken, aws.hub.externalID) would print it.
          const mayBeSecret = path.length === 1 || siblingOfSecret(issue.path.map(String));
          problems.push({ key, value: mayBeSecret ? '[hidden]' : redactSecrets(key, valueAt(raw, path)), message: unknownKeyMessage(issue.path, String(unknownKey)) });
        }
        continue;
      }
      const key = issue.path.map(String).join('.');
      problems.push({ key, value: redactSecrets(key, valueAt(raw, issue.path)), message: issue.message });
    }
    throw new ConfigError(problems);
  }
  const config = parsed.data;
  if ((config.aws.enabled && config.aws.mode !== 'spoke') || config.azure.enabled) {
    if (!config.qualys) problems.push({ key: 'qualys', value: undefined, message: 'set qualys.pod (or gateway) and credentials' });
  }
  if (config.azure.enabled && config.findings.email && !config.findings.email.smtp) {
    // The Function App sends email through a relay only: refused here rather than at every invocation.
    problems.push({ key: 'findings.email.smtp', value: undefined, message: 'on Azure email goes through an SMTP relay (the SES API serves AWS only); set findings.email.smtp.host (and its credentials)' });
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}
