import { APP_SETTINGS, CONTAINER_READ_ACTIONS, INVENTORY_READ_ACTIONS, PACKAGE_BLOB, PACKAGE_CONTAINER, PACKAGE_UPLOAD_TYPE, SECRET_APP_SETTINGS, SECURITY_READ_ACTIONS } from './names';
import { BUILT_IN_ROLES, FORBIDDEN_ROLES } from './roles';

/**
 * The Azure security invariants of ARCHITECTURE.md as checks over a planned resource list (the
 * offline plan's output): every `azure-native:` resource and the package upload are visited, and a
 * resource type without a rule is itself a violation, so a new kind of resource cannot slip past
 * unreviewed.
 */

export interface PlannedAzureResource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
  /** The id the plan assigned; its last segment is the (auto-)name. */
  id?: string;
}

export interface Violation {
  invariant: string;
  resource: string;
  message: string;
}

export const INVARIANTS = {
  storageHttps: 'storage: HTTPS only',
  storageTls: 'storage: minimum TLS 1.2',
  storagePublic: 'storage: no public blob access',
  storageSharedKey: 'storage: shared keys off on every account',
  vaultRbac: 'Key Vault: RBAC authorization, no access policies',
  vaultSoftDelete: 'Key Vault: soft delete 90 days',
  vaultPurge: 'Key Vault: purge protection',
  appHttps: 'Function App: HTTPS only',
  appTls: 'Function App: TLS 1.2',
  appFtps: 'Function App: FTPS disabled, basic-auth publishing off',
  appIdentity: 'Function App: managed identity',
  secretsAsReferences: 'secrets only as Key Vault references',
  narrowScope: 'role assignments at the narrowest scope',
  packageUpload: "package upload: Entra ID (DefaultAzureCredential) into this stack's package container",
  customRole: 'custom roles: only the reads the runtime makes (containers, the security rules, the inventory), no wildcards',
  identityDelivery: 'Event Grid: delivery and dead-lettering with a managed identity',
  ownDestinations: "Event Grid: delivery and dead-lettering into this stack's runtime storage account",
  logRetention: 'logs: retention set',
  reviewed: 'every Azure resource type has a rule',
} as const;

type Check = (resource: PlannedAzureResource, all: readonly PlannedAzureResource[], fail: (invariant: string, message: string) => void) => void;

