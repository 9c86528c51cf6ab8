import { expect } from 'chai';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PLAN_SUBSCRIPTION_ID, PLAN_TENANT_ID, runPlanDetailed, type PlanResult, type PlannedResource } from '../../local/plan';
import { PLAN_CLIENT_OBJECT_ID } from '../../local/plan/mocks';
import { packageTreeSha256 } from '../../azure/package-archive';
import {
  APP_SETTINGS,
  CONTAINER_READ_ACTIONS,
  DEADLETTER_CONTAINER,
  DEPLOYMENTS_QUEUE,
  PACKAGE_BLOB,
  PACKAGE_CONTAINER,
  PACKAGE_UPLOAD_TYPE,
  QUEUES,
  SECRET_APP_SETTINGS,
  SECURITY_EVENTS_QUEUE,
  SECURITY_EVENTS_QUEUES,
  SECURITY_READ_ACTIONS,
  TABLES,
  WATCHED_OPERATIONS,
} from '../../azure/names';
import { QUERY_CATALOG, loadQuery } from '../../azure/queries';
import { BUILT_IN_ROLES } from '../../azure/roles';
import { WORKBOOK_STEPS } from '../../azure/workbook';
import { containerWritesFilter, securityEventFilters } from '../../azure/event-subscription-filter';
import { AZURE_REGISTRY, armOperationNames } from '../../shared/rules/azure';

const SECRETS = {
  token: 'qualys-token-under-test-7f3a',
  username: 'qualys-user-under-test',
  password: 'qualys-password-under-test-91c',
  webhook: 'https://hooks.example.test/services/T000/B000/webhook-secret-c0ffee',
  smtpUser: 'smtp-user-under-test-4d2e',
  smtpPassword: 'smtp-password-under-test-8b1f',
  slack: 'https://hooks.slack.com/services/T111/B111/slack-secret-5e6f',
};
const ACR_ID = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/shipscanacr`;
const EXISTING_TOPIC = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/eventing/providers/Microsoft.EventGrid/systemTopics/arm-subscription-events`;

/** A directory shaped like `npm run build:functions` output, so plans do not depend on a build. */
function placeholderBundle(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-azure-bundle-'));
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), JSON.stringify({ version: '2.0' }));
  writeFileSync(path.join(root, 'azure', 'package.json'), JSON.stringify({ name: 'shipscan-functions', main: 'dist/index.js' }));
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  // Source maps stay out of the package.
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js.map'), '{}');
  return root;
}

const ofType = (resources: readonly PlannedResource[], suffix: string) => resources.filter((r) => r.type === `azure-native:${suffix}`);
const one = (resources: readonly PlannedResource[], suffix: string): PlannedResource => {
  const found = ofType(resources, suffix);
  expect(found, suffix).to.have.length(1);
  return found[0]!;
};
const get = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((here, key) => (here !== null && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined), value);
const idOf = (r: PlannedResource) => String(r.id);
const nameOf = (r: PlannedResource) => idOf(r).split('/').pop()!;
/** The runtime account (the other one holds only the package, tagged for that purpose). */
const dataAccount = (resources: readonly PlannedResource[]) => ofType(resources, 'storage:StorageAccount').find((a) => get(a.inputs, 'tags', 'shipscan-purpose') === undefined)!;
const packageAccount = (resources: readonly PlannedResource[]) =>
  ofType(resources, 'storage:StorageAccount').find((a) => get(a.inputs, 'tags', 'shipscan-purpose') === 'function-package')!;
