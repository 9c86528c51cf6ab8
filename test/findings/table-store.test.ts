import { expect } from 'chai';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type RunningAzurite } from '../../local/emulators/azurite';
import { FINDING_PART_UNITS, splitText, TableFindingStore, type TableFindingStoreOptions } from '../../functions/azure/findings-store';
import { FINDINGS_INDEX_TABLE, FINDINGS_TABLE } from '../../shared/findings/tables';
import { FindingKeyCollisionError, type FindingStore, type StoredFinding } from '../../shared/findings/store';
import { safeTableKey } from '../../shared/storage-keys';
import { findingStoreContract, keyOf, opened } from './support/store-contract';
import { at, observation } from './support/observations';

/**
 * TableFindingStore on Azurite: the store contract, pagination, the state index kept in step. Each test gets its
 * own pair of tables; every handle has its own TableClients (own connections), as separate Functions hosts would.
 */

describe('findings on Azure Table storage (Azurite)', function () {
  this.timeout(60_000);
  let azurite: RunningAzurite;
  let pairs = 0;

  const client = (name: string) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true });

  interface Fixture {
    store: TableFindingStore;
    connect: () => FindingStore;
    findings: TableClient;
    index: TableClient;
  }

  async function storeOn(options: TableFindingStoreOptions = {}): Promise<Fixture> {
    pairs += 1;
    const names = [`${FINDINGS_TABLE}${pairs}`, `${FINDINGS_INDEX_TABLE}${pairs}`] as const;
    const store = new TableFindingStore(client(names[0]), client(names[1]), options);
    await store.ensure();
    return { store, connect: () => new TableFindingStore(client(names[0]), client(names[1]), options), findings: client(names[0]), index: client(names[1]) };
  }

  async function entities(table: TableClient): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    for await (const e of table.listEntities<Record<string, unknown>>()) out.push(e);
    return out;
  }

  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite?.stop();
  });

  describe('findings store contract: Azure Table (Azurite)', () => {
    findingStoreContract(() => storeOn());
  });

  describe('TableFindingStore', () => {
    it('lists all 1,200 findings of one resource through pages of 100 and through the service pages', async () => {
      const { store, findings, index } = await storeOn({ pageSize: 100 });
      const observations = Array.from({ length: 1200 }, (_, i) => observation({ subject: `tcp/${i} from 0.0.0.0/0`, evidence: { port: i, note: 'n'.repeat(900) } }));
      for (let i = 0; i < observations.length; i += 40) {
        await Promise.all(observations.slice(i, i + 40).map((o) => store.put(keyOf(o), opened(o), { absent: true })));
      }
      let pages = 0;
      for await (const page of findings.listEntities().byPage({ maxPageSize: 100 })) pages += page.length > 0 ? 1 : 0;
      expect(pages).to.equal(12);
      const started = Date.now();
      const listed = await store.listByResource(keyOf().partition);
      const elapsed = Date.now() - started;
      expect(listed).to.have.length(1200);
      expect(new Set(listed.map((r) => r.finding.subject)).size).to.equal(1200);
      const whole = await new TableFindingStore(findings, index).listByResource(keyOf().partition);
      expect(whole).to.have.length(1200);
      // The index pages too: every finding is ACTIVE and CRITICAL.
      expect(await store.query({ state: 'ACTIVE', severity: 'CRITICAL' })).to.have.length(1200);
      expect((await store.query({ state: 'ACTIVE', limit: 250 })).map((r) => r.finding.subject)).to.have.length(250);
      // Printed, not asserted: emulator speed depends on the machine.
      console.log(`      listByResource of 1,200 findings in pages of 100: ${elapsed} ms`);
    });

    it('answers a query in order through small index pages, reading only the pages the limit needs', async () => {
      const { store, index, findings } = await storeOn();
      const severities = ['LOW', 'CRITICAL', 'MEDIUM'] as const;
      const observations = Array.from({ length: 90 }, (_, i) =>
        observation({ subject: `s${String(i).padStart(3, '0')}`, severity: severities[i % 3]!, observedAt: new Date(Date.parse('2026-12-01T10:00:00Z') + i * 1000).toISOString() }),
      );
      // Written newest first, so the order of results is the index's, not the order of writing.
      for (const o of [...observations].reverse()) await store.put(keyOf(o), opened(o), { absent: true });
      let indexPages = 0;
      index.pipeline.addPolicy({ name: 'countIndexPages', sendRequest: (request, next) => ((indexPages += request.url.includes('filter') ? 1 : 0), next(request)) });
      const paged = new TableFindingStore(findings, index, { pageSize: 7, readConcurrency: 4 });
      const all = await paged.query({ state: 'ACTIVE' });
      expect(all.map((r) => r.finding.severity)).to.deep.equal([...Array(30).fill('CRITICAL'), ...Array(30).fill('MEDIUM'), ...Array(30).fill('LOW')]);
      const critical = all.filter((r) => r.finding.severity === 'CRITICAL').map((r) => r.finding.firstSeenAt);
      expect(critical).to.deep.equal([...critical].sort());
      indexPages = 0;
      const first = await paged.query({ state: 'ACTIVE', limit: 10 });
      expect(first.map((r) => r.finding.subject)).to.deep.equal(all.slice(0, 10).map((r) => r.finding.subject));
      // Pages of 7: two pages of CRITICAL are enough; HIGH and below are never read.
      expect(indexPages).to.equal(2);
      expect(await paged.query({ state: 'ACTIVE', cloud: 'azure', limit: 5 })).to.deep.equal([]);
      expect(await paged.query({ state: 'ACTIVE', ruleId: observation().ruleId, severity: 'MEDIUM', limit: 25 })).to.have.length(25);
    });

    it('splits a long finding over string properties within the 64 KiB limit, never inside a surrogate pair', async () => {
      const { store, findings } = await storeOn();
      const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff;
      let straddled = false;
      // One of two titles a character apart puts a surrogate pair across the first cut.
      for (const count of [29_000, 29_001]) {
        const long = observation({ subject: `long ${count}`, title: `${'t'.repeat(count)}${'\u{1F6A8}'.repeat(5000)}` });
        straddled ||= isHigh(JSON.stringify(opened(long).finding).charCodeAt(FINDING_PART_UNITS - 1));
        await store.put(keyOf(long), opened(long), { absent: true });
        expect(await store.get(keyOf(long))).to.deep.equal(opened(long));
      }
      expect(straddled).to.equal(true);
      for (const raw of await entities(findings)) {
        const parts = Object.keys(raw).filter((k) => k.startsWith('FindingJson')).sort();
        expect(parts).to.deep.equal(['FindingJson', 'FindingJson1']);
        expect(raw['FindingParts']).to.equal(2);
        for (const part of parts) {
          const text = String(raw[part]);
          expect(text.length).to.be.at.most(FINDING_PART_UNITS);
          expect(isHigh(text.charCodeAt(text.length - 1))).to.equal(false);
        }
      }
      expect(splitText(`${'a'.repeat(9)}\u{1F6A8}b`, 10)).to.deep.equal(['a'.repeat(9), '\u{1F6A8}b']);
      expect(splitText('', 10)).to.deep.equal(['']);
    });

    it('stores findings whose keys exceed 512 characters under shortened keys, and never writes one finding over another', async () => {
      const { store } = await storeOn();
      const longId = `/subscriptions/s/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/${'k'.repeat(700)}`;
      const a = observation({ resource: { type: 't', id: `${longId}-a`, name: 'a' }, subject: `${'s'.repeat(600)}-1` });
      const b = observation({ resource: { type: 't', id: `${longId}-b`, name: 'b' }, subject: `${'s'.repeat(600)}-2` });
      await store.put(keyOf(a), opened(a), { absent: true });
      await store.put(keyOf(b), opened(b), { absent: true });
      expect((await store.get(keyOf(a)))?.finding.resource.name).to.equal('a');
      expect((await store.get(keyOf(b)))?.finding.resource.name).to.equal('b');
      expect((await store.listByResource(keyOf(a).partition)).map((r) => r.finding.resource.name)).to.deep.equal(['a']);
      // A put of another finding under a's key (only a hash collision could make one) is refused.
      const other = { ...opened(b), version: 2 };
      let error: unknown;
      try {
        await store.put(keyOf(a), other, { version: 1 });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(FindingKeyCollisionError);
      expect((await store.get(keyOf(a)))?.finding.resource.name).to.equal('a');
    });

    it('keeps one index entry per finding, in the partition of its state and severity', async () => {
      const { store, index } = await storeOn();
      const high = observation({ subject: 'high', severity: 'HIGH' });
      await store.put(keyOf(), opened(), { absent: true });
      await store.put(keyOf(high), opened(high), { absent: true });
      const resolved: StoredFinding = { finding: { ...opened().finding, state: 'RESOLVED', resolvedAt: at(5), resolvedReason: 'fixed' }, version: 2 };
      await store.put(keyOf(), resolved, { version: 1 });
      const rows = (await entities(index)).map((e) => `${String(e['partitionKey'])} ${String(e['Version'])}`).sort();
      expect(rows).to.deep.equal(['ACTIVE_HIGH 1', 'RESOLVED_CRITICAL 2']);
      const entry = (await entities(index)).find((e) => e['partitionKey'] === 'RESOLVED_CRITICAL');
      expect(entry).to.deep.include({ FindingPartitionKey: safeTableKey(keyOf().partition), FindingRowKey: safeTableKey(keyOf().sort), RuleId: observation().ruleId, Cloud: 'aws' });
      expect(String(entry?.['rowKey'])).to.equal(`${String(Date.parse(opened().finding.firstSeenAt)).padStart(15, '0')}_${opened().finding.id}`);
    });

    it('skips and removes an entry its finding has left; keeps an entry a writer is about to use', async () => {
      const { store, index } = await storeOn();
      await store.put(keyOf(), opened(), { absent: true });
      const pointer = (await entities(index))[0]!;
      const resolved: StoredFinding = { finding: { ...opened().finding, state: 'RESOLVED', resolvedAt: at(5), resolvedReason: 'fixed' }, version: 2 };
      // A writer that died between writing the finding and removing the old entry leaves it behind.
      await store.put(keyOf(), resolved, { version: 1 });
      await index.createEntity({ ...pick(pointer), Version: 1 });
      expect(await store.query({ state: 'ACTIVE' })).to.deep.equal([]);
      expect((await entities(index)).map((e) => e['partitionKey'])).to.deep.equal(['RESOLVED_CRITICAL']);
      // A writer reopening the finding puts the ACTIVE entry at version 3 before writing the finding: a query in
      // between neither returns the finding as ACTIVE nor removes the entry.
      await index.createEntity({ ...pick(pointer), Version: 3 });
      expect(await store.query({ state: 'ACTIVE' })).to.deep.equal([]);
      expect((await entities(index)).map((e) => e['partitionKey']).sort()).to.deep.equal(['ACTIVE_CRITICAL', 'RESOLVED_CRITICAL']);
      const reopened: StoredFinding = { finding: { ...opened().finding, reopenCount: 1, lastSeenAt: at(9) }, version: 3 };
      await store.put(keyOf(), reopened, { version: 2 });
      expect((await store.query({ state: 'ACTIVE' })).map((r) => r.version)).to.deep.equal([3]);
      expect(await store.query({ state: 'RESOLVED' })).to.deep.equal([]);
      expect((await entities(index)).map((e) => `${String(e['partitionKey'])} ${String(e['Version'])}`)).to.deep.equal(['ACTIVE_CRITICAL 3']);
    });

    it('finds every finding by state after racing transitions from separate handles', async () => {
      const fixture = await storeOn();
      const subjects = Array.from({ length: 12 }, (_, i) => observation({ subject: `port ${i}` }));
      await Promise.all(subjects.map((o) => fixture.connect().put(keyOf(o), opened(o), { absent: true })));
      // Each finding gets racing writers: one resolves it, one raises its severity; one of them wins per finding.
      await Promise.all(
        subjects.flatMap((o) => {
          const base = opened(o);
          const resolve: StoredFinding = { finding: { ...base.finding, state: 'RESOLVED', resolvedAt: at(5), resolvedReason: 'fixed' }, version: 2 };
          const lower: StoredFinding = { finding: { ...base.finding, severity: 'LOW', lastSeenAt: at(4) }, version: 2 };
          return [resolve, lower].map((record) => fixture.connect().put(keyOf(o), record, { version: 1 }).catch(() => undefined));
        }),
      );
      const records = await Promise.all(subjects.map((o) => fixture.store.get(keyOf(o))));
      const states = { resolved: records.filter((r) => r?.finding.state === 'RESOLVED').length, low: records.filter((r) => r?.finding.severity === 'LOW').length };
      expect(states.resolved + states.low).to.equal(12);
      expect(await fixture.store.query({ state: 'RESOLVED' })).to.have.length(states.resolved);
      expect(await fixture.store.query({ state: 'ACTIVE', severity: 'LOW' })).to.have.length(states.low);
      expect(await fixture.store.query({ state: 'ACTIVE', severity: 'CRITICAL' })).to.deep.equal([]);
      // Once the queries cleaned up, the index has one entry per finding.
      expect(await entities(fixture.index)).to.have.length(12);
    });
  });
});

/** The keys and pointer of an index entity (without its service metadata). */
function pick(e: Record<string, unknown>): Record<string, unknown> & { partitionKey: string; rowKey: string } {
  return {
    partitionKey: String(e['partitionKey']),
    rowKey: String(e['rowKey']),
    FindingPartitionKey: e['FindingPartitionKey'],
    FindingRowKey: e['FindingRowKey'],
    RuleId: e['RuleId'],
    Cloud: e['Cloud'],
  };
}
