import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PLAN_SUBSCRIPTION_ID, PlanError, runPlanDetailed, type PlanResult, type PlannedResource } from '../../local/plan';
import { checkAzureInvariants, type PlannedAzureResource } from '../../azure/invariants';
import { APP_SETTINGS, BLOB_UPLOADS_QUEUE, DEADLETTER_CONTAINER, IMAGE_PUSHES_QUEUE, QSCANNER_PACKAGE_PATH, QUEUES, REGISTRY_TOPIC_TYPE, SECURITY_EVENTS_QUEUE, SECURITY_EVENTS_QUEUES, STORAGE_TOPIC_TYPE } from '../../azure/names';
import { BUILT_IN_ROLES } from '../../azure/roles';
import { blobCreatedFilter, imagePushFilter } from '../../azure/event-subscription-filter';
import { evaluateEventGridFilter } from '../../shared/event-pattern/event-grid-filter';
import { blobCreatedEvent, imagePushEvent } from '../../local/demo/artifact-events';

function placeholderBundle(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-azure-bundle-'));
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), '{"version":"2.0"}');
  writeFileSync(path.join(root, 'azure', 'package.json'), '{"name":"shipscan-functions"}');
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  return root;
}

const SUB = PLAN_SUBSCRIPTION_ID;
const REGISTRIES = [
  `/subscriptions/${SUB}/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/shopacr`,
  `/subscriptions/${SUB}/resourceGroups/registries/providers/Microsoft.ContainerRegistry/registries/platformacr`,
];
const ACCOUNTS = [
  `/subscriptions/${SUB}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/uploadsprod`,
  `/subscriptions/${SUB}/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/partnerdrop`,
];
const QUALYS = { pod: 'US2', accessToken: { secret: 'artifact-test-token' } };

const ofType = (resources: readonly PlannedResource[], suffix: string) => resources.filter((r) => r.type === `azure-native:${suffix}`);
const get = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((here, key) => (here !== null && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined), value);
const settingsOf = (plan: PlanResult) =>
  Object.fromEntries((get(ofType(plan.resources, 'web:WebApp')[0]!.inputs, 'siteConfig', 'appSettings') as { name: string; value: unknown }[]).map((s) => [s.name, s.value]));
const roleOf = (r: PlannedResource) => String(get(r.inputs, 'roleDefinitionId')).split('/').pop();
const count = (plan: PlanResult) => {
  const counts: Record<string, number> = {};
  for (const r of plan.resources) counts[r.type.replace(/^azure-native:/, '')] = (counts[r.type.replace(/^azure-native:/, '')] ?? 0) + 1;
  return counts;
};

