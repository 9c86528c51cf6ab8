import { expect } from 'chai';
import { TableClient } from '@azure/data-tables';
import type { InvocationContext } from '@azure/functions';
import { startAzurite, type RunningAzurite } from '../../local/emulators/azurite';
import { startResourceGraphSim, type ResourceGraphSim } from '../../local/resource-graph-sim/server';
import { DEMO_SUBSCRIPTIONS, EXPECTED_FAILURES, seedResources, syntheticStorageAccounts } from '../../local/resource-graph-sim/seed';
import { TableFindingStore } from '../../functions/azure/findings-store';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { SECURITY_FINDING_EVENT } from '../../functions/azure/telemetry-names';
import { FindingRecorder } from '../../shared/findings/recorder';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { INVENTORY_TYPES } from '../../shared/rules/azure/resource-graph';
import type { Finding } from '../../shared/findings/finding';
import type { DigestChannel, RenderedDigest } from '../../shared/notify/digest';
import {
  createInventoryQueueHandler,
  INVENTORY_RUN_EVENT,
  requestOf,
  runInventory,
  sdkResourceGraph,
  TableResourceStore,
  TableRunStore,
  type InventoryHandlerDeps,
  type InventoryRequest,
  type InventorySettings,
  type RuleScope,
} from '../../functions/azure/inventory';
import { FindingsConfigSchema } from '../../shared/findings/config';
import { syncResourceFromEvent } from '../../functions/azure/inventory/realtime';
import { evaluateArmResource, routeArmEvent } from '../../shared/rules/azure/registry';
import type { ArmResource } from '../../shared/rules/azure/arm';
import { loadCorpus } from '../support/corpus';

/**
 * The Azure inventory end to end on Azurite, over the Resource Graph simulator through the real SDK client: the
 * Resources table, the findings lifecycle (created failing -> ACTIVE -> fixed -> RESOLVED -> gone -> stays
 * RESOLVED with its reason; an ACTIVE finding of a deleted resource -> RESOLVED `resource deleted`), a failed
 * query that deletes nothing, only changes written, one digest per run.
 */