function get(value: unknown, ...path: string[]): unknown {
  let here = value;
  for (const key of path) {
    if (here === null || typeof here !== 'object') return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

function tags(resource: PlannedAzureResource): Record<string, unknown> {
  return (get(resource.inputs, 'tags') as Record<string, unknown> | undefined) ?? {};
}

const PACKAGE_PURPOSE = 'function-package';
const STORAGE_ACCOUNT_ID = /\/providers\/Microsoft\.Storage\/storageAccounts\/([^/]+)/i;
const KEY_VAULT_REFERENCE = /^@Microsoft\.KeyVault\(SecretUri=https:\/\/[^/]+\/secrets\/[A-Za-z0-9-]+\/?[A-Za-z0-9]*\)$/;
/** Setting names that hold credentials by their name, beyond the agreed list. */
const SECRET_LOOKING = /(TOKEN|PASSWORD|SECRET|WEBHOOK|USERNAME|APIKEY|API_KEY)/i;
const INLINE_CREDENTIAL = /(AccountKey=|SharedAccessSignature=|SharedAccessKey=|sig=|password=)/i;

/** Ids of the planned resources of one type (lower-cased: ARM ids compare case-insensitively). */
function plannedIds(all: readonly PlannedAzureResource[], type: string, predicate: (r: PlannedAzureResource) => boolean = () => true): Set<string> {
  return new Set(all.filter((r) => r.type === type && r.id !== undefined && predicate(r)).map((r) => r.id!.toLowerCase()));
}

/** `<package account id>/blobServices/default/containers/<package container>` of each planned package account (lower-cased). */
function packageContainerScopes(all: readonly PlannedAzureResource[]): Set<string> {
  const accounts = plannedIds(all, 'azure-native:storage:StorageAccount', (a) => tags(a)['shipscan-purpose'] === PACKAGE_PURPOSE);
  return new Set([...accounts].map((id) => `${id}/blobservices/default/containers/${PACKAGE_CONTAINER}`));
}

/** The scope is one of `ids` or a resource below one of them (`<id>/blobServices/...`). */
function atOrBelow(scope: string, ids: ReadonlySet<string>): boolean {
  const lower = scope.toLowerCase();
  return [...ids].some((id) => lower === id || lower.startsWith(`${id}/`));
}

const storageAccount: Check = (r, all, fail) => {
  if (get(r.inputs, 'enableHttpsTrafficOnly') !== true) fail(INVARIANTS.storageHttps, 'enableHttpsTrafficOnly must be true');
  if (get(r.inputs, 'minimumTlsVersion') !== 'TLS1_2') fail(INVARIANTS.storageTls, `minimumTlsVersion is ${JSON.stringify(get(r.inputs, 'minimumTlsVersion'))}, expected "TLS1_2"`);
  if (get(r.inputs, 'allowBlobPublicAccess') !== false) fail(INVARIANTS.storagePublic, 'allowBlobPublicAccess must be false');
  // Every account, the package account included: the package is uploaded with Entra ID.
  if (get(r.inputs, 'allowSharedKeyAccess') !== false) fail(INVARIANTS.storageSharedKey, 'allowSharedKeyAccess must be false (identity-based access only)');
};

const blobContainer: Check = (r, _all, fail) => {
  const access = get(r.inputs, 'publicAccess');
  if (access !== 'None') fail(INVARIANTS.storagePublic, `publicAccess is ${JSON.stringify(access)}, expected "None"`);
};

const vault: Check = (r, _all, fail) => {
  const p = get(r.inputs, 'properties');
  if (get(p, 'enableRbacAuthorization') !== true) fail(INVARIANTS.vaultRbac, 'enableRbacAuthorization must be true');
  const policies = get(p, 'accessPolicies');
  if (Array.isArray(policies) && policies.length > 0) fail(INVARIANTS.vaultRbac, 'access policies are not allowed (RBAC only)');
  if (get(p, 'enableSoftDelete') !== true || get(p, 'softDeleteRetentionInDays') !== 90) fail(INVARIANTS.vaultSoftDelete, 'enableSoftDelete must be true with softDeleteRetentionInDays 90');
  if (get(p, 'enablePurgeProtection') !== true) fail(INVARIANTS.vaultPurge, 'enablePurgeProtection must be true');
};

const vaultSecret: Check = (r, _all, fail) => {
  const value = get(r.inputs, 'properties', 'value');
  if (value !== '[secret]') fail(INVARIANTS.secretsAsReferences, 'the secret value must be a Pulumi secret (masked in the plan)');
};

const webApp: Check = (r, _all, fail) => {
  if (get(r.inputs, 'httpsOnly') !== true) fail(INVARIANTS.appHttps, 'httpsOnly must be true');
  const site = get(r.inputs, 'siteConfig');
  if (get(site, 'minTlsVersion') !== '1.2' || get(site, 'scmMinTlsVersion') !== '1.2') fail(INVARIANTS.appTls, 'minTlsVersion and scmMinTlsVersion must be "1.2"');
  if (get(site, 'ftpsState') !== 'Disabled') fail(INVARIANTS.appFtps, `ftpsState is ${JSON.stringify(get(site, 'ftpsState'))}, expected "Disabled"`);
  const identity = String(get(r.inputs, 'identity', 'type') ?? '');
  if (!identity.includes('SystemAssigned')) fail(INVARIANTS.appIdentity, 'a system-assigned managed identity is required');
  const settings = (get(site, 'appSettings') as { name?: unknown; value?: unknown }[] | undefined) ?? [];
  for (const setting of settings) {
    const name = String(setting.name);
    const value = setting.value;
    if (value === '[secret]') {
      fail(INVARIANTS.secretsAsReferences, `${name} holds a secret value; store it in Key Vault and reference it`);
      continue;
    }
    const text = typeof value === 'string' ? value : '';
    const mustReference = SECRET_APP_SETTINGS.includes(name) || (SECRET_LOOKING.test(name) && name !== APP_SETTINGS.keyVaultUrl);
    if (mustReference && !KEY_VAULT_REFERENCE.test(text)) fail(INVARIANTS.secretsAsReferences, `${name} must be a @Microsoft.KeyVault(SecretUri=...) reference`);
    if (INLINE_CREDENTIAL.test(text)) fail(INVARIANTS.secretsAsReferences, `${name} carries an inline credential`);
    if (/^AzureWebJobsStorage$/i.test(name)) fail(INVARIANTS.secretsAsReferences, 'AzureWebJobsStorage must be identity-based (AzureWebJobsStorage__accountName), not a connection string');
  }
  const deployAuth = get(r.inputs, 'functionAppConfig', 'deployment', 'storage', 'authentication', 'type');
  if (deployAuth !== undefined && deployAuth !== 'SystemAssignedIdentity' && deployAuth !== 'UserAssignedIdentity') {
    fail(INVARIANTS.secretsAsReferences, `deployment storage authentication ${JSON.stringify(deployAuth)} uses a connection string`);
  }
};

const basicAuthOff: Check = (r, _all, fail) => {
  if (get(r.inputs, 'allow') !== false) fail(INVARIANTS.appFtps, 'basic-auth publishing must be disallowed');
};

function roleGuid(roleDefinitionId: unknown): string {
  return String(roleDefinitionId ?? '').split('/').pop()!.toLowerCase();
}

const STORAGE_DATA_ROLES = new Set<string>([
  BUILT_IN_ROLES.storageBlobDataOwner,
  BUILT_IN_ROLES.storageBlobDataContributor,
  BUILT_IN_ROLES.storageQueueDataContributor,
  BUILT_IN_ROLES.storageQueueDataMessageSender,
  BUILT_IN_ROLES.storageTableDataContributor,
]);

const roleAssignment: Check = (r, all, fail) => {
  const scope = String(get(r.inputs, 'scope') ?? '');
  const guid = roleGuid(get(r.inputs, 'roleDefinitionId'));
  const role = String(get(r.inputs, 'roleDefinitionId') ?? '');
  if ((Object.values(FORBIDDEN_ROLES) as string[]).includes(guid)) fail(INVARIANTS.narrowScope, `broad built-in role ${guid} is not allowed`);
  const principalType = get(r.inputs, 'principalType');
  // The one grant that may go to a user: the deploying identity (az login, or a service principal
  // in CI) writing the Function App package, as Blob Data Contributor on the package container.
  const deployerPackageWriter =
    principalType === 'User' && guid === BUILT_IN_ROLES.storageBlobDataContributor && packageContainerScopes(all).has(scope.toLowerCase());
  if (principalType !== 'ServicePrincipal' && !deployerPackageWriter) {
    fail(INVARIANTS.narrowScope, 'assignments go to managed identities (principalType ServicePrincipal); a user only as the package writer on the package container');
  }
  const segments = scope.split('/').filter(Boolean);
  if (STORAGE_DATA_ROLES.has(guid)) {
    if (!STORAGE_ACCOUNT_ID.test(scope)) fail(INVARIANTS.narrowScope, `storage data role on ${scope || '(no scope)'}: expected a storage account of this stack or a container/queue in it`);
    else if (!atOrBelow(scope, plannedIds(all, 'azure-native:storage:StorageAccount'))) fail(INVARIANTS.narrowScope, `storage data role on ${scope}: not a storage account this stack declares`);
    const sender = guid === BUILT_IN_ROLES.storageQueueDataMessageSender;
    if (sender && !/\/queueServices\/default\/queues\/[^/]+$/.test(scope)) fail(INVARIANTS.narrowScope, 'the queue sender role belongs on the one queue');
    const deadLetterOrPackage = guid === BUILT_IN_ROLES.storageBlobDataContributor;
    if (deadLetterOrPackage && !/\/blobServices\/default\/containers\/[^/]+$/.test(scope)) fail(INVARIANTS.narrowScope, 'Storage Blob Data Contributor belongs on one container');
    return;
  }
  if (guid === BUILT_IN_ROLES.keyVaultSecretsUser) {
    // Exactly the planned vault: the app reads its own secrets, not those of a vault next to it.
    if (!plannedIds(all, 'azure-native:keyvault:Vault').has(scope.toLowerCase())) fail(INVARIANTS.narrowScope, `Key Vault Secrets User on ${scope}: expected this stack's vault`);
    return;
  }
  if (guid === BUILT_IN_ROLES.acrPull) {
    if (!/\/providers\/Microsoft\.ContainerRegistry\/registries\/[^/]+$/i.test(scope)) fail(INVARIANTS.narrowScope, `AcrPull on ${scope}: expected a registry`);
    return;
  }
  const custom = all.find(
    (d) =>
      d.type === 'azure-native:authorization:RoleDefinition' &&
      ((d.id !== undefined && role === d.id) || role.toLowerCase().endsWith(`/${String(get(d.inputs, 'roleDefinitionId')).toLowerCase()}`)),
  );
  if (custom) {
    // The custom readers may sit on the monitored (or inventoried) subscription: they grant only reads (checked on the definition).
    if (segments.length !== 2 || segments[0] !== 'subscriptions') fail(INVARIANTS.narrowScope, `custom role on ${scope}: expected the monitored subscription`);
    return;
  }
  fail(INVARIANTS.narrowScope, `role ${role} is not one this stack is allowed to assign`);
};

const roleDefinition: Check = (r, _all, fail) => {
  const permissions = (get(r.inputs, 'permissions') as Record<string, unknown>[] | undefined) ?? [];
  const actions = permissions.flatMap((p) => (get(p, 'actions') as string[] | undefined) ?? []);
  const dataActions = permissions.flatMap((p) => (get(p, 'dataActions') as string[] | undefined) ?? []);
  if (actions.some((a) => a.includes('*')) || dataActions.length > 0) fail(INVARIANTS.customRole, 'no wildcard actions and no data actions');
  // The container reader's two reads, the security reader's and the inventory reader's: each a `read` of one resource type.
  const allowed = new Set<string>([...CONTAINER_READ_ACTIONS, ...SECURITY_READ_ACTIONS, ...INVENTORY_READ_ACTIONS]);
  const unexpected = actions.filter((a) => !allowed.has(a) || !a.endsWith('/read'));
  if (unexpected.length > 0) fail(INVARIANTS.customRole, `unexpected actions ${unexpected.join(', ')}`);
  const scopes = (get(r.inputs, 'assignableScopes') as string[] | undefined) ?? [];
  if (scopes.length !== 1 || scopes[0] !== get(r.inputs, 'scope')) fail(INVARIANTS.customRole, 'assignable only at its own scope');
};

const eventSubscription: Check = (r, all, fail) => {
  if (get(r.inputs, 'destination') !== undefined) fail(INVARIANTS.identityDelivery, 'use deliveryWithResourceIdentity, not a key-based destination');
  if (get(r.inputs, 'deadLetterDestination') !== undefined) fail(INVARIANTS.identityDelivery, 'use deadLetterWithResourceIdentity');
  if (get(r.inputs, 'deliveryWithResourceIdentity', 'identity', 'type') !== 'SystemAssigned') fail(INVARIANTS.identityDelivery, 'delivery needs the topic identity');
  if (get(r.inputs, 'deadLetterWithResourceIdentity', 'identity', 'type') !== 'SystemAssigned') fail(INVARIANTS.identityDelivery, 'dead-lettering needs the topic identity');
  // Events carry deployment details: they go to the stack's key-less runtime account, nowhere else.
  const runtimeAccounts = plannedIds(all, 'azure-native:storage:StorageAccount', (a) => tags(a)['shipscan-purpose'] !== PACKAGE_PURPOSE);
  for (const [what, path] of [
    ['delivery', ['deliveryWithResourceIdentity', 'destination', 'resourceId']],
    ['dead-letter', ['deadLetterWithResourceIdentity', 'deadLetterDestination', 'resourceId']],
  ] as const) {
    const target = get(r.inputs, ...path);
    if (typeof target !== 'string' || !runtimeAccounts.has(target.toLowerCase())) {
      fail(INVARIANTS.ownDestinations, `${what} resourceId ${JSON.stringify(target)} is not this stack's runtime storage account`);
    }
  }
};

const workspace: Check = (r, _all, fail) => {
  const days = get(r.inputs, 'retentionInDays');
  if (typeof days !== 'number' || days < 30) fail(INVARIANTS.logRetention, 'retentionInDays must be set (30 or more)');
};

const appInsights: Check = (r, _all, fail) => {
  if (typeof get(r.inputs, 'workspaceResourceId') !== 'string') fail(INVARIANTS.logRetention, 'Application Insights must be workspace-based (retention follows the workspace)');
};

const systemTopic: Check = (r, _all, fail) => {
  if (!String(get(r.inputs, 'identity', 'type') ?? '').includes('SystemAssigned')) fail(INVARIANTS.identityDelivery, 'the system topic needs a system-assigned identity');
};

/** What the deployed upload must never use: account keys, SAS or connection strings. */
const KEY_BASED_STORAGE = /StorageSharedKeyCredential|fromConnectionString|AccountKey|SharedAccessSignature|generateSasUrl|AnonymousCredential/;

const packageUpload: Check = (r, all, fail) => {
  // The serialised provider is the code that runs at deploy time: it must authenticate with Entra ID.
  const provider = get(r.inputs, '__provider');
  if (typeof provider !== 'string' || !provider.includes('DefaultAzureCredential')) fail(INVARIANTS.packageUpload, 'the upload provider does not authenticate with DefaultAzureCredential');
  else if (KEY_BASED_STORAGE.test(provider)) fail(INVARIANTS.packageUpload, `the upload provider uses key-based storage access (${KEY_BASED_STORAGE.exec(provider)![0]})`);
  const packageAccounts = all.filter((a) => a.type === 'azure-native:storage:StorageAccount' && tags(a)['shipscan-purpose'] === PACKAGE_PURPOSE);
  const endpoints = packageAccounts.map((a) => `https://${String(a.id?.split('/').pop()).toLowerCase()}.blob.core.windows.net/`);
  const serviceUrl = String(get(r.inputs, 'serviceUrl') ?? '').toLowerCase();
  if (!endpoints.includes(serviceUrl)) fail(INVARIANTS.packageUpload, `uploads to ${JSON.stringify(get(r.inputs, 'serviceUrl'))}, not this stack's package account`);
  if (get(r.inputs, 'containerName') !== PACKAGE_CONTAINER || get(r.inputs, 'blobName') !== PACKAGE_BLOB) {
    fail(INVARIANTS.packageUpload, `uploads to ${String(get(r.inputs, 'containerName'))}/${String(get(r.inputs, 'blobName'))}, not ${PACKAGE_CONTAINER}/${PACKAGE_BLOB}`);
  }
};

const noRule: Check = () => undefined;

/** Rules by resource type; `noRule` marks types reviewed as holding nothing the invariants cover. */
export const RULES: Readonly<Record<string, Check>> = {
  'azure-native:storage:StorageAccount': storageAccount,
  'azure-native:storage:BlobContainer': blobContainer,
  'azure-native:keyvault:Vault': vault,
  'azure-native:keyvault:Secret': vaultSecret,
  'azure-native:web:WebApp': webApp,
  'azure-native:web:WebAppFtpAllowed': basicAuthOff,
  'azure-native:web:WebAppScmAllowed': basicAuthOff,
  'azure-native:authorization:RoleAssignment': roleAssignment,
  'azure-native:authorization:RoleDefinition': roleDefinition,
  'azure-native:eventgrid:SystemTopicEventSubscription': eventSubscription,
  'azure-native:eventgrid:SystemTopic': systemTopic,
  'azure-native:operationalinsights:Workspace': workspace,
  'azure-native:applicationinsights:Component': appInsights,
  'azure-native:resources:ResourceGroup': noRule,
  'azure-native:storage:Table': noRule,
  'azure-native:storage:Queue': noRule,
  [PACKAGE_UPLOAD_TYPE]: packageUpload,
  'azure-native:storage:ManagementPolicy': noRule,
  'azure-native:web:AppServicePlan': noRule,
  'azure-native:operationalinsights:SavedSearch': noRule,
  'azure-native:applicationinsights:Workbook': noRule,
  'azure-native:monitor:ScheduledQueryRule': noRule,
  'azure-native:monitor:MetricAlert': noRule,
  'azure-native:monitor:DiagnosticSetting': noRule,
  'azure-native:monitor:ActionGroup': noRule,
};

export interface InvariantReport {
  violations: Violation[];
  /** How many resources of each type were checked. */
  checked: Record<string, number>;
}

/** The resources the invariants cover: every azure-native resource, and the package upload. */
export function isCheckedType(resource: { type: string }): boolean {
  return resource.type.startsWith('azure-native:') || resource.type === PACKAGE_UPLOAD_TYPE;
}

export function checkAzureInvariants(resources: readonly PlannedAzureResource[]): InvariantReport {
  const azure = resources.filter(isCheckedType);
  const violations: Violation[] = [];
  const checked: Record<string, number> = {};
  for (const resource of azure) {
    const fail = (invariant: string, message: string) => violations.push({ invariant, resource: `${resource.type} "${resource.name}"`, message });
    const rule = RULES[resource.type];
    if (!rule) {
      fail(INVARIANTS.reviewed, 'no invariant rule for this resource type: add one to azure/invariants.ts');
      continue;
    }
    rule(resource, azure, fail);
    checked[resource.type] = (checked[resource.type] ?? 0) + 1;
  }
  return { violations, checked };
}