const role = (guid: string) => `/subscriptions/${PLAN_SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
const named = (resources: readonly PlannedResource[], suffix: string, name: string): PlannedResource => {
  const found = ofType(resources, suffix).filter((r) => r.name === name);
  expect(found, `${suffix} ${name}`).to.have.length(1);
  return found[0]!;
};
/** The deployment scanner's subscription and custom role (the security events add their own). */
const deploymentsSubscription = (resources: readonly PlannedResource[]) => named(resources, 'eventgrid:SystemTopicEventSubscription', 'shipscan-container-writes');
const containerReader = (resources: readonly PlannedResource[]) => named(resources, 'authorization:RoleDefinition', 'shipscan-container-reader');
const securityReader = (resources: readonly PlannedResource[]) => named(resources, 'authorization:RoleDefinition', 'shipscan-security-events-reader');
const securitySubscriptions = (resources: readonly PlannedResource[]) =>
  ofType(resources, 'eventgrid:SystemTopicEventSubscription').filter((r) => r.name.startsWith('shipscan-security-events-subscription'));

describe('AzureScanner under Pulumi mocks', function () {
  this.timeout(180_000);
  let bundleRoot: string;
  let created: PlanResult;
  let reused: PlanResult;
  let withoutSecurity: PlanResult;

  before(async () => {
    bundleRoot = placeholderBundle();
    const env = { SHIPSCAN_BUNDLE_DIR: bundleRoot };
    [created, reused, withoutSecurity] = await Promise.all([
      runPlanDetailed({
        stack: 'azure-created',
        env,
        config: {
          'shipscan:azure': {
            enabled: true,
            location: 'westeurope',
            alertWebhookUrl: { secret: SECRETS.webhook },
            alertEmail: 'secops@example.test',
            acrResourceIds: [ACR_ID],
            cacheHours: 12,
          },
          'shipscan:qualys': { pod: 'US2', accessToken: { secret: SECRETS.token } },
          'shipscan:findings': {
            severityThreshold: 'HIGH',
            email: { from: 'shipscan@example.test', to: ['secops@example.test'], smtp: { host: 'smtp.example.test', port: 587, username: { secret: SECRETS.smtpUser }, password: { secret: SECRETS.smtpPassword } } },
            slackWebhookUrl: { secret: SECRETS.slack },
          },
        },
      }),
      runPlanDetailed({
        stack: 'azure-reused',
        env,
        config: {
          'shipscan:azure': { enabled: true, location: 'northeurope', resourceGroupName: 'platform-security', existingSystemTopicId: EXISTING_TOPIC },
          'shipscan:qualys': { gateway: 'https://gateway.qg2.apps.qualys.com', username: { secret: SECRETS.username }, password: { secret: SECRETS.password } },
        },
      }),
      runPlanDetailed({
        stack: 'azure-no-security',
        env,
        config: {
          'shipscan:azure': { enabled: true, securityEvents: { enabled: false } },
          'shipscan:qualys': { pod: 'US2', accessToken: { secret: SECRETS.token } },
        },
      }),
    ]);
  });

  after(() => rmSync(bundleRoot, { recursive: true, force: true }));

  describe('resource counts', () => {
    const count = (plan: PlanResult) => {
      const counts: Record<string, number> = {};
      for (const r of plan.resources) counts[r.type.replace(/^azure-native:/, '')] = (counts[r.type.replace(/^azure-native:/, '')] ?? 0) + 1;
      return counts;
    };
    it('declares the full scanner when it creates the group and the topic', () => {
      expect(count(created)).to.deep.equal({
        'shipscan:azure:AzureScanner': 1,
        'shipscan:azure:SecurityEvents': 1,
        'resources:ResourceGroup': 1,
        'operationalinsights:Workspace': 1,
        'applicationinsights:Component': 1,
        'storage:StorageAccount': 2,
        'storage:BlobContainer': 3,
        'storage:Table': TABLES.length,
        'storage:Queue': QUEUES.length + SECURITY_EVENTS_QUEUES.length,
        'storage:ManagementPolicy': 1,
        [PACKAGE_UPLOAD_TYPE]: 1,
        'keyvault:Vault': 1,
        'keyvault:Secret': 5,
        'web:AppServicePlan': 1,
        'web:WebApp': 1,
        'web:WebAppFtpAllowed': 1,
        'web:WebAppScmAllowed': 1,
        'authorization:RoleDefinition': 2,
        'authorization:RoleAssignment': 12,
        'eventgrid:SystemTopic': 1,
        'eventgrid:SystemTopicEventSubscription': 1 + armOperationNames().subscriptions.length,
        'monitor:DiagnosticSetting': 1,
        'operationalinsights:SavedSearch': QUERY_CATALOG.filter((q) => q.use === 'saved-search').length,
        'applicationinsights:Workbook': 1,
        'monitor:ScheduledQueryRule': 3,
        'monitor:MetricAlert': 1,
        'monitor:ActionGroup': 1,
      });
      expect(TABLES).to.have.length(5);
      expect(armOperationNames().subscriptions).to.have.length(1);
      expect(created.resources).to.have.length(72);
    });
    it('reusing an existing system topic and group creates neither, only a diagnostic setting on the topic', () => {
      expect(ofType(reused.resources, 'eventgrid:SystemTopic')).to.deep.equal([]);
      expect(ofType(reused.resources, 'resources:ResourceGroup')).to.deep.equal([]);
      expect(ofType(reused.resources, 'monitor:DiagnosticSetting')).to.have.length(1);
      expect(reused.resources).to.have.length(65);
    });
    it('azure.securityEvents.enabled false leaves out the security subscription, queues, role and grants', () => {
      expect(ofType(withoutSecurity.resources, 'eventgrid:SystemTopicEventSubscription').map((r) => r.name)).to.deep.equal(['shipscan-container-writes']);
      expect(ofType(withoutSecurity.resources, 'authorization:RoleDefinition').map((r) => r.name)).to.deep.equal(['shipscan-container-reader']);
      expect(ofType(withoutSecurity.resources, 'storage:Queue').map((q) => get(q.inputs, 'queueName'))).to.not.include(SECURITY_EVENTS_QUEUE);
      expect(withoutSecurity.resources.filter((r) => r.type === 'shipscan:azure:SecurityEvents')).to.deep.equal([]);
      const settings = get(one(withoutSecurity.resources, 'web:WebApp').inputs, 'siteConfig', 'appSettings') as { name: string; value: string }[];
      expect(settings.find((s) => s.name === 'SECURITY_EVENTS_ENABLED')?.value).to.equal('false');
      expect(settings.some((s) => s.name === 'SECURITY_EVENTS_QUEUE')).to.equal(false);
      expect(withoutSecurity.resources).to.have.length(59);
    });
  });

  describe('Event Grid subscription', () => {
    it('lets through only successful ACI and ACA writes', () => {
      const sub = deploymentsSubscription(created.resources);
      expect(get(sub.inputs, 'filter')).to.deep.include({
        includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess'],
        advancedFilters: [{ operatorType: 'StringIn', key: 'data.operationName', values: ['Microsoft.ContainerInstance/containerGroups/write', 'Microsoft.App/containerApps/write'] }],
      });
      expect(WATCHED_OPERATIONS).to.have.length(2);
      // The same data the local pipeline evaluates replayed events with (npm start).
      expect(get(sub.inputs, 'filter')).to.deep.include(containerWritesFilter());
    });
    it('delivers to the deployments queue with the topic identity, retries 30 times over 24 h, dead-letters to blob', () => {
      const sub = deploymentsSubscription(created.resources);
      const account = dataAccount(created.resources);
      expect(get(sub.inputs, 'deliveryWithResourceIdentity')).to.deep.equal({
        identity: { type: 'SystemAssigned' },
        destination: { endpointType: 'StorageQueue', resourceId: idOf(account), queueName: DEPLOYMENTS_QUEUE, queueMessageTimeToLiveInSeconds: 604800 },
      });
      expect(get(sub.inputs, 'retryPolicy')).to.deep.equal({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
      expect(get(sub.inputs, 'deadLetterWithResourceIdentity')).to.deep.equal({
        identity: { type: 'SystemAssigned' },
        deadLetterDestination: { endpointType: 'StorageBlob', resourceId: idOf(account), blobContainerName: DEADLETTER_CONTAINER },
      });
      expect(get(sub.inputs, 'destination')).to.equal(undefined);
      expect(get(sub.inputs, 'eventDeliverySchema')).to.equal('EventGridSchema');
    });
    it('is declared on the created subscription-scope topic, after the queue, the app and the topic roles', () => {
      const topic = one(created.resources, 'eventgrid:SystemTopic');
      expect(topic.inputs).to.include({ location: 'global', topicType: 'Microsoft.Resources.Subscriptions', source: `/subscriptions/${PLAN_SUBSCRIPTION_ID}` });
      const sub = deploymentsSubscription(created.resources);
      expect(get(sub.inputs, 'systemTopicName')).to.equal(nameOf(topic));
      // Registration waits for dependsOn, so the order shows the dependencies were honoured.
      const index = (r: PlannedResource) => created.resources.indexOf(r);
      const queue = ofType(created.resources, 'storage:Queue').find((q) => get(q.inputs, 'queueName') === DEPLOYMENTS_QUEUE)!;
      const grants = ofType(created.resources, 'authorization:RoleAssignment');
      for (const before of [queue, one(created.resources, 'web:WebApp'), ...grants]) expect(index(sub), before.name).to.be.greaterThan(index(before));
    });
    it('is declared on the existing topic when one is given', () => {
      const sub = deploymentsSubscription(reused.resources);
      expect(sub.inputs).to.include({ resourceGroupName: 'eventing', systemTopicName: 'arm-subscription-events' });
      const alert = one(reused.resources, 'monitor:MetricAlert');
      expect(get(alert.inputs, 'scopes')).to.deep.equal([EXISTING_TOPIC]);
      expect(get(alert.inputs, 'criteria', 'allOf', 0, 'metricName')).to.equal('DeadLetteredCount');
    });
    it('sends the existing topic metrics (dead letters) to the workspace with a setting of its own, logs left alone', () => {
      const setting = one(reused.resources, 'monitor:DiagnosticSetting');
      const workspace = one(reused.resources, 'operationalinsights:Workspace');
      expect(setting.inputs).to.deep.equal({
        name: 'shipscan-azure-reused',
        resourceUri: EXISTING_TOPIC,
        workspaceId: idOf(workspace),
        metrics: [{ category: 'AllMetrics', enabled: true }],
      });
      // poison-and-deadletter.kql reads what this setting exports.
      expect(loadQuery('poison-and-deadletter.kql')).to.match(/AzureMetrics[\s\S]*MICROSOFT\.EVENTGRID[\s\S]*DeadLetteredCount/);
    });
  });

  describe('security-event subscriptions', () => {
    it("filter exactly the registry's operation names, successful writes and deletes, one subscription per 25 names", () => {
      const plan = armOperationNames();
      for (const resources of [created.resources, reused.resources]) {
        const subs = securitySubscriptions(resources);
        expect(subs).to.have.length(plan.subscriptions.length);
        // (the provider adds isSubjectCaseSensitive: false, its default)
        subs.forEach((sub, i) => expect(get(sub.inputs, 'filter')).to.deep.equal({ ...plan.subscriptions[i], isSubjectCaseSensitive: false }));
        const names = subs.flatMap((sub) => get(sub.inputs, 'filter', 'advancedFilters', 0, 'values') as string[]);
        expect(names).to.deep.equal(plan.operationNames);
        for (const sub of subs) {
          expect(get(sub.inputs, 'filter', 'includedEventTypes')).to.deep.equal(['Microsoft.Resources.ResourceWriteSuccess', 'Microsoft.Resources.ResourceDeleteSuccess']);
          expect((get(sub.inputs, 'filter', 'advancedFilters', 0, 'values') as string[]).length).to.be.at.most(25);
        }
      }
      // What the local pipeline evaluates replayed events with (npm start), and what the plan declares.
      expect(securityEventFilters()).to.deep.equal(plan.subscriptions);
      // Every operation a rule reacts to, writes and deletes (NSGs and their rules, storage, vaults, role assignments...).
      expect(plan.operationNames).to.include.members([
        'Microsoft.Network/networkSecurityGroups/write',
        'Microsoft.Network/networkSecurityGroups/securityRules/write',
        'Microsoft.Storage/storageAccounts/write',
        'Microsoft.KeyVault/vaults/write',
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.Authorization/roleAssignments/delete',
        'Microsoft.Insights/diagnosticSettings/delete',
      ]);
    });
    it('more than 25 operation names split over several subscriptions, none over the budget', () => {
      const detector = AZURE_REGISTRY.detectors[0]!;
      const many = { ...AZURE_REGISTRY, detectors: [{ ...detector, operationNames: Array.from({ length: 40 }, (_, i) => `Microsoft.Example/things${i}/write`) }] };
      const filters = securityEventFilters(many);
      expect(filters.length).to.equal(Math.ceil(armOperationNames(many).operationNames.length / 25));
      expect(filters.flatMap((f) => f.advancedFilters[0]!.values)).to.deep.equal(armOperationNames(many).operationNames);
    });
    it('deliver to security-events with the topic identity, retry 30 times over 24 h, dead-letter to the same container, on the same topic', () => {
      const account = dataAccount(created.resources);
      const topic = one(created.resources, 'eventgrid:SystemTopic');
      for (const [index, sub] of securitySubscriptions(created.resources).entries()) {
        expect(sub.inputs).to.deep.include({
          systemTopicName: nameOf(topic),
          eventSubscriptionName: index === 0 ? 'shipscan-azure-created-security' : `shipscan-azure-created-security-${index + 1}`,
          eventDeliverySchema: 'EventGridSchema',
          deliveryWithResourceIdentity: {
            identity: { type: 'SystemAssigned' },
            destination: { endpointType: 'StorageQueue', resourceId: idOf(account), queueName: SECURITY_EVENTS_QUEUE, queueMessageTimeToLiveInSeconds: 604800 },
          },
          retryPolicy: { maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 },
          deadLetterWithResourceIdentity: {
            identity: { type: 'SystemAssigned' },
            deadLetterDestination: { endpointType: 'StorageBlob', resourceId: idOf(account), blobContainerName: DEADLETTER_CONTAINER },
          },
        });
        // After the queue, the app, its reader role and the topic's sender grant (registration follows dependsOn).
        const index_ = (r: PlannedResource) => created.resources.indexOf(r);
        const queue = ofType(created.resources, 'storage:Queue').find((q) => get(q.inputs, 'queueName') === SECURITY_EVENTS_QUEUE)!;
        const before = [queue, one(created.resources, 'web:WebApp'), named(created.resources, 'authorization:RoleAssignment', 'shipscan-security-events-app-reader'), named(created.resources, 'authorization:RoleAssignment', 'shipscan-security-events-topic-queue-sender')];
        for (const r of before) expect(index_(sub), r.name).to.be.greaterThan(index_(r));
      }
      for (const sub of securitySubscriptions(reused.resources)) expect(sub.inputs).to.include({ resourceGroupName: 'eventing', systemTopicName: 'arm-subscription-events' });
    });
  });

  describe('Function App', () => {
    const settingsOf = (plan: PlanResult) =>
      new Map(((get(one(plan.resources, 'web:WebApp').inputs, 'siteConfig', 'appSettings') as { name: string; value: string }[]) ?? []).map((s) => [s.name, s.value]));

    it('runs Node 22 on Flex Consumption from the package container, with its own identity', () => {
      const app = one(created.resources, 'web:WebApp');
      const plan = one(created.resources, 'web:AppServicePlan');
      expect(plan.inputs).to.deep.include({ kind: 'functionapp', reserved: true, sku: { name: 'FC1', tier: 'FlexConsumption' } });
      expect(app.inputs).to.deep.include({ kind: 'functionapp,linux', httpsOnly: true, identity: { type: 'SystemAssigned' }, serverFarmId: idOf(plan) });
      expect(get(app.inputs, 'siteConfig')).to.deep.include({ minTlsVersion: '1.2', scmMinTlsVersion: '1.2', ftpsState: 'Disabled' });
      const pkgAccount = packageAccount(created.resources);
      expect(get(app.inputs, 'functionAppConfig', 'runtime')).to.deep.equal({ name: 'node', version: '22' });
      expect(get(app.inputs, 'functionAppConfig', 'deployment', 'storage')).to.deep.equal({
        type: 'blobContainer',
        value: `https://${nameOf(pkgAccount)}.blob.core.windows.net/${PACKAGE_CONTAINER}`,
        authentication: { type: 'SystemAssignedIdentity' },
      });
    });

    it('uploads the built package with Entra ID into the deployment container, after the deployer may write there', () => {
      const upload = created.resources.filter((r) => r.type === PACKAGE_UPLOAD_TYPE);
      expect(upload).to.have.length(1);
      const pkg = packageAccount(created.resources);
      const dir = path.join(bundleRoot, 'azure');
      const files = ['dist/index.js', 'host.json', 'package.json'];
      expect(upload[0]!.inputs).to.deep.include({
        serviceUrl: `https://${nameOf(pkg)}.blob.core.windows.net/`,
        containerName: PACKAGE_CONTAINER,
        blobName: PACKAGE_BLOB,
        directory: dir,
        // Source maps stay out of the package.
        files,
        sha256: packageTreeSha256(dir, files),
      });
      // The code that runs at deploy time authenticates with DefaultAzureCredential, never a key.
      const provider = String(upload[0]!.inputs['__provider']);
      expect(provider).to.include('require("@azure/identity")').and.include('DefaultAzureCredential');
      expect(provider).to.not.match(/StorageSharedKeyCredential|fromConnectionString|AccountKey|generateSasUrl/);
      expect(settingsOf(created).get(APP_SETTINGS.packageSha256)).to.equal(upload[0]!.inputs['sha256']);
      // Registration waits for dependsOn: the container and the deployer's grant come first, the app after.
      const index = (r: PlannedResource) => created.resources.indexOf(r);
      const writer = ofType(created.resources, 'authorization:RoleAssignment').find((r) => r.name === 'shipscan-deployer-package-writer')!;
      expect(index(upload[0]!)).to.be.greaterThan(index(writer));
      expect(index(upload[0]!)).to.be.lessThan(index(one(created.resources, 'web:WebApp')));
      expect(ofType(created.resources, 'storage:Blob')).to.deep.equal([]);
    });

    it('keeps shared keys off on both storage accounts, the package account included', () => {
      for (const plan of [created, reused]) {
        const accounts = ofType(plan.resources, 'storage:StorageAccount');
        expect(accounts).to.have.length(2);
        for (const account of accounts) expect(account.inputs, account.name).to.deep.include({ allowSharedKeyAccess: false, defaultToOAuthAuthentication: true });
      }
    });

    it('has exactly the agreed settings, identity-based storage and Key Vault references', () => {
      const settings = settingsOf(created);
      const vault = one(created.resources, 'keyvault:Vault');
      const vaultUri = `https://${nameOf(vault)}.vault.azure.net/`;
      const data = dataAccount(created.resources);
      expect(Object.fromEntries(settings)).to.deep.equal({
        AzureWebJobsStorage__accountName: nameOf(data),
        AzureWebJobsStorage__credential: 'managedidentity',
        RESULTS_CONTAINER: 'scan-results',
        DEADLETTER_CONTAINER: 'deadletter',
        SCAN_TABLE: 'ScanMetadata',
        LOCK_TABLE: 'ScanLocks',
        DEDUPE_TABLE: 'EventDedupe',
        DEPLOYMENTS_QUEUE: 'deployments',
        POLLS_QUEUE: 'scan-polls',
        FINDINGS_TABLE: 'Findings',
        FINDINGS_INDEX_TABLE: 'FindingsByState',
        SECURITY_EVENTS_ENABLED: 'true',
        SECURITY_EVENTS_QUEUE: 'security-events',
        FINDINGS_CONFIG: settings.get('FINDINGS_CONFIG'),
        QUALYS_POD: 'US2',
        QUALYS_ACCESS_TOKEN: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/qualys-access-token/)`,
        ALERT_WEBHOOK_URL: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/alert-webhook-url/)`,
        FINDINGS_SMTP_USERNAME: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/findings-smtp-username/)`,
        FINDINGS_SMTP_PASSWORD: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/findings-smtp-password/)`,
        FINDINGS_SLACK_WEBHOOK_URL: `@Microsoft.KeyVault(SecretUri=${vaultUri}secrets/findings-slack-webhook-url/)`,
        KEY_VAULT_URL: vaultUri,
        CACHE_HOURS: '12',
        POLL_MIN_SEC: '10',
        MAX_SCAN_MINUTES: '30',
        SEVERITY_THRESHOLD: 'HIGH',
        APPLICATIONINSIGHTS_CONNECTION_STRING: settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING'),
        SHIPSCAN_PACKAGE_SHA256: settings.get('SHIPSCAN_PACKAGE_SHA256'),
      });
      expect(settings.get('APPLICATIONINSIGHTS_CONNECTION_STRING')).to.match(/^InstrumentationKey=[0-9a-f-]{36};/);
      // shipscan:findings without its secrets: those are the Key Vault references above.
      const findings = JSON.parse(String(settings.get('FINDINGS_CONFIG'))) as Record<string, unknown>;
      expect(findings).to.deep.include({ severityThreshold: 'HIGH', notifyOnResolve: false, disabledRules: [], suppressions: [] });
      expect(findings.email).to.deep.equal({ from: 'shipscan@example.test', to: ['secops@example.test'], smtp: { host: 'smtp.example.test', port: 587, secure: false } });
      expect(findings).to.not.have.any.keys('slackWebhookUrl', 'teamsWebhookUrl');
    });

    it('username/password and a gateway become QUALYS_GATEWAY and two references', () => {
      const settings = settingsOf(reused);
      expect(settings.get('QUALYS_GATEWAY')).to.equal('https://gateway.qg2.apps.qualys.com');
      expect(settings.has('QUALYS_POD')).to.equal(false);
      expect(settings.has('QUALYS_ACCESS_TOKEN')).to.equal(false);
      expect(settings.has('ALERT_WEBHOOK_URL')).to.equal(false);
      expect(settings.get('QUALYS_USERNAME')).to.match(/^@Microsoft\.KeyVault\(SecretUri=https:\/\/[a-z0-9-]+\.vault\.azure\.net\/secrets\/qualys-username\/\)$/);
      expect(settings.get('QUALYS_PASSWORD')).to.match(/^@Microsoft\.KeyVault\(SecretUri=https:\/\/[a-z0-9-]+\.vault\.azure\.net\/secrets\/qualys-password\/\)$/);
    });

    it('no setting, input or output carries a secret value', () => {
      for (const plan of [created, reused]) {
        const text = JSON.stringify({ resources: plan.resources, outputs: plan.outputs });
        for (const secret of Object.values(SECRETS)) expect(text).to.not.include(secret);
        for (const [name, value] of settingsOf(plan)) {
          if (SECRET_APP_SETTINGS.includes(name)) expect(value, name).to.match(/^@Microsoft\.KeyVault\(SecretUri=/);
          expect(value, name).to.not.match(/AccountKey=|SharedAccessSignature=/);
        }
      }
      const secrets = ofType(created.resources, 'keyvault:Secret');
      expect(secrets.map((s) => get(s.inputs, 'secretName')).sort()).to.deep.equal([
        'alert-webhook-url',
        'findings-slack-webhook-url',
        'findings-smtp-password',
        'findings-smtp-username',
        'qualys-access-token',
      ]);
      for (const s of secrets) expect(get(s.inputs, 'properties', 'value')).to.equal('[secret]');
      expect(ofType(reused.resources, 'keyvault:Secret').map((s) => get(s.inputs, 'secretName')).sort()).to.deep.equal(['qualys-password', 'qualys-username']);
    });
  });

  describe('roles', () => {
    const grants = (plan: PlanResult) =>
      ofType(plan.resources, 'authorization:RoleAssignment').map((r) => ({
        name: r.name,
        role: String(get(r.inputs, 'roleDefinitionId')),
        scope: String(get(r.inputs, 'scope')),
        principal: String(get(r.inputs, 'principalId')),
        type: get(r.inputs, 'principalType'),
      }));

    it('gives the app and the topic each role on the narrowest scope', () => {
      const data = dataAccount(created.resources);
      const pkg = packageAccount(created.resources);
      const vault = one(created.resources, 'keyvault:Vault');
      const definition = containerReader(created.resources);
      const appPrincipal = String(get(created.outputs['azure'], 'functionAppPrincipalId'));
      expect(appPrincipal).to.match(/^[0-9a-f-]{36}$/);
      const byName = Object.fromEntries(grants(created).map((g) => [g.name.replace(/^shipscan-/, ''), g]));
      const expected: Record<string, [string, string]> = {
        'app-blob-owner': [role(BUILT_IN_ROLES.storageBlobDataOwner), idOf(data)],
        'app-queue-contributor': [role(BUILT_IN_ROLES.storageQueueDataContributor), idOf(data)],
        'app-table-contributor': [role(BUILT_IN_ROLES.storageTableDataContributor), idOf(data)],
        'app-package-reader': [role(BUILT_IN_ROLES.storageBlobDataContributor), `${idOf(pkg)}/blobServices/default/containers/${PACKAGE_CONTAINER}`],
        'app-kv-secrets-user': [role(BUILT_IN_ROLES.keyVaultSecretsUser), idOf(vault)],
        'app-container-reader': [idOf(definition), `/subscriptions/${PLAN_SUBSCRIPTION_ID}`],
        'app-acr-pull-0': [role(BUILT_IN_ROLES.acrPull), ACR_ID],
        'topic-queue-sender': [role(BUILT_IN_ROLES.storageQueueDataMessageSender), `${idOf(data)}/queueServices/default/queues/${DEPLOYMENTS_QUEUE}`],
        'topic-deadletter-writer': [role(BUILT_IN_ROLES.storageBlobDataContributor), `${idOf(data)}/blobServices/default/containers/${DEADLETTER_CONTAINER}`],
        'security-events-app-reader': [idOf(securityReader(created.resources)), `/subscriptions/${PLAN_SUBSCRIPTION_ID}`],
        'security-events-topic-queue-sender': [role(BUILT_IN_ROLES.storageQueueDataMessageSender), `${idOf(data)}/queueServices/default/queues/${SECURITY_EVENTS_QUEUE}`],
      };
      expect(Object.keys(byName).sort()).to.deep.equal([...Object.keys(expected), 'deployer-package-writer'].sort());
      // The identity running pulumi up (here a signed-in user, per its ARM token) may write the package, nothing else.
      expect(byName['deployer-package-writer']).to.deep.equal({
        name: 'shipscan-deployer-package-writer',
        role: role(BUILT_IN_ROLES.storageBlobDataContributor),
        scope: `${idOf(pkg)}/blobServices/default/containers/${PACKAGE_CONTAINER}`,
        principal: PLAN_CLIENT_OBJECT_ID,
        type: 'User',
      });
      for (const [name, [roleId, scope]] of Object.entries(expected)) {
        expect(byName[name], name).to.deep.include({ role: roleId, scope, type: 'ServicePrincipal' });
        if (name.includes('app-')) expect(byName[name]!.principal, name).to.equal(appPrincipal);
      }
      const topicPrincipals = new Set(grants(created).filter((g) => g.name.includes('topic-')).map((g) => g.principal));
      expect(topicPrincipals.size).to.equal(1);
      expect([...topicPrincipals][0]).to.not.equal(appPrincipal);
    });

    it('the container reader is a custom role with just the two reads, at the monitored subscription', () => {
      const definition = containerReader(created.resources);
      expect(definition.inputs).to.deep.include({
        scope: `/subscriptions/${PLAN_SUBSCRIPTION_ID}`,
        assignableScopes: [`/subscriptions/${PLAN_SUBSCRIPTION_ID}`],
        roleType: 'CustomRole',
        roleName: `shipscan container reader (azure-created, ${PLAN_SUBSCRIPTION_ID})`,
        permissions: [{ actions: [...CONTAINER_READ_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
      });
      expect(CONTAINER_READ_ACTIONS).to.deep.equal(['Microsoft.ContainerInstance/containerGroups/read', 'Microsoft.App/containerApps/read']);
      expect(String(get(definition.inputs, 'roleDefinitionId'))).to.match(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });

    it('the security reader is a custom role with only the read of each type the rules GET, at the monitored subscription', () => {
      for (const [plan, stack] of [
        [created, 'azure-created'],
        [reused, 'azure-reused'],
      ] as const) {
        const definition = securityReader(plan.resources);
        expect(definition.inputs).to.deep.include({
          scope: `/subscriptions/${PLAN_SUBSCRIPTION_ID}`,
          assignableScopes: [`/subscriptions/${PLAN_SUBSCRIPTION_ID}`],
          roleType: 'CustomRole',
          roleName: `shipscan security reader (${stack}, ${PLAN_SUBSCRIPTION_ID})`,
          permissions: [{ actions: [...SECURITY_READ_ACTIONS], notActions: [], dataActions: [], notDataActions: [] }],
        });
        const assignment = named(plan.resources, 'authorization:RoleAssignment', 'shipscan-security-events-app-reader');
        expect(assignment.inputs).to.deep.include({ roleDefinitionId: idOf(definition), scope: `/subscriptions/${PLAN_SUBSCRIPTION_ID}`, principalType: 'ServicePrincipal' });
      }
      // Only reads, no wildcard, and exactly one per resource type a posture rule reads (as RBAC spells them).
      for (const action of SECURITY_READ_ACTIONS) expect(action).to.match(/^Microsoft\.[A-Za-z]+\/[A-Za-z]+\/read$/);
      const ruleTypes = [...new Set(AZURE_REGISTRY.posture.map((r) => r.resourceType))].sort();
      expect(SECURITY_READ_ACTIONS.map((a) => a.replace(/\/read$/, '').toLowerCase()).sort()).to.deep.equal(ruleTypes);
    });

    it('the reused topic identity (read from the existing topic) gets the queue and dead-letter roles', () => {
      const topicGrants = grants(reused).filter((g) => g.name.includes('topic-'));
      expect(topicGrants).to.have.length(3);
      expect(new Set(topicGrants.map((g) => g.principal)).size).to.equal(1);
      expect(topicGrants[0]!.principal).to.match(/^[0-9a-f-]{36}$/);
      expect(grants(reused).some((g) => g.role.endsWith(BUILT_IN_ROLES.acrPull))).to.equal(false);
    });
  });

  describe('storage and Key Vault', () => {
    it('the runtime account is key-less, HTTPS-only, TLS 1.2, private, with the containers, tables, queues and lifecycle', () => {
      const data = dataAccount(created.resources);
      expect(data.inputs).to.deep.include({ kind: 'StorageV2', enableHttpsTrafficOnly: true, minimumTlsVersion: 'TLS1_2', allowBlobPublicAccess: false, allowSharedKeyAccess: false });
      const onData = (suffix: string, key: string) =>
        ofType(created.resources, suffix).filter((r) => get(r.inputs, 'accountName') === nameOf(data)).map((r) => get(r.inputs, key)).sort();
      expect(onData('storage:BlobContainer', 'containerName')).to.deep.equal(['deadletter', 'scan-results']);
      expect(onData('storage:Table', 'tableName')).to.deep.equal(['EventDedupe', 'Findings', 'FindingsByState', 'ScanLocks', 'ScanMetadata']);
      expect(onData('storage:Queue', 'queueName')).to.deep.equal(['deployments', 'deployments-poison', 'scan-polls', 'scan-polls-poison', 'security-events', 'security-events-poison']);
      const rules = get(one(created.resources, 'storage:ManagementPolicy').inputs, 'policy', 'rules') as unknown[];
      expect(rules.map((r) => [get(r, 'definition', 'filters', 'prefixMatch', 0), get(r, 'definition', 'actions', 'baseBlob', 'delete', 'daysAfterModificationGreaterThan')])).to.deep.equal([
        ['scan-results/', 365],
        ['deadletter/', 365],
      ]);
    });

    it('Key Vault: RBAC, soft delete 90 days, purge protection, in the configured tenant', () => {
      const vault = one(created.resources, 'keyvault:Vault');
      expect(get(vault.inputs, 'properties')).to.deep.include({
        tenantId: PLAN_TENANT_ID,
        enableRbacAuthorization: true,
        enableSoftDelete: true,
        softDeleteRetentionInDays: 90,
        enablePurgeProtection: true,
        sku: { family: 'A', name: 'standard' },
      });
      expect(get(vault.inputs, 'properties', 'accessPolicies')).to.equal(undefined);
    });

    it('deploys into the existing group and region when asked', () => {
      for (const r of reused.resources.filter((x) => x.type.startsWith('azure-native:') && get(x.inputs, 'resourceGroupName') !== undefined)) {
        expect([`platform-security`, 'eventing'], r.name).to.include(get(r.inputs, 'resourceGroupName'));
      }
      expect(get(one(reused.resources, 'web:WebApp').inputs, 'location')).to.equal('northeurope');
    });
  });

  describe('operations', () => {
    it('every saved-search query is deployed with its file text', () => {
      const searches = ofType(created.resources, 'operationalinsights:SavedSearch');
      const expected = QUERY_CATALOG.filter((q) => q.use === 'saved-search');
      expect(searches.map((s) => get(s.inputs, 'query'))).to.deep.equal(expected.map((q) => loadQuery(q.file)));
      expect(searches.map((s) => get(s.inputs, 'displayName'))).to.deep.equal(expected.map((q) => q.displayName));
      for (const s of searches) expect(s.inputs).to.include({ category: 'shipscan' });
    });

    it('the workbook shows scans over time, severities, top images and failures from the checked queries', () => {
      const workbook = one(created.resources, 'applicationinsights:Workbook');
      const workspace = one(created.resources, 'operationalinsights:Workspace');
      const content = JSON.parse(String(get(workbook.inputs, 'serializedData'))) as { items: { name: string; content: { query?: string; crossComponentResources?: string[] } }[] };
      const steps = content.items.filter((i) => i.content.query !== undefined);
      expect(steps.map((s) => s.name)).to.deep.equal(WORKBOOK_STEPS.map((s) => s.name));
      expect(steps.map((s) => s.name)).to.include.members(['scans-over-time', 'vulnerabilities-by-severity', 'top-vulnerable-images', 'failures']);
      // A findings section under its own header: open findings by severity, transitions, actors, rules.
      const names = content.items.map((i) => i.name);
      expect(names.slice(names.indexOf('findings-title'))).to.deep.equal(['findings-title', 'findings-open-by-severity', 'findings-recent-transitions', 'findings-top-actors', 'findings-by-rule']);
      for (const step of steps) {
        expect(step.content.crossComponentResources).to.deep.equal([idOf(workspace)]);
        expect(step.content.query).to.not.match(/\|\s*render/);
      }
      expect(workbook.inputs).to.include({ kind: 'shared', category: 'workbook', sourceId: idOf(workspace).toLowerCase() });
    });

    it('alerts on failed scans, poison messages, critical findings and dead-lettered events', () => {
      const workspace = one(created.resources, 'operationalinsights:Workspace');
      const rules = ofType(created.resources, 'monitor:ScheduledQueryRule');
      expect(rules.map((r) => get(r.inputs, 'criteria', 'allOf', 0, 'query'))).to.deep.equal([
        loadQuery('alert-failed-scans.kql'),
        loadQuery('alert-poison-messages.kql'),
        loadQuery('alert-critical-findings.kql'),
      ]);
      const critical = named(created.resources, 'monitor:ScheduledQueryRule', 'shipscan-alert-critical-findings');
      expect(critical.inputs).to.deep.include({ severity: 0, displayName: 'shipscan (azure-created): critical findings opened' });
      for (const r of rules) {
        expect(r.inputs).to.deep.include({ kind: 'LogAlert', scopes: [idOf(workspace)], enabled: true });
        expect(get(r.inputs, 'criteria', 'allOf', 0)).to.deep.include({ timeAggregation: 'Count', operator: 'GreaterThan', threshold: 0 });
      }
      const dead = one(created.resources, 'monitor:MetricAlert');
      expect(get(dead.inputs, 'scopes')).to.deep.equal([idOf(one(created.resources, 'eventgrid:SystemTopic'))]);
      const diagnostics = one(created.resources, 'monitor:DiagnosticSetting');
      expect(diagnostics.inputs).to.deep.include({ workspaceId: idOf(workspace), metrics: [{ category: 'AllMetrics', enabled: true }] });
    });

    it('alerts email the configured address through one action group, and stay silent without one', () => {
      const group = one(created.resources, 'monitor:ActionGroup');
      expect(group.inputs).to.deep.include({ enabled: true, groupShortName: 'shipscan', emailReceivers: [{ name: 'shipscan-operators', emailAddress: 'secops@example.test', useCommonAlertSchema: true }] });
      for (const rule of ofType(created.resources, 'monitor:ScheduledQueryRule')) expect(get(rule.inputs, 'actions', 'actionGroups')).to.deep.equal([idOf(group)]);
      expect(get(one(created.resources, 'monitor:MetricAlert').inputs, 'actions')).to.deep.equal([{ actionGroupId: idOf(group) }]);
      expect(ofType(reused.resources, 'monitor:ActionGroup')).to.deep.equal([]);
      for (const rule of ofType(reused.resources, 'monitor:ScheduledQueryRule')) expect(get(rule.inputs, 'actions')).to.equal(undefined);
    });

    it('deploys each query file as it is on disk, minus its header comment (no stale or altered copy)', () => {
      // Computed here from the raw file rather than with loadQuery, so a loader that caches, trims
      // or rewrites query text fails this test instead of agreeing with itself.
      const onDisk = (file: string) => {
        const lines = readFileSync(path.join(__dirname, '..', '..', 'queries', file), 'utf8').split('\n');
        const body = lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('//'));
        return lines.slice(body).join('\n').trim();
      };
      const deployed = [
        ...ofType(created.resources, 'operationalinsights:SavedSearch').map((s) => [`${String(get(s.inputs, 'savedSearchId')).replace(/^shipscan-/, '')}.kql`, get(s.inputs, 'query')]),
        ...ofType(created.resources, 'monitor:ScheduledQueryRule').map((r) => [`${String(r.name).replace(/^shipscan-/, '')}.kql`, get(r.inputs, 'criteria', 'allOf', 0, 'query')]),
      ];
      expect(deployed.map(([file]) => file).sort()).to.deep.equal(QUERY_CATALOG.map((q) => q.file).sort());
      for (const [file, query] of deployed) {
        expect(query, String(file)).to.equal(onDisk(String(file)));
        expect(String(query), String(file)).to.not.match(/^\s*\/\//);
      }
    });
  });
});
