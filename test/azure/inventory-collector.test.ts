import { expect } from 'chai';
import { Collector, planShards, QuotaGate, resourceOfRow, type CollectorOptions } from '../../functions/azure/inventory/collector';
import { GraphError, parseResetsAfter, quotaOf, sdkResourceGraph, type GraphPage, type GraphRequest, type ResourceGraph } from '../../functions/azure/inventory/resource-graph';
import { startResourceGraphSim, type ResourceGraphSim, type SimResource } from '../../local/resource-graph-sim/server';
import { DEMO_SUBSCRIPTIONS, seedResources, syntheticStorageAccounts } from '../../local/resource-graph-sim/seed';
import { inventoryQuery, INVENTORY_TYPE_TABLE, INVENTORY_TYPES } from '../../shared/rules/azure/resource-graph';

/**
 * The Resource Graph collector through the real SDK client against the loopback simulator. The simulator's
 * quota windows and the collector's waits share one fake clock, so throttling is exercised without waiting.
 */

const credential = { getToken: async () => ({ token: 'test-token', expiresOnTimestamp: Date.now() + 3_600_000 }) };
const STORAGE = 'microsoft.storage/storageaccounts';
const SUB = DEMO_SUBSCRIPTIONS.prod;

class FakeClock {
  at = 1_000_000;
  readonly slept: number[] = [];
  now = () => this.at;
  sleep = async (ms: number) => {
    this.slept.push(ms);
    this.at += ms;
  };
}

