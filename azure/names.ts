import { FINDINGS_INDEX_TABLE, FINDINGS_TABLE } from '../shared/findings/tables';
import { INVENTORY_TYPE_TABLE } from '../shared/rules/azure/resource-graph';

/**
 * Names shared between the Azure infrastructure and the Functions runtime. The runtime reads the
 * app settings below; the values are the storage objects this stack creates.
 */

export const RESULTS_CONTAINER = 'scan-results';
export const DEADLETTER_CONTAINER = 'deadletter';
/** Flex Consumption reads the app package from this container. */
export const PACKAGE_CONTAINER = 'app-package';
/** The blob name OneDeploy uses for Flex Consumption packages; uploading under it keeps both paths interchangeable. */
export const PACKAGE_BLOB = 'released-package.zip';
/** The Pulumi type of the Entra ID package upload (azure/function-package.ts). */
export const PACKAGE_UPLOAD_TYPE = 'pulumi-nodejs:dynamic/shipscan:FunctionPackage';

export const SCAN_TABLE = 'ScanMetadata';
export const LOCK_TABLE = 'ScanLocks';
export const DEDUPE_TABLE = 'EventDedupe';
export { FINDINGS_INDEX_TABLE, FINDINGS_TABLE };
/** The Azure inventory: one row per collected resource, and one per inventory or evaluation run. */
export const RESOURCES_TABLE = 'Resources';
export const INVENTORY_RUNS_TABLE = 'InventoryRuns';

export const DEPLOYMENTS_QUEUE = 'deployments';
export const POLLS_QUEUE = 'scan-polls';
/** ARM events of the security-event subscriptions (onSecurityEvent), when azure.securityEvents is enabled. */
export const SECURITY_EVENTS_QUEUE = 'security-events';
/** Manual inventory and evaluation requests (`{"service":"all"}`, `{"ruleId":"..."}`...). */
export const INVENTORY_QUEUE = 'inventory-requests';
/** The Functions host moves a message here after maxDequeueCount failures (created ahead so alerts can watch it). */
export const poisonQueueName = (queue: string): string => `${queue}-poison`;

export const BLOB_CONTAINERS = [RESULTS_CONTAINER, DEADLETTER_CONTAINER] as const;
export const TABLES = [SCAN_TABLE, LOCK_TABLE, DEDUPE_TABLE, FINDINGS_TABLE, FINDINGS_INDEX_TABLE] as const;
export const QUEUES = [DEPLOYMENTS_QUEUE, POLLS_QUEUE, poisonQueueName(DEPLOYMENTS_QUEUE), poisonQueueName(POLLS_QUEUE)] as const;
/** Created with azure.securityEvents enabled (the default). */
export const SECURITY_EVENTS_QUEUES = [SECURITY_EVENTS_QUEUE, poisonQueueName(SECURITY_EVENTS_QUEUE)] as const;
/** Created only with `azure.inventory.enabled` (azure/inventory.ts); the findings tables are always there (TABLES). */
export const INVENTORY_TABLES = [RESOURCES_TABLE, INVENTORY_RUNS_TABLE] as const;
export const INVENTORY_QUEUES = [INVENTORY_QUEUE, poisonQueueName(INVENTORY_QUEUE)] as const;

/** Key Vault secret names, one per secret config key. */
export const SECRET_NAMES = {
  qualysAccessToken: 'qualys-access-token',
  qualysUsername: 'qualys-username',
  qualysPassword: 'qualys-password',
  alertWebhookUrl: 'alert-webhook-url',
  findingsSmtpUsername: 'findings-smtp-username',
  findingsSmtpPassword: 'findings-smtp-password',
  findingsSlackWebhookUrl: 'findings-slack-webhook-url',
  findingsTeamsWebhookUrl: 'findings-teams-webhook-url',
} as const;

