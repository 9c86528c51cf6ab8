import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PLAN_SUBSCRIPTION_ID, runPlan, stackFileConfig, withPlaceholderCredentials, type PlannedResource } from '../../local/plan';
import { INVARIANTS, RULES, checkAzureInvariants, isCheckedType, type PlannedAzureResource } from '../../azure/invariants';
import { PACKAGE_UPLOAD_TYPE } from '../../azure/names';
import { BUILT_IN_ROLES, FORBIDDEN_ROLES } from '../../azure/roles';

/** A directory shaped like `npm run build:functions` output. */
function placeholderBundle(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-azure-bundle-'));
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), '{"version":"2.0"}');
  writeFileSync(path.join(root, 'azure', 'package.json'), '{"name":"shipscan-functions"}');
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  return root;
}

const get = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((here, key) => (here !== null && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined), value);
function set(value: unknown, keys: (string | number)[], leaf: unknown): void {
  const parent = get(value, ...keys.slice(0, -1)) as Record<string | number, unknown>;
  parent[keys[keys.length - 1]!] = leaf;
}
const clone = (resources: readonly PlannedResource[]): PlannedAzureResource[] => JSON.parse(JSON.stringify(resources)) as PlannedAzureResource[];
const find = (resources: PlannedAzureResource[], type: string, predicate: (r: PlannedAzureResource) => boolean = () => true) => {
  const found = resources.find((r) => r.type === `azure-native:${type}` && predicate(r));
  if (!found) throw new Error(`no ${type} in the plan`);
  return found;
};
const dataAccount = (resources: PlannedAzureResource[]) => find(resources, 'storage:StorageAccount', (r) => get(r.inputs, 'tags', 'shipscan-purpose') === undefined);
const packageAccount = (resources: PlannedAzureResource[]) => find(resources, 'storage:StorageAccount', (r) => get(r.inputs, 'tags', 'shipscan-purpose') === 'function-package');
const packageUpload = (resources: PlannedAzureResource[]) => {
  const found = resources.find((r) => r.type === PACKAGE_UPLOAD_TYPE);
  if (!found) throw new Error('no package upload in the plan');
  return found;
};
const appSetting = (resources: PlannedAzureResource[], name: string) =>
  (get(find(resources, 'web:WebApp').inputs, 'siteConfig', 'appSettings') as { name: string; value: unknown }[]).find((s) => s.name === name)!;