describe('Azure artifacts (registry pushes, blob uploads) under Pulumi mocks', function () {
  // Five plans at once, each a child process: on a busy two-core machine a plan alone can take over a minute.
  this.timeout(420_000);
  let bundleRoot: string;
  let base: PlanResult;
  let all: PlanResult;
  let containers: PlanResult;
  let pushesOnly: PlanResult;
  let reuse: PlanResult;
  const EXISTING = {
    [REGISTRIES[0]!]: `/subscriptions/${SUB}/resourceGroups/eventing/providers/Microsoft.EventGrid/systemTopics/shopacr-events`,
    [ACCOUNTS[1]!]: `/subscriptions/${SUB}/resourceGroups/eventing/providers/Microsoft.EventGrid/systemTopics/partnerdrop-events`,
  };

  const plan = (stack: string, artifacts: Record<string, unknown> | undefined) =>
    runPlanDetailed({
      stack,
      timeoutMs: 300_000,
      env: { SHIPSCAN_BUNDLE_DIR: bundleRoot },
      config: { 'shipscan:azure': { enabled: true, ...(artifacts ? { artifacts } : {}) }, 'shipscan:qualys': QUALYS },
    });

  before(async () => {
    bundleRoot = placeholderBundle();
    [base, all, containers, pushesOnly, reuse] = await Promise.all([
      plan('art-base', undefined),
      plan('art-all', { enabled: true, registries: REGISTRIES, storageAccounts: ACCOUNTS, maxObjectMb: 64, qscanner: true }),
      plan('art-containers', { enabled: true, storageAccounts: [ACCOUNTS[0]], containers: { include: ['releases', 'drop'], exclude: ['tmp'] }, prefixes: ['builds/'] }),
      plan('art-pushes', { enabled: true, registries: [REGISTRIES[0]] }),
      plan('art-reuse', { enabled: true, registries: REGISTRIES, storageAccounts: ACCOUNTS, existingSystemTopics: EXISTING }),
    ]);
  });

  after(() => rmSync(bundleRoot, { recursive: true, force: true }));

  it('adds nothing while azure.artifacts is off', () => {
    expect(ofType(base.resources, 'eventgrid:SystemTopic')).to.have.length(1);
    // The stack's own queues, the security-event queue included (azure.securityEvents is on by default).
    expect(ofType(base.resources, 'storage:Queue')).to.have.length(QUEUES.length + SECURITY_EVENTS_QUEUES.length);
    expect(Object.keys(settingsOf(base))).to.not.include.members([APP_SETTINGS.imagePushesQueue, APP_SETTINGS.blobUploadsQueue]);
    expect(base.resources.filter((r) => r.type === 'shipscan:azure:AzureArtifacts')).to.deep.equal([]);
  });

  it('resource counts: per registry a topic, two topic grants and a subscription; per account the same plus the read grant; two queues per kind', () => {
    const delta = (plan: PlanResult) => {
      const a = count(plan);
      const b = count(base);
      return Object.fromEntries(Object.keys(a).filter((k) => a[k] !== b[k]).map((k) => [k, a[k]! - (b[k] ?? 0)]));
    };
    expect(delta(all)).to.deep.equal({
      'eventgrid:SystemTopic': 4,
      'eventgrid:SystemTopicEventSubscription': 4,
      'authorization:RoleAssignment': 4 * 2 + 2,
      'storage:Queue': 4,
      'shipscan:azure:AzureArtifacts': 1,
    });
    expect(all.resources.length - base.resources.length).to.equal(23);
    expect(delta(pushesOnly)).to.deep.equal({ 'eventgrid:SystemTopic': 1, 'eventgrid:SystemTopicEventSubscription': 1, 'authorization:RoleAssignment': 2, 'storage:Queue': 2, 'shipscan:azure:AzureArtifacts': 1 });
    // One account, read on its two included containers.
    expect(delta(containers)).to.deep.equal({ 'eventgrid:SystemTopic': 1, 'eventgrid:SystemTopicEventSubscription': 1, 'authorization:RoleAssignment': 2 + 2, 'storage:Queue': 2, 'shipscan:azure:AzureArtifacts': 1 });
  });

  it('reuses the system topics a source already has: only the subscription and the topic identity grants are added there', () => {
    const created = ofType(reuse.resources, 'eventgrid:SystemTopic').map((t) => String(get(t.inputs, 'source')));
    expect(created.filter((source) => source !== `/subscriptions/${SUB}`).sort()).to.deep.equal([REGISTRIES[1]!, ACCOUNTS[0]!].sort());
    expect(reuse.resources.length, 'two topics fewer than creating all four').to.equal(all.resources.length - 2);
    const onExisting = ofType(reuse.resources, 'eventgrid:SystemTopicEventSubscription').filter((sub) => get(sub.inputs, 'resourceGroupName') === 'eventing');
    expect(onExisting.map((sub) => [get(sub.inputs, 'systemTopicName'), get(sub.inputs, 'deliveryWithResourceIdentity', 'destination', 'queueName')]).sort()).to.deep.equal([
      ['partnerdrop-events', BLOB_UPLOADS_QUEUE],
      ['shopacr-events', IMAGE_PUSHES_QUEUE],
    ]);
    // The reused topics' own identities get the send and dead-letter grants, nothing broader.
    const grantsOf = (plan: PlanResult) => ofType(plan.resources, 'authorization:RoleAssignment').filter((g) => /-(acr|blob)-topic-/.test(g.name));
    expect(grantsOf(reuse)).to.have.length(grantsOf(all).length);
    const report = checkAzureInvariants(reuse.resources as PlannedAzureResource[]);
    expect(report.violations, JSON.stringify(report.violations, null, 2)).to.deep.equal([]);
  });

  it('refuses a reused topic that belongs to another source', async () => {
    let error: unknown;
    try {
      await plan('art-reuse-wrong', { enabled: true, registries: [REGISTRIES[1]], storageAccounts: [ACCOUNTS[0]], existingSystemTopics: { [REGISTRIES[0]!]: EXISTING[REGISTRIES[0]!] } });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PlanError);
    expect(String((error as Error).message)).to.match(/existingSystemTopics.*not one of registries or storageAccounts/);
  });

  it('every invariant holds with artifacts on', () => {
    for (const plan of [all, containers, pushesOnly, reuse]) {
      const report = checkAzureInvariants(plan.resources as PlannedAzureResource[]);
      expect(report.violations, `${plan.stack}: ${JSON.stringify(report.violations, null, 2)}`).to.deep.equal([]);
    }
  });

  it('a system topic per source, in its location, with its own identity, on the source itself', () => {
    const topics = ofType(all.resources, 'eventgrid:SystemTopic').filter((t) => get(t.inputs, 'topicType') !== 'Microsoft.Resources.Subscriptions');
    expect(topics.map((t) => get(t.inputs, 'source')).sort()).to.deep.equal([...REGISTRIES, ...ACCOUNTS].sort());
    for (const t of topics) {
      expect(get(t.inputs, 'identity', 'type')).to.equal('SystemAssigned');
      expect(get(t.inputs, 'location')).to.equal('westeurope');
      const source = String(get(t.inputs, 'source'));
      expect(get(t.inputs, 'topicType')).to.equal(source.includes('ContainerRegistry') ? REGISTRY_TOPIC_TYPE : STORAGE_TOPIC_TYPE);
    }
  });

  it('subscriptions deliver pushes to image-pushes and blobs to blob-uploads with the topic identity, retrying and dead-lettering like the ARM one', () => {
    const subs = ofType(all.resources, 'eventgrid:SystemTopicEventSubscription');
    const queueOf = (s: PlannedResource) => get(s.inputs, 'deliveryWithResourceIdentity', 'destination', 'queueName');
    expect(subs.map(queueOf).filter((q) => q !== SECURITY_EVENTS_QUEUE).sort()).to.deep.equal(['blob-uploads', 'blob-uploads', 'deployments', 'image-pushes', 'image-pushes']);
    for (const s of subs) {
      expect(get(s.inputs, 'retryPolicy')).to.deep.equal({ maxDeliveryAttempts: 30, eventTimeToLiveInMinutes: 1440 });
      expect(get(s.inputs, 'deadLetterWithResourceIdentity', 'deadLetterDestination', 'blobContainerName')).to.equal(DEADLETTER_CONTAINER);
      // The provider fills isSubjectCaseSensitive with its default.
      if (queueOf(s) === IMAGE_PUSHES_QUEUE) expect(get(s.inputs, 'filter')).to.deep.equal({ ...imagePushFilter(), isSubjectCaseSensitive: false });
      if (queueOf(s) === BLOB_UPLOADS_QUEUE) expect(get(s.inputs, 'filter')).to.deep.equal({ ...blobCreatedFilter({ containers: { include: [], exclude: [] }, prefixes: [] }), isSubjectCaseSensitive: false });
    }
    const filtered = ofType(containers.resources, 'eventgrid:SystemTopicEventSubscription').find((s) => queueOf(s) === BLOB_UPLOADS_QUEUE)!;
    expect(get(filtered.inputs, 'filter', 'advancedFilters')).to.deep.equal([
      { operatorType: 'StringBeginsWith', key: 'subject', values: ['/blobServices/default/containers/releases/blobs/builds/', '/blobServices/default/containers/drop/blobs/builds/'] },
      { operatorType: 'StringNotBeginsWith', key: 'subject', values: ['/blobServices/default/containers/tmp/blobs/'] },
    ]);
  });

  it('the planned filters are what the local pipeline evaluates: they pass and drop the events they should', () => {
    const rules = { containers: { include: ['releases'], exclude: [] }, prefixes: ['builds/'] };
    const blob = (container: string, name: string, schema: 'eventgrid' | 'cloudevents' = 'eventgrid') =>
      blobCreatedEvent({ accountId: ACCOUNTS[0]!, container, blob: name, size: 10, schema });
    expect(evaluateEventGridFilter(blobCreatedFilter(rules), blob('releases', 'builds/app 1.zip'), 'eventgrid').matched).to.equal(true);
    expect(evaluateEventGridFilter(blobCreatedFilter(rules), blob('releases', 'docs/readme.md'), 'eventgrid').matched).to.equal(false);
    expect(evaluateEventGridFilter(blobCreatedFilter(rules), blob('other', 'builds/x.zip'), 'eventgrid').matched).to.equal(false);
    const push = imagePushEvent({ registryId: REGISTRIES[0]!, host: 'shopacr.azurecr.io', repository: 'shop/api', tag: '1', digest: `sha256:${'a'.repeat(64)}` });
    expect(evaluateEventGridFilter(imagePushFilter(), push, 'eventgrid').matched).to.equal(true);
    expect(evaluateEventGridFilter(imagePushFilter(), { ...push, eventType: 'Microsoft.ContainerRegistry.ImageDeleted' }, 'eventgrid').matched).to.equal(false);
  });

  it('each topic may send only to its own queue and write only dead letters', () => {
    const grants = ofType(all.resources, 'authorization:RoleAssignment');
    const topicGrants = grants.filter((g) => g.name.includes('-topic-'));
    expect(topicGrants.filter((g) => g.name.includes('artifacts'))).to.have.length(8);
    for (const g of topicGrants.filter((g) => g.name.includes('artifacts'))) {
      const scope = String(get(g.inputs, 'scope'));
      if (roleOf(g) === BUILT_IN_ROLES.storageQueueDataMessageSender) expect(scope).to.match(g.name.includes('-acr-') ? /\/queues\/image-pushes$/ : /\/queues\/blob-uploads$/);
      else {
        expect(roleOf(g)).to.equal(BUILT_IN_ROLES.storageBlobDataContributor);
        expect(scope).to.match(/\/containers\/deadletter$/);
      }
    }
  });

  it('the app reads blobs only of the configured accounts, or of their included containers; registries get no new role', () => {
    const readers = (plan: PlanResult) => ofType(plan.resources, 'authorization:RoleAssignment').filter((g) => roleOf(g) === BUILT_IN_ROLES.storageBlobDataReader);
    expect(readers(all).map((g) => get(g.inputs, 'scope')).sort()).to.deep.equal([...ACCOUNTS].sort());
    expect(readers(containers).map((g) => get(g.inputs, 'scope')).sort()).to.deep.equal(
      ['drop', 'releases'].map((c) => `${ACCOUNTS[0]}/blobServices/default/containers/${c}`),
    );
    for (const g of readers(all)) expect(get(g.inputs, 'principalType')).to.equal('ServicePrincipal');
    expect(readers(pushesOnly)).to.deep.equal([]);
    expect(ofType(pushesOnly.resources, 'authorization:RoleAssignment').filter((g) => roleOf(g) === BUILT_IN_ROLES.acrPull)).to.deep.equal([]);
  });

  it('app settings name the queues, the accounts, the rules, the size cap and QScanner in the package', () => {
    const s = settingsOf(all);
    expect(s).to.include({
      [APP_SETTINGS.imagePushesQueue]: IMAGE_PUSHES_QUEUE,
      [APP_SETTINGS.blobUploadsQueue]: BLOB_UPLOADS_QUEUE,
      [APP_SETTINGS.artifactStorageAccounts]: 'uploadsprod,partnerdrop',
      [APP_SETTINGS.maxObjectMb]: '64',
      [APP_SETTINGS.qscannerPath]: QSCANNER_PACKAGE_PATH,
    });
    const c = settingsOf(containers);
    expect(c).to.include({ [APP_SETTINGS.artifactContainersInclude]: 'releases,drop', [APP_SETTINGS.artifactContainersExclude]: 'tmp', [APP_SETTINGS.artifactPrefixes]: '["builds/"]' });
    expect(c).to.not.have.property(APP_SETTINGS.qscannerPath);
    expect(settingsOf(pushesOnly)).to.not.have.property(APP_SETTINGS.blobUploadsQueue);
  });

  it('refuses a source in another subscription and QScanner without an access token', async () => {
    const other = `/subscriptions/99999999-9999-9999-9999-999999999999/resourceGroups/data/providers/Microsoft.Storage/storageAccounts/elsewhere`;
    let error: unknown;
    try {
      await plan('art-other-sub', { enabled: true, storageAccounts: [other] });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(PlanError);
    expect(String((error as Error).message)).to.match(/storageAccounts\[0\].*in subscription 99999999/);
    let tokenError: unknown;
    try {
      await runPlanDetailed({
        stack: 'art-no-token',
        env: { SHIPSCAN_BUNDLE_DIR: bundleRoot },
        config: {
          'shipscan:azure': { enabled: true, artifacts: { enabled: true, storageAccounts: [ACCOUNTS[0]], qscanner: true } },
          'shipscan:qualys': { pod: 'US2', username: { secret: 'u-art' }, password: { secret: 'p-art' } },
        },
      });
    } catch (e) {
      tokenError = e;
    }
    expect(String((tokenError as Error)?.message)).to.include('azure.artifacts.qscanner needs a Qualys access token');
  });
});