/** App settings the runtime reads (agreed with functions/azure). */
export const APP_SETTINGS = {
  storageAccountName: 'AzureWebJobsStorage__accountName',
  storageCredential: 'AzureWebJobsStorage__credential',
  resultsContainer: 'RESULTS_CONTAINER',
  deadletterContainer: 'DEADLETTER_CONTAINER',
  scanTable: 'SCAN_TABLE',
  lockTable: 'LOCK_TABLE',
  dedupeTable: 'DEDUPE_TABLE',
  deploymentsQueue: 'DEPLOYMENTS_QUEUE',
  pollsQueue: 'POLLS_QUEUE',
  findingsTable: 'FINDINGS_TABLE',
  findingsIndexTable: 'FINDINGS_INDEX_TABLE',
  securityEventsQueue: 'SECURITY_EVENTS_QUEUE',
  securityEventsEnabled: 'SECURITY_EVENTS_ENABLED',
  /** The non-secret `shipscan:findings` keys as JSON (functions/azure/findings-settings.ts). */
  findingsConfig: 'FINDINGS_CONFIG',
  findingsSmtpUsername: 'FINDINGS_SMTP_USERNAME',
  findingsSmtpPassword: 'FINDINGS_SMTP_PASSWORD',
  findingsSlackWebhookUrl: 'FINDINGS_SLACK_WEBHOOK_URL',
  findingsTeamsWebhookUrl: 'FINDINGS_TEAMS_WEBHOOK_URL',
  qualysPod: 'QUALYS_POD',
  qualysGateway: 'QUALYS_GATEWAY',
  qualysAccessToken: 'QUALYS_ACCESS_TOKEN',
  qualysUsername: 'QUALYS_USERNAME',
  qualysPassword: 'QUALYS_PASSWORD',
  keyVaultUrl: 'KEY_VAULT_URL',
  cacheHours: 'CACHE_HOURS',
  pollMinSec: 'POLL_MIN_SEC',
  maxScanMinutes: 'MAX_SCAN_MINUTES',
  severityThreshold: 'SEVERITY_THRESHOLD',
  alertWebhookUrl: 'ALERT_WEBHOOK_URL',
  appInsightsConnectionString: 'APPLICATIONINSIGHTS_CONNECTION_STRING',
  packageSha256: 'SHIPSCAN_PACKAGE_SHA256',
  inventoryEnabled: 'INVENTORY_ENABLED',
  inventorySubscriptions: 'INVENTORY_SUBSCRIPTIONS',
  inventoryTypes: 'INVENTORY_TYPES',
  inventoryRuleScopes: 'INVENTORY_RULE_SCOPES',
  /** Timer schedules, read by the host through `%INVENTORY_SCHEDULE%` in the function registration. */
  inventorySchedule: 'INVENTORY_SCHEDULE',
  evaluationSchedule: 'EVALUATION_SCHEDULE',
  inventoryQueue: 'INVENTORY_QUEUE',
  resourcesTable: 'RESOURCES_TABLE',
  inventoryRunsTable: 'INVENTORY_RUNS_TABLE',
} as const;

/** App settings whose value must be a Key Vault reference, never the secret itself. */
export const SECRET_APP_SETTINGS: readonly string[] = [
  APP_SETTINGS.qualysAccessToken,
  APP_SETTINGS.qualysUsername,
  APP_SETTINGS.qualysPassword,
  APP_SETTINGS.alertWebhookUrl,
  APP_SETTINGS.findingsSmtpUsername,
  APP_SETTINGS.findingsSmtpPassword,
  APP_SETTINGS.findingsSlackWebhookUrl,
  APP_SETTINGS.findingsTeamsWebhookUrl,
];

/** Event Grid: what the event subscription lets through. */
export const WRITE_SUCCESS_EVENT = 'Microsoft.Resources.ResourceWriteSuccess';
export const WATCHED_OPERATIONS = ['Microsoft.ContainerInstance/containerGroups/write', 'Microsoft.App/containerApps/write'] as const;
/** Event Grid's maximum retry budget: 30 attempts within 24 hours. */
export const DELIVERY_MAX_ATTEMPTS = 30;
export const EVENT_TTL_MINUTES = 1440;
/** Seven days, the Storage Queue default, stated so it does not drift with provider defaults. */
export const QUEUE_MESSAGE_TTL_SECONDS = 7 * 24 * 3600;

/** The reads the Function App needs on the monitored scope (custom role, instead of Reader on everything). */
export const CONTAINER_READ_ACTIONS = ['Microsoft.ContainerInstance/containerGroups/read', 'Microsoft.App/containerApps/read'] as const;

/**
 * The reads onSecurityEvent makes: the `read` action of each resource type a posture rule GETs (the types
 * of shared/rules/azure/api-versions.ts, as RBAC spells them), nothing else. A test holds this list to the
 * rule registry, so a new rule type cannot be deployed without its read.
 */
export const SECURITY_READ_ACTIONS = [
  'Microsoft.Network/networkSecurityGroups/read',
  'Microsoft.Storage/storageAccounts/read',
  'Microsoft.KeyVault/vaults/read',
  'Microsoft.Authorization/roleAssignments/read',
  'Microsoft.ContainerInstance/containerGroups/read',
  'Microsoft.App/containerApps/read',
] as const;

/** Actions of the inventory reader role besides the types' own reads: submitting the query, and the subscription it is scoped to. */
export const RESOURCE_GRAPH_ACTIONS = ['Microsoft.ResourceGraph/resources/read', 'Microsoft.Resources/subscriptions/read'] as const;
/** Every action an inventory reader role may hold (it holds those of the configured types). */
export const INVENTORY_READ_ACTIONS: readonly string[] = [...new Set([...INVENTORY_TYPE_TABLE.map((t) => t.readAction), 'Microsoft.Authorization/roleAssignments/read', ...RESOURCE_GRAPH_ACTIONS])].sort();