describe('Azure inventory: Resource Graph collector', function () {
  this.timeout(60_000);
  let sim: ResourceGraphSim | undefined;
  const clock = new FakeClock();

  async function start(resources: readonly SimResource[], options: { quota?: number; pageCap?: number; maxSubscriptions?: number } = {}): Promise<ResourceGraphSim> {
    sim = await startResourceGraphSim({ resources, now: clock.now, ...options });
    return sim;
  }
  const collector = (options: Partial<CollectorOptions> = {}) => new Collector({ graph: sdkResourceGraph(credential, sim!.endpoint), sleep: clock.sleep, now: clock.now, ...options });

  afterEach(async () => {
    await sim?.stop();
    sim = undefined;
    clock.slept.length = 0;
  });

  it('follows skipToken across pages of 1000 until more than 1000 rows are in', async () => {
    await start(syntheticStorageAccounts(SUB, 2500));
    const c = collector();
    const seen: string[] = [];
    const result = await new Collector({ graph: sdkResourceGraph(credential, sim!.endpoint), sleep: clock.sleep, now: clock.now, onPage: async (_s, items) => void seen.push(...items.map((i) => i.resource.id)) }).collect(planShards([SUB], [STORAGE]));
    expect(result.complete).to.equal(true);
    expect(result.stats).to.include({ queries: 1, pages: 3, calls: 3, rows: 2500, retries: 0, throttled: 0 });
    expect(new Set(seen).size).to.equal(2500);
    expect(sim!.calls.map((call) => [call.top, call.skipToken, call.rows])).to.deep.equal([
      [1000, false, 1000],
      [1000, true, 1000],
      [1000, true, 500],
    ]);
    expect(c.stats.calls).to.equal(0);
  });

  it('keeps paging when the server caps pages below $top', async () => {
    await start(syntheticStorageAccounts(SUB, 2500), { pageCap: 300 });
    const result = await collector().collect(planShards([SUB], [STORAGE]));
    expect(result.complete).to.equal(true);
    expect(result.stats.pages).to.equal(9);
    expect(result.stats.rows).to.equal(2500);
    expect(sim!.calls.every((call) => call.rows <= 300)).to.equal(true);
  });

  it('queries at most 300 subscriptions at once: 650 subscriptions are three queries per type', async () => {
    const subscriptions = Array.from({ length: 650 }, (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`);
    await start([...syntheticStorageAccounts(subscriptions[0]!, 3), ...syntheticStorageAccounts(subscriptions[649]!, 2, 'other-rg')], { maxSubscriptions: 300 });
    const shards = planShards(subscriptions, [STORAGE]);
    expect(shards.map((s) => s.subscriptions.length)).to.deep.equal([300, 300, 50]);
    const result = await collector().collect(shards);
    expect(result.complete).to.equal(true);
    expect(result.stats.rows).to.equal(5);
    expect(sim!.calls.map((call) => call.status)).to.deep.equal([200, 200, 200]);
  });

  it('pauses before the quota runs out instead of spending the last query on a 429', async () => {
    // 3 queries per 5 s, and 8 pages to read: two pauses for the window to reset, no 429.
    await start(syntheticStorageAccounts(SUB, 800), { quota: 3 });
    const result = await collector({ pageSize: 100, quotaReserve: 0 }).collect(planShards([SUB], [STORAGE]));
    expect(result.complete).to.equal(true);
    expect(result.stats).to.include({ pages: 8, throttled: 0, quotaPauses: 2 });
    expect(sim!.calls.filter((call) => call.status === 429)).to.have.length(0);
    expect(clock.slept.every((ms) => ms > 0 && ms <= 5_000)).to.equal(true);
  });

  it('keeps one query in reserve by default', async () => {
    await start(syntheticStorageAccounts(SUB, 800), { quota: 3 });
    const result = await collector({ pageSize: 100 }).collect(planShards([SUB], [STORAGE]));
    // Two calls per window (the third is the reserve): 8 pages take 4 windows, 3 pauses.
    expect(result.stats).to.include({ pages: 8, throttled: 0, quotaPauses: 3 });
  });

  it('waits what a 429 says (Retry-After), then succeeds', async () => {
    await start(syntheticStorageAccounts(SUB, 10));
    sim!.failNext(1, 429, 7);
    const result = await collector().collect(planShards([SUB], [STORAGE]));
    expect(result.complete).to.equal(true);
    expect(result.stats).to.include({ throttled: 1, retries: 1, calls: 2, rows: 10 });
    expect(clock.slept).to.deep.equal([7_000]);
  });

  it('retries server errors with back-off, a bounded number of times, then fails the shard', async () => {
    await start(syntheticStorageAccounts(SUB, 10));
    sim!.failNext(10, 503);
    const result = await collector({ attempts: 3, baseDelayMs: 100 }).collect(planShards([SUB], [STORAGE]));
    expect(result.complete).to.equal(false);
    expect(result.outcomes[0]).to.include({ status: 'failed' });
    expect(result.stats.calls).to.equal(3);
    expect(clock.slept).to.deep.equal([100, 200]);
  });

  it('does not retry a query Resource Graph refuses (4xx other than 429); the other shards still run', async () => {
    await start(seedResources());
    sim!.failType('microsoft.keyvault/vaults', 400);
    const result = await collector().collect(planShards(Object.values(DEMO_SUBSCRIPTIONS), INVENTORY_TYPES));
    expect(result.complete).to.equal(false);
    const failed = result.outcomes.filter((o) => o.status === 'failed');
    expect(failed.map((o) => o.shard.type)).to.deep.equal(['microsoft.keyvault/vaults']);
    expect(sim!.calls.filter((call) => call.type === 'microsoft.keyvault/vaults')).to.have.length(1);
    expect(result.outcomes.filter((o) => o.status === 'complete')).to.have.length(INVENTORY_TYPES.length - 1);
  });

  it('reads role assignments from authorizationresources and every other type from resources', async () => {
    await start(seedResources());
    const result = await collector().collect(planShards(Object.values(DEMO_SUBSCRIPTIONS), INVENTORY_TYPES));
    expect(result.complete).to.equal(true);
    expect(result.stats.rows).to.equal(seedResources().length);
    const tables = Object.fromEntries(sim!.calls.map((call) => [call.type, call.table]));
    expect(tables['microsoft.authorization/roleassignments']).to.equal('authorizationresources');
    expect(tables[STORAGE]).to.equal('resources');
  });

  describe('answers that cannot be trusted to be whole fail their shard', () => {
    const page = (over: Partial<GraphPage>): GraphPage => ({ totalRecords: 1, count: 0, resultTruncated: false, rows: [], quota: {}, ...over });
    const fake = (pages: GraphPage[]): ResourceGraph & { requests: GraphRequest[] } => {
      const requests: GraphRequest[] = [];
      return { requests, query: async (r) => (requests.push(r), pages[Math.min(requests.length - 1, pages.length - 1)]!) };
    };
    it('a truncated result without a skipToken', async () => {
      const result = await new Collector({ graph: fake([page({ resultTruncated: true })]), sleep: clock.sleep }).collect(planShards([SUB], [STORAGE]));
      expect(result.outcomes[0]).to.deep.include({ status: 'failed', error: 'Resource Graph truncated the result and gave no skipToken to continue' });
    });
    it('a skipToken that repeats', async () => {
      const graph = fake([page({ skipToken: 'a' }), page({ skipToken: 'b' }), page({ skipToken: 'a' })]);
      const result = await new Collector({ graph, sleep: clock.sleep }).collect(planShards([SUB], [STORAGE]));
      expect(result.outcomes[0]).to.deep.include({ status: 'failed', error: 'Resource Graph repeated a skipToken: paging would not end' });
      expect(graph.requests.map((r) => r.skipToken)).to.deep.equal([undefined, 'a', 'b']);
    });
    it('more pages than maxPages', async () => {
      let n = 0;
      const graph: ResourceGraph = { query: async () => page({ skipToken: `t${n++}` }) };
      const result = await new Collector({ graph, maxPages: 5, sleep: clock.sleep }).collect(planShards([SUB], [STORAGE]));
      expect(result.outcomes[0]).to.deep.include({ status: 'failed', pages: 5 });
    });
    it('a store that cannot take a page', async () => {
      const graph = fake([page({ rows: syntheticStorageAccounts(SUB, 2) })]);
      const result = await new Collector({ graph, onPage: async () => Promise.reject(new Error('table down')) }).collect(planShards([SUB], [STORAGE]));
      expect(result.outcomes[0]).to.deep.include({ status: 'failed', error: 'table down' });
    });
  });

  describe('rows', () => {
    const shard = planShards([SUB], [STORAGE])[0]!;
    it('keeps the ARM shape, tags and the subscription of a row', () => {
      const [row] = syntheticStorageAccounts(SUB, 1);
      const kept = resourceOfRow({ ...row, tags: { env: 'prod', n: 1 } }, shard);
      expect(kept).to.deep.include({ subscriptionId: SUB, type: STORAGE });
      expect(typeof kept === 'object' && kept.resource.tags).to.deep.equal({ env: 'prod' });
    });
    it('skips rows of another type, another subscription, or without an id', () => {
      const [row] = syntheticStorageAccounts(DEMO_SUBSCRIPTIONS.staging, 1);
      expect(resourceOfRow(row, shard)).to.match(/outside the queried subscriptions/);
      expect(resourceOfRow({ ...syntheticStorageAccounts(SUB, 1)[0], type: 'microsoft.keyvault/vaults' }, shard)).to.match(/not the queried/);
      expect(resourceOfRow({ name: 'x' }, shard)).to.match(/not an ARM resource/);
    });
  });

  describe('plan, quota headers, queries', () => {
    it('plans every (batch x type), subscriptions lower-cased and deduplicated', () => {
      const shards = planShards(['A0000000-0000-4000-8000-000000000001', 'a0000000-0000-4000-8000-000000000001', 'b0000000-0000-4000-8000-000000000002'], [STORAGE, 'microsoft.keyvault/vaults'], 1);
      expect(shards.map((s) => `${s.type} ${s.subscriptions.join(',')}`)).to.deep.equal([
        `${STORAGE} a0000000-0000-4000-8000-000000000001`,
        `${STORAGE} b0000000-0000-4000-8000-000000000002`,
        'microsoft.keyvault/vaults a0000000-0000-4000-8000-000000000001',
        'microsoft.keyvault/vaults b0000000-0000-4000-8000-000000000002',
      ]);
      expect(() => planShards([SUB], [STORAGE], 301)).to.throw(RangeError);
    });
    it('reads x-ms-user-quota-resets-after as hh:mm:ss', () => {
      expect(parseResetsAfter('00:00:05')).to.equal(5_000);
      expect(parseResetsAfter('01:02:03.5')).to.equal(3_723_500);
      expect(parseResetsAfter('1.00:00:01')).to.equal(86_401_000);
      expect(parseResetsAfter('5 seconds')).to.equal(undefined);
      const headers: Record<string, string> = { 'x-ms-user-quota-remaining': '12', 'x-ms-user-quota-resets-after': '00:00:04', 'retry-after': '3' };
      expect(quotaOf((n) => headers[n])).to.deep.equal({ remaining: 12, resetsAfterMs: 4_000, retryAfterMs: 3_000 });
    });
    it('the gate waits only when the quota is at the reserve and the window has not reset', () => {
      const gate = new QuotaGate(1, clock.now);
      gate.note({ remaining: 2, resetsAfterMs: 5_000 });
      expect(gate.waitMs()).to.equal(0);
      gate.note({ remaining: 1, resetsAfterMs: 4_000 });
      expect(gate.waitMs()).to.equal(4_000);
      clock.at += 4_000;
      expect(gate.waitMs()).to.equal(0);
    });
    it('every query projects id (no skipToken without it) and the columns the rules read', () => {
      for (const { type, table } of INVENTORY_TYPE_TABLE) {
        expect(inventoryQuery(type)).to.equal(`${table} | where type =~ '${type}' | project id, name, type, location, subscriptionId, tags, properties | order by id asc`);
      }
      expect(INVENTORY_TYPE_TABLE.map((t) => t.type)).to.deep.equal([...INVENTORY_TYPES]);
      expect(() => inventoryQuery("x' | union *")).to.throw(RangeError);
    });
    it('a GraphError of a 429 is retryable, of a 400 is not', async () => {
      await start([]);
      sim!.failType(STORAGE, 400);
      const error = await sdkResourceGraph(credential, sim!.endpoint)
        .query({ subscriptions: [SUB], query: inventoryQuery(STORAGE), top: 10 })
        .catch((e: unknown) => e);
      expect(error).to.be.instanceOf(GraphError);
      expect(error).to.include({ status: 400, retryable: false });
      expect((error as GraphError).quota.remaining).to.be.a('number');
      expect(() => sdkResourceGraph(credential, 'http://example.com')).to.throw(/https/);
    });
  });
});