const grant = (resources: PlannedAzureResource[], name: string) => find(resources, 'authorization:RoleAssignment', (r) => r.name === `shipscan-${name}`);
const RG_SCOPE = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/anything`;
/** Resources of the same kind in the same subscription that this stack does not declare. */
const OTHER_VAULT = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/other/providers/Microsoft.KeyVault/vaults/someone-elses-kv`;
const OTHER_ACCOUNT = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/other/providers/Microsoft.Storage/storageAccounts/someoneelses`;

describe('Azure security invariants over every planned resource', function () {
  this.timeout(180_000);
  let bundleRoot: string;
  const plans: Record<string, PlannedResource[]> = {};

  before(async () => {
    bundleRoot = placeholderBundle();
    const env = { SHIPSCAN_BUNDLE_DIR: bundleRoot };
    const dev = withPlaceholderCredentials(stackFileConfig('dev')).config;
    const [created, reused, devStack] = await Promise.all([
      runPlan({
        stack: 'sec-created',
        env,
        config: {
          'shipscan:azure': {
            enabled: true,
            alertWebhookUrl: { secret: 'https://hooks.example.test/secret-path' },
            alertEmail: 'alerts@example.test',
            acrResourceIds: [`/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/r/providers/Microsoft.ContainerRegistry/registries/acr1`],
          },
          'shipscan:qualys': { pod: 'EU1', accessToken: { secret: 'token-for-security-test' } },
        },
      }),
      runPlan({
        stack: 'sec-reused',
        env,
        config: {
          'shipscan:azure': {
            enabled: true,
            resourceGroupName: 'existing-rg',
            existingSystemTopicId: `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/ev/providers/Microsoft.EventGrid/systemTopics/arm`,
          },
          'shipscan:qualys': { pod: 'US1', username: { secret: 'api-user-sec' }, password: { secret: 'api-password-sec' } },
        },
      }),
      // The example stack file, Azure part only (the AWS part has its own invariant suite).
      runPlan({ stack: 'dev', env, config: { ...dev, 'shipscan:aws': { enabled: false } } }),
    ]);
    plans['created'] = created;
    plans['reused'] = reused;
    plans['dev stack'] = devStack;
  });

  after(() => rmSync(bundleRoot, { recursive: true, force: true }));

  for (const variant of ['created', 'reused', 'dev stack']) {
    it(`${variant}: every Azure resource satisfies every invariant`, () => {
      const resources = plans[variant]!;
      const azure = resources.filter(isCheckedType);
      const report = checkAzureInvariants(resources as PlannedAzureResource[]);
      expect(report.violations, JSON.stringify(report.violations, null, 2)).to.deep.equal([]);
      // Every Azure resource was visited by a rule, none skipped.
      const visited = Object.values(report.checked).reduce((a, b) => a + b, 0);
      expect(visited).to.equal(azure.length);
      expect(azure.length).to.be.greaterThan(40);
    });
  }

  it('the rules cover every resource type the plans declare, and each invariant applies to some resource', () => {
    const types = new Set(Object.values(plans).flatMap((p) => p.filter(isCheckedType).map((r) => r.type)));
    for (const type of types) expect(RULES, type).to.have.property(type);
    for (const type of ['storage:StorageAccount', 'storage:BlobContainer', 'keyvault:Vault', 'keyvault:Secret', 'web:WebApp', 'authorization:RoleAssignment', 'authorization:RoleDefinition', 'eventgrid:SystemTopicEventSubscription', 'eventgrid:SystemTopic', 'operationalinsights:Workspace']) {
      expect(types.has(`azure-native:${type}`), type).to.equal(true);
    }
  });

  describe('each invariant catches its violation', () => {
    type Mutation = [invariant: string, what: string, mutate: (resources: PlannedAzureResource[]) => void];
    const mutations: Mutation[] = [
      [INVARIANTS.storageHttps, 'HTTP allowed', (r) => set(dataAccount(r).inputs, ['enableHttpsTrafficOnly'], false)],
      [INVARIANTS.storageTls, 'TLS 1.0', (r) => set(packageAccount(r).inputs, ['minimumTlsVersion'], 'TLS1_0')],
      [INVARIANTS.storagePublic, 'public blob access on the account', (r) => set(dataAccount(r).inputs, ['allowBlobPublicAccess'], true)],
      [INVARIANTS.storagePublic, 'a public container', (r) => set(find(r, 'storage:BlobContainer').inputs, ['publicAccess'], 'Blob')],
      [INVARIANTS.storageSharedKey, 'shared keys on the runtime account', (r) => set(dataAccount(r).inputs, ['allowSharedKeyAccess'], true)],
      [INVARIANTS.storageSharedKey, 'shared keys on the package account', (r) => set(packageAccount(r).inputs, ['allowSharedKeyAccess'], true)],
      [INVARIANTS.storageSharedKey, 'shared keys left at the Azure default (on)', (r) => set(packageAccount(r).inputs, ['allowSharedKeyAccess'], undefined)],
      [INVARIANTS.vaultRbac, 'access policies', (r) => set(find(r, 'keyvault:Vault').inputs, ['properties', 'accessPolicies'], [{ objectId: 'x' }])],
      [INVARIANTS.vaultRbac, 'RBAC off', (r) => set(find(r, 'keyvault:Vault').inputs, ['properties', 'enableRbacAuthorization'], false)],
      [INVARIANTS.vaultSoftDelete, '7-day soft delete', (r) => set(find(r, 'keyvault:Vault').inputs, ['properties', 'softDeleteRetentionInDays'], 7)],
      [INVARIANTS.vaultPurge, 'no purge protection', (r) => set(find(r, 'keyvault:Vault').inputs, ['properties', 'enablePurgeProtection'], false)],
      [INVARIANTS.appHttps, 'HTTP app', (r) => set(find(r, 'web:WebApp').inputs, ['httpsOnly'], false)],
      [INVARIANTS.appTls, 'TLS 1.0 app', (r) => set(find(r, 'web:WebApp').inputs, ['siteConfig', 'minTlsVersion'], '1.0')],
      [INVARIANTS.appFtps, 'FTPS allowed', (r) => set(find(r, 'web:WebApp').inputs, ['siteConfig', 'ftpsState'], 'AllAllowed')],
      [INVARIANTS.appFtps, 'basic-auth FTP publishing', (r) => set(find(r, 'web:WebAppFtpAllowed').inputs, ['allow'], true)],
      [INVARIANTS.appIdentity, 'no identity', (r) => set(find(r, 'web:WebApp').inputs, ['identity'], undefined)],
      [INVARIANTS.secretsAsReferences, 'a token as a plain setting', (r) => set(appSetting(r, 'QUALYS_ACCESS_TOKEN'), ['value'], 'plain-token')],
      [INVARIANTS.secretsAsReferences, 'a secret-valued setting', (r) => set(appSetting(r, 'ALERT_WEBHOOK_URL'), ['value'], '[secret]')],
      [
        INVARIANTS.secretsAsReferences,
        'a storage connection string',
        (r) => (get(find(r, 'web:WebApp').inputs, 'siteConfig', 'appSettings') as unknown[]).push({ name: 'AzureWebJobsStorage', value: 'DefaultEndpointsProtocol=https;AccountName=a;AccountKey=abc' }),
      ],
      [INVARIANTS.secretsAsReferences, 'an unmasked Key Vault secret', (r) => set(find(r, 'keyvault:Secret').inputs, ['properties', 'value'], 'visible')],
      [INVARIANTS.narrowScope, 'blob owner on a resource group', (r) => set(grant(r, 'app-blob-owner').inputs, ['scope'], RG_SCOPE)],
      [INVARIANTS.narrowScope, 'Key Vault Secrets User on a resource group', (r) => set(grant(r, 'app-kv-secrets-user').inputs, ['scope'], RG_SCOPE)],
      [INVARIANTS.narrowScope, 'Key Vault Secrets User on another vault', (r) => set(grant(r, 'app-kv-secrets-user').inputs, ['scope'], OTHER_VAULT)],
      [INVARIANTS.narrowScope, 'blob owner on another storage account', (r) => set(grant(r, 'app-blob-owner').inputs, ['scope'], OTHER_ACCOUNT)],
      [
        INVARIANTS.narrowScope,
        'the dead-letter writer on a container of another account',
        (r) => set(grant(r, 'topic-deadletter-writer').inputs, ['scope'], `${OTHER_ACCOUNT}/blobServices/default/containers/deadletter`),
      ],
      [
        INVARIANTS.narrowScope,
        'a data role on an account whose id merely starts like this stack one',
        (r) => set(grant(r, 'app-queue-contributor').inputs, ['scope'], `${String(dataAccount(r).id)}x`),
      ],
      [
        INVARIANTS.narrowScope,
        'queue sender on the whole account',
        (r) => set(grant(r, 'topic-queue-sender').inputs, ['scope'], String(get(grant(r, 'topic-queue-sender').inputs, 'scope')).replace(/\/queueServices\/.*$/, '')),
      ],
      [
        INVARIANTS.narrowScope,
        'Reader instead of the custom role',
        (r) => set(grant(r, 'app-container-reader').inputs, ['roleDefinitionId'], `/subscriptions/${PLAN_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${FORBIDDEN_ROLES.reader}`),
      ],
      [INVARIANTS.narrowScope, 'a user granted a data role on the runtime account', (r) => set(grant(r, 'app-blob-owner').inputs, ['principalType'], 'User')],
      [
        INVARIANTS.narrowScope,
        'the deploying user granted the whole package account',
        (r) => set(grant(r, 'deployer-package-writer').inputs, ['scope'], String(get(grant(r, 'deployer-package-writer').inputs, 'scope')).replace(/\/blobServices\/.*$/, '')),
      ],
      [
        INVARIANTS.narrowScope,
        'the deploying user granted the dead-letter container',
        (r) => set(grant(r, 'deployer-package-writer').inputs, ['scope'], get(grant(r, 'topic-deadletter-writer').inputs, 'scope')),
      ],
      [INVARIANTS.packageUpload, 'an upload provider with an account key', (r) => set(packageUpload(r).inputs, ['__provider'], `${String(packageUpload(r).inputs['__provider'])}\nnew StorageSharedKeyCredential(a, k);`)],
      [INVARIANTS.packageUpload, 'an upload provider without DefaultAzureCredential', (r) => set(packageUpload(r).inputs, ['__provider'], 'exports.handler = () => ({});')],
      [INVARIANTS.packageUpload, 'an upload to another account', (r) => set(packageUpload(r).inputs, ['serviceUrl'], 'https://someoneelses.blob.core.windows.net/')],
      [INVARIANTS.packageUpload, 'an upload to another container', (r) => set(packageUpload(r).inputs, ['containerName'], 'scan-results')],
      [INVARIANTS.narrowScope, 'AcrPull on the subscription', (r) => set(grant(r, 'app-acr-pull-0').inputs, ['scope'], `/subscriptions/${PLAN_SUBSCRIPTION_ID}`)],
      [INVARIANTS.customRole, 'a wildcard action', (r) => set(find(r, 'authorization:RoleDefinition').inputs, ['permissions', 0, 'actions'], ['Microsoft.ContainerInstance/*'])],
      [
        INVARIANTS.customRole,
        'an extra action',
        (r) => (get(find(r, 'authorization:RoleDefinition').inputs, 'permissions', 0, 'actions') as string[]).push('Microsoft.Compute/virtualMachines/read'),
      ],
      [
        INVARIANTS.customRole,
        'a write action in the security reader',
        (r) => (get(find(r, 'authorization:RoleDefinition', (d) => d.name === 'shipscan-security-events-reader').inputs, 'permissions', 0, 'actions') as string[]).push('Microsoft.Network/networkSecurityGroups/write'),
      ],
      [INVARIANTS.narrowScope, 'the security reader on a resource group', (r) => set(grant(r, 'security-events-app-reader').inputs, ['scope'], RG_SCOPE)],
      [
        INVARIANTS.ownDestinations,
        'security events delivered to another storage account',
        (r) =>
          set(
            find(r, 'eventgrid:SystemTopicEventSubscription', (e) => e.name.startsWith('shipscan-security-events-subscription')).inputs,
            ['deliveryWithResourceIdentity', 'destination', 'resourceId'],
            OTHER_ACCOUNT,
          ),
      ],
      [INVARIANTS.identityDelivery, 'key-based queue destination', (r) => set(find(r, 'eventgrid:SystemTopicEventSubscription').inputs, ['destination'], { endpointType: 'StorageQueue' })],
      [INVARIANTS.identityDelivery, 'a topic without identity', (r) => set(find(r, 'eventgrid:SystemTopic').inputs, ['identity'], undefined)],
      [
        INVARIANTS.ownDestinations,
        'delivery to another storage account',
        (r) => set(find(r, 'eventgrid:SystemTopicEventSubscription').inputs, ['deliveryWithResourceIdentity', 'destination', 'resourceId'], OTHER_ACCOUNT),
      ],
      [
        INVARIANTS.ownDestinations,
        'dead-lettering to another storage account',
        (r) => set(find(r, 'eventgrid:SystemTopicEventSubscription').inputs, ['deadLetterWithResourceIdentity', 'deadLetterDestination', 'resourceId'], OTHER_ACCOUNT),
      ],
      [
        INVARIANTS.ownDestinations,
        'dead-lettering to the package account',
        (r) => set(find(r, 'eventgrid:SystemTopicEventSubscription').inputs, ['deadLetterWithResourceIdentity', 'deadLetterDestination', 'resourceId'], packageAccount(r).id),
      ],
      [INVARIANTS.logRetention, 'no workspace retention', (r) => set(find(r, 'operationalinsights:Workspace').inputs, ['retentionInDays'], undefined)],
      [INVARIANTS.logRetention, 'classic App Insights', (r) => set(find(r, 'applicationinsights:Component').inputs, ['workspaceResourceId'], undefined)],
      [INVARIANTS.reviewed, 'an unreviewed resource type', (r) => r.push({ type: 'azure-native:compute:VirtualMachine', name: 'vm', inputs: {} })],
    ];

    for (const [invariant, what, mutate] of mutations) {
      it(`${invariant}: ${what}`, () => {
        const resources = clone(plans['created']!);
        mutate(resources);
        const { violations } = checkAzureInvariants(resources);
        expect(violations.map((v) => v.invariant), JSON.stringify(violations)).to.include(invariant);
      });
    }

    it('every invariant has at least one mutation proving it can fail', () => {
      const covered = new Set(mutations.map(([invariant]) => invariant));
      expect([...covered].sort()).to.deep.equal(Object.values(INVARIANTS).sort());
    });

    it('every planned storage account refuses shared keys, the package account included, with no exception', () => {
      for (const [variant, resources] of Object.entries(plans)) {
        const accounts = resources.filter((r) => r.type === 'azure-native:storage:StorageAccount');
        expect(accounts, variant).to.have.length(2);
        for (const account of accounts) expect(get(account.inputs, 'allowSharedKeyAccess'), `${variant}: ${account.name}`).to.equal(false);
        expect(resources.filter((r) => r.type === 'azure-native:storage:Blob'), `${variant}: key-based blob uploads`).to.deep.equal([]);
      }
    });

    it('the storage data roles the app holds are never the owner-level account roles', () => {
      const roles = clone(plans['created']!)
        .filter((r) => r.type === 'azure-native:authorization:RoleAssignment')
        .map((r) => String(get(r.inputs, 'roleDefinitionId')).split('/').pop());
      for (const forbidden of Object.values(FORBIDDEN_ROLES)) expect(roles).to.not.include(forbidden);
      expect(roles).to.include(BUILT_IN_ROLES.keyVaultSecretsUser);
    });
  });
});