const credential = { getToken: async () => ({ token: 'lifecycle-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const SUBSCRIPTIONS = Object.values(DEMO_SUBSCRIPTIONS);
const STORAGE = 'microsoft.storage/storageaccounts';

class RecordingDigests implements DigestChannel {
  readonly name = 'recording';
  readonly sent: RenderedDigest[] = [];
  async sendDigest(digest: RenderedDigest): Promise<void> {
    this.sent.push(digest);
  }
}

describe('Azure inventory lifecycle (Azurite + Resource Graph simulator)', function () {
  this.timeout(120_000);
  let azurite: RunningAzurite;
  let graph: ResourceGraphSim;
  let fixtures = 0;
  let clock = Date.parse('2026-12-01T00:00:00.000Z');
  const now = () => new Date((clock += 1000));

  const table = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });
  beforeEach(async () => {
    graph = await startResourceGraphSim({ resources: seedResources() });
  });
  afterEach(async () => {
    await graph.stop();
  });

  function fixture(ruleScopes: RuleScope[] = []) {
    fixtures += 1;
    const names = { findings: `InvFindings${fixtures}`, index: `InvFindingsByState${fixtures}`, resources: `InvResources${fixtures}`, runs: `InvRuns${fixtures}` };
    const store = new TableFindingStore(table(names.findings), table(names.index));
    const recorder = new FindingRecorder({ store, channels: [], policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode: 'deferred' }, suppressions: [], persistTouches: false, now });
    const digests = new RecordingDigests();
    const telemetry = new MemoryTelemetry();
    const deps: InventoryHandlerDeps = {
      graph: sdkResourceGraph(credential, graph.endpoint),
      resources: new TableResourceStore(table(names.resources)),
      runs: new TableRunStore(table(names.runs)),
      recorder,
      digestChannels: [digests],
      telemetry,
      config: { allowLists: DEFAULT_ALLOW_LISTS, disabledRules: [], ruleScopes },
      now,
      prepare: store.ensure,
      findings: store,
    };
    const request = (payload: Parameters<typeof requestOf>[0]): InventoryRequest => requestOf(payload, { subscriptions: SUBSCRIPTIONS, types: [...INVENTORY_TYPES], disabledRules: [] });
    let runs = 0;
    const run = (payload: Parameters<typeof requestOf>[0] = { service: 'all' }) => runInventory(request(payload), `run-${fixtures}-${++runs}`, 'manual', deps);
    const findings = async (): Promise<Finding[]> => {
      await store.ensure();
      const out: Finding[] = [];
      for (const state of ['ACTIVE', 'RESOLVED', 'SUPPRESSED'] as const) for (const r of await store.query({ state })) out.push(r.finding);
      return out;
    };
    const byName = async (name: string) => (await findings()).filter((f) => f.resource.name === name);
    const rows = async () => {
      const out: Record<string, unknown>[] = [];
      for await (const e of table(names.resources).listEntities<Record<string, unknown>>()) out.push(e);
      return out;
    };
    const findingEntities = async () => {
      const out: Record<string, unknown>[] = [];
      for await (const e of table(names.findings).listEntities<Record<string, unknown>>()) out.push(e);
      return out;
    };
    const runRecord = (runId: string) => table(names.runs).getEntity<Record<string, unknown>>('run', runId);
    return { deps, run, findings, byName, rows, digests, telemetry, findingEntities, store, runRecord };
  }

  const fix = (name: string, properties: Record<string, unknown>) => {
    const resource = seedResources().find((r) => r.name === name)!;
    graph.put({ ...resource, properties: { ...resource.properties, ...properties } });
  };
  const idOf = (name: string) => seedResources().find((r) => r.name === name)!.id;

  it('a failing resource opens ACTIVE, its fix RESOLVES it, and when it is gone it stays RESOLVED with its reason', async () => {
    const f = fixture();
    const first = await f.run();
    expect(first.complete).to.equal(true);
    expect(first.collect).to.include({ queries: INVENTORY_TYPES.length, rows: seedResources().length });
    expect((await f.rows()).length).to.equal(seedResources().length);
    const active = (await f.findings()).filter((x) => x.state === 'ACTIVE');
    expect(active.map((x) => `${x.ruleId} ${x.resource.name} ${x.subject}`).sort()).to.deep.equal([...EXPECTED_FAILURES].sort());
    expect(active.every((x) => x.source.trigger === 'schedule' && x.source.runId === first.runId)).to.equal(true);

    // Fixed: the next inventory sees the new configuration and resolves exactly that finding.
    fix('shipscanlogs01', { allowBlobPublicAccess: false });
    const second = await f.run({ type: STORAGE });
    expect(second.transitions.map((t) => `${t.kind} ${t.finding.resource.name}`)).to.deep.equal(['resolve shipscanlogs01']);
    const [resolved] = await f.byName('shipscanlogs01');
    expect(resolved).to.include({ state: 'RESOLVED', resolvedReason: 'fixed' });

    // Gone: the row is deleted; the finding stays RESOLVED, with the reason it was resolved for.
    graph.remove(idOf('shipscanlogs01'));
    const third = await f.run({ type: STORAGE });
    expect(third).to.include({ complete: true, deleted: 1 });
    expect(third.transitions).to.deep.equal([]);
    expect((await f.rows()).some((r) => r.ResourceId === idOf('shipscanlogs01'))).to.equal(false);
    const [still] = await f.byName('shipscanlogs01');
    expect(still).to.include({ state: 'RESOLVED', resolvedReason: 'fixed', resolvedAt: resolved!.resolvedAt });
  });

  describe('real time: an ARM event updates the Resources row with the findings', () => {
    /** The published storage write and delete events (Event Grid schema), aimed at a seeded resource. */
    const armEvent = (file: string, id: string, eventTime: string): unknown => {
      const [template] = loadCorpus<Record<string, unknown>[]>(`azure/${file}`);
      const data = template!.data as Record<string, unknown>;
      // The operation follows the resource's type: `<namespace>/<type>/<write|delete>` of the template's verb.
      const [, namespace, type] = /\/providers\/([^/]+)\/([^/]+)\/[^/]+$/.exec(id)!;
      const operationName = `${namespace}/${type}/${String(data.operationName).split('/').pop()}`;
      return { ...template, id: `evt-${file.split('-')[1]}-${eventTime}`, subject: id, eventTime, data: { ...data, resourceUri: id, operationName, subscriptionId: id.split('/')[2] } };
    };
    /**
     * What the security-event pipeline does with an event (the findings, with the event as origin), plus the sync
     * of the Resources row under test when `sync` is set. `described` is the GET's answer, undefined when gone.
     */
    async function deliver(f: ReturnType<typeof fixture>, raw: unknown, described: ArmResource | undefined, sync: boolean) {
      const outcomes = routeArmEvent(raw, { allowLists: DEFAULT_ALLOW_LISTS });
      const synced = [];
      for (const o of outcomes) {
        if (o.kind === 'evaluate' && described) {
          const result = evaluateArmResource(described, { allowLists: DEFAULT_ALLOW_LISTS, origin: { trigger: 'event', event: o.event }, ruleIds: o.ruleIds });
          if (result.kind !== 'evaluated') throw new Error(`not evaluated: ${JSON.stringify(result)}`);
          const evaluated = new Set(result.evaluatedRuleIds);
          await f.deps.recorder.reconcile({ resource: { cloud: 'azure', scope: result.scope, resourceId: result.resource.id }, covers: (x) => evaluated.has(x.ruleId), failures: result.observations, observedAt: o.event.eventTime, resolvedReason: 'fixed', source: { trigger: 'event', eventId: o.event.id } });
        }
        if (o.kind === 'resolve') await f.deps.recorder.resolveResource({ cloud: 'azure', scope: o.scope, resourceId: o.resource.id }, o.observedAt, o.reason);
        if (sync && (o.kind === 'evaluate' || o.kind === 'resolve')) synced.push(await syncResourceFromEvent(o, described, { resources: f.deps.resources, types: [...INVENTORY_TYPES] }));
      }
      return { outcomes, synced };
    }
    const seeded = (name: string) => seedResources().find((r) => r.name === name)!;

    it('a fixing write event resolves the finding and rewrites the row with what Azure now holds; an unsynced row keeps the old configuration', async () => {
      const f = fixture();
      await f.run();
      expect((await f.byName('shipscanlogs01'))[0]).to.include({ state: 'ACTIVE' });
      expect((await f.byName('sandboxdata'))[0]).to.include({ state: 'ACTIVE' });

      // Both accounts are fixed in Azure; the event pipeline sees both writes, but only the first row is synced.
      const fixedLogs = { ...seeded('shipscanlogs01'), properties: { ...seeded('shipscanlogs01').properties, allowBlobPublicAccess: false } };
      const fixedSandbox = { ...seeded('sandboxdata'), properties: { ...seeded('sandboxdata').properties, allowBlobPublicAccess: false } };
      const at = now().toISOString();
      const first = await deliver(f, armEvent('eventgrid-resourcewritesuccess-storage.azuredocs.json', fixedLogs.id, at), fixedLogs, true);
      expect(first.synced).to.deep.equal([{ status: 'written', resourceId: fixedLogs.id, type: STORAGE }]);
      await deliver(f, armEvent('eventgrid-resourcewritesuccess-storage.azuredocs.json', fixedSandbox.id, now().toISOString()), fixedSandbox, false);
      for (const name of ['shipscanlogs01', 'sandboxdata']) expect((await f.byName(name))[0], name).to.include({ state: 'RESOLVED', resolvedReason: 'fixed' });
      const row = (await f.rows()).find((r) => r.ResourceId === fixedLogs.id)!;
      expect(row).to.include({ LastSeenAt: at, RunId: `event:evt-resourcewritesuccess-${at}` });

      // The stored inventory holds what Azure holds for the synced account; the other row is a week old until the
      // next inventory (the recorder still keeps an older observation from reopening what the event resolved).
      const config = async (id: string) => JSON.parse(String((await f.rows()).find((r) => r.ResourceId === id)!.ConfigJson ?? '{}')) as { properties?: Record<string, unknown> };
      expect((await config(fixedLogs.id)).properties).to.include({ allowBlobPublicAccess: false });
      expect((await config(fixedSandbox.id)).properties).to.include({ allowBlobPublicAccess: true });
      const evaluation = await f.run({});
      expect(evaluation.transitions).to.deep.equal([]);
      for (const name of ['shipscanlogs01', 'sandboxdata']) expect((await f.byName(name))[0], name).to.include({ state: 'RESOLVED' });
    });

    it('a delete event removes the row; a type the inventory does not collect is left alone', async () => {
      const f = fixture();
      await f.run();
      const gone = seeded('orders-aci');
      const { synced } = await deliver(f, armEvent('eventgrid-resourcedeletesuccess-storage.azuredocs.json', gone.id, now().toISOString()), undefined, true);
      expect(synced).to.deep.equal([{ status: 'deleted', resourceId: gone.id.toLowerCase(), type: 'microsoft.containerinstance/containergroups' }]);
      expect((await f.rows()).some((r) => r.ResourceId === gone.id)).to.equal(false);
      expect((await f.byName('orders-aci'))[0]).to.include({ state: 'RESOLVED', resolvedReason: 'resource deleted' });
      const outcomes = routeArmEvent(armEvent('eventgrid-resourcewritesuccess-storage.azuredocs.json', seeded('shipscanlogs01').id, now().toISOString()), { allowLists: DEFAULT_ALLOW_LISTS });
      const evaluate = outcomes.find((o) => o.kind === 'evaluate')!;
      expect(evaluate.kind).to.equal('evaluate');
      if (evaluate.kind !== 'evaluate') return;
      expect(await syncResourceFromEvent(evaluate, seeded('shipscanlogs01'), { resources: f.deps.resources, types: ['microsoft.keyvault/vaults'] })).to.deep.equal({ status: 'ignored', reason: `${STORAGE} is not in azure.inventory.types` });
    });
  });

  it('a deleted resource with an ACTIVE finding is RESOLVED as "resource deleted"', async () => {
    const f = fixture();
    await f.run();
    graph.remove(idOf('orders-aci'));
    const report = await f.run();
    expect(report.deleted).to.equal(1);
    expect(report.transitions.map((t) => `${t.kind} ${t.finding.resource.name} ${t.finding.resolvedReason}`)).to.deep.equal(['resolve orders-aci resource deleted']);
    const [finding] = await f.byName('orders-aci');
    expect(finding).to.include({ state: 'RESOLVED', resolvedReason: 'resource deleted' });
  });

  it('a failed query makes the run incomplete and deletes nothing, in any type', async () => {
    const f = fixture();
    await f.run();
    graph.remove(idOf('orders-aci'));
    graph.remove(idOf('sandboxdata'));
    graph.failType('microsoft.keyvault/vaults', 500);
    const report = await runInventory(
      requestOf({ service: 'all' }, { subscriptions: SUBSCRIPTIONS, types: [...INVENTORY_TYPES], disabledRules: [] }),
      'run-incomplete',
      'manual',
      { ...f.deps, collector: { attempts: 2, baseDelayMs: 1, sleep: async () => undefined } },
    );
    expect(report.complete).to.equal(false);
    expect(report.deleted).to.equal(0);
    expect(report.errors.join('\n')).to.match(/microsoft\.keyvault\/vaults/);
    expect((await f.rows()).length).to.equal(seedResources().length);
    expect((await f.byName('orders-aci'))[0]).to.include({ state: 'ACTIVE' });
    expect(f.digests.sent.at(-1)!.complete).to.equal(false);
    expect(f.digests.sent.at(-1)!.text).to.match(/INCOMPLETE/);
  });

  it('writes only changes: a second identical run writes no finding and sends no digest', async () => {
    const f = fixture();
    await f.run();
    const before = (await f.findingEntities()).map((e) => `${String(e.rowKey)} ${String(e.Version)} ${String(e.etag)}`).sort();
    const sentBefore = f.digests.sent.length;
    const again = await f.run();
    expect(again.transitions).to.deep.equal([]);
    expect(again.evaluation.evaluations).to.be.greaterThan(20);
    // Only the resources with open findings are read again (8 resources hold the 9 findings).
    expect(again.evaluation.reconciled).to.equal(8);
    expect((await f.findingEntities()).map((e) => `${String(e.rowKey)} ${String(e.Version)} ${String(e.etag)}`).sort()).to.deep.equal(before);
    expect(f.digests.sent.length).to.equal(sentBefore);
    expect(again.digest).to.deep.include({ skipped: 'nothing to tell' });
    // When the rules last looked is the run's, written once, not a write on each unchanged finding.
    const record = await f.runRecord(again.runId);
    expect(record).to.include({ status: 'complete', types: INVENTORY_TYPES.join(','), subscriptionCount: SUBSCRIPTIONS.length });
    expect(Date.parse(String(record.lastEvaluatedAt))).to.be.within(Date.parse(again.startedAt), Date.parse(again.finishedAt));
  });

  it('sends one digest per run, and a redelivered run does not send it again', async () => {
    const f = fixture();
    const handler = createInventoryQueueHandler(settingsFor(), f.deps);
    const context = { triggerMetadata: { id: 'message-1' }, functionName: 'inventoryRequest', debug() {}, info() {}, warn() {}, error() {} } as unknown as InvocationContext;
    const first = await handler(JSON.stringify({ service: 'all' }), context);
    expect(first?.runId).to.equal('manual-message-1');
    expect(f.digests.sent).to.have.length(1);
    const digest = f.digests.sent[0]!;
    expect(digest.counts.opened).to.equal(EXPECTED_FAILURES.length);
    expect(digest.top[0]!.severity).to.equal('CRITICAL');
    // The same message again (the host redelivers after a crash): same run id, the digest is not sent twice.
    fix('sandboxdata', { allowBlobPublicAccess: false });
    const second = await handler(JSON.stringify({ service: 'all' }), context);
    expect(second?.transitions).to.have.length(1);
    expect(second?.digest).to.deep.include({ skipped: 'already sent' });
    expect(f.digests.sent).to.have.length(1);
    // SecurityFinding per transition, and one InventoryRun event per run.
    expect(f.telemetry.events.filter((e) => e.name === SECURITY_FINDING_EVENT)).to.have.length(EXPECTED_FAILURES.length + 1);
    expect(f.telemetry.events.filter((e) => e.name === INVENTORY_RUN_EVENT)).to.have.length(2);
  });

  it('evaluates one rule over the stored inventory without querying Resource Graph ({"ruleId"})', async () => {
    const f = fixture();
    await f.run({ type: STORAGE });
    const calls = graph.calls.length;
    const report = await f.run({ ruleId: 'azure.containerapps.insecure-ingress' });
    expect(report.mode).to.equal('evaluation');
    expect(graph.calls.length).to.equal(calls);
    // The container app was never inventoried here, so nothing is stored to evaluate.
    expect(report.evaluation.resources).to.equal(0);
    const launch = await f.run({ ruleId: 'azure.storage.minimum-tls' });
    expect(launch.evaluation.resources).to.equal(5);
    expect(launch.transitions).to.deep.equal([]);
  });

  it('a rule scope keeps a rule off resources outside it, and resolves what it had found there', async () => {
    const f = fixture([{ ruleId: 'azure.storage.public-blob-access', subscriptions: [DEMO_SUBSCRIPTIONS.prod] }]);
    await f.run({ type: STORAGE });
    expect((await f.byName('sandboxdata')).map((x) => x.state)).to.deep.equal([]);
    expect((await f.byName('shipscanlogs01')).map((x) => x.state)).to.deep.equal(['ACTIVE']);
    // Narrowed later to resources tagged env=prod: the prod account's finding stays, the sandbox finding the
    // wider scope had opened is resolved as outside the rule scope.
    const g = fixture();
    await g.run({ type: STORAGE });
    expect((await g.byName('sandboxdata')).map((x) => x.state)).to.deep.equal(['ACTIVE']);
    const narrowed = await runInventory(requestOf({ type: STORAGE }, { subscriptions: SUBSCRIPTIONS, types: [...INVENTORY_TYPES], disabledRules: [] }), 'run-narrowed', 'manual', {
      ...g.deps,
      config: { ...g.deps.config, ruleScopes: [{ ruleId: 'azure.storage.public-blob-access', tags: { env: 'prod' } }] },
    });
    expect(narrowed.transitions.map((t) => `${t.kind} ${t.finding.resource.name} ${t.finding.resolvedReason}`)).to.deep.equal(['resolve sandboxdata outside the rule scope']);
    expect((await g.byName('shipscanlogs01')).map((x) => x.state)).to.deep.equal(['ACTIVE']);
  });

  it('pages a large estate into the Resources table (1,200 accounts, pages of 1000)', async () => {
    const f = fixture();
    for (const r of syntheticStorageAccounts(DEMO_SUBSCRIPTIONS.staging, 1200)) graph.put(r);
    const report = await f.run({ type: STORAGE, subscriptionId: DEMO_SUBSCRIPTIONS.staging });
    expect(report.collect).to.include({ queries: 1, pages: 2, rows: 1201 });
    expect(report.written).to.equal(1201);
    expect(report.evaluation.resources).to.equal(1201);
    expect(report.transitions).to.deep.equal([]);
    // Nothing fails and nothing was open: not one read of the findings store for them.
    expect(report.evaluation.reconciled).to.equal(0);
  });
});

function settingsFor(): InventorySettings {
  return {
    enabled: true,
    subscriptions: SUBSCRIPTIONS,
    types: [...INVENTORY_TYPES],
    ruleScopes: [],
    inventorySchedule: '0 0 0 * * Sat',
    evaluationSchedule: '0 0 4 * * *',
    queue: 'inventory-requests',
    resourcesTable: 'Resources',
    runsTable: 'InventoryRuns',
    findingsTable: 'Findings',
    findingsIndexTable: 'FindingsByState',
    findings: FindingsConfigSchema.parse({}),
  };
}
