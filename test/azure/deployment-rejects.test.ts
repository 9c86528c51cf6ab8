import { expect } from 'chai';
import { loadCorpus } from '../support/corpus';
import { memoryDeployment, type MemoryDeployment } from '../support/memory-deployment';
import { expectLinear } from '../support/growth';
import { deploymentEventVariant, resourceId } from '../../local/arm-stub/variants';
import { DEPLOYMENT_EVENT, DEPLOYMENT_OUTCOMES } from '../../functions/azure/telemetry-names';

/**
 * Events of a deployment message that reach no scan (malformed or ignored) are recorded and counted
 * once per message, whatever their number, at a cost that grows with the message and no faster.
 */

const SUB = '00000000-1111-2222-3333-444444444444';
const CE_WRITE = 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json';
const EG_WRITE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
const EG_DELETE = 'azure/eventgrid-resourcedeletesuccess-storage.azuredocs.json';

function deploymentEvents(d: MemoryDeployment, outcome: string) {
  return d.telemetry.events.filter((e) => e.name === DEPLOYMENT_EVENT && e.properties.Outcome === outcome);
}

function containerWrite(eventId: string): Record<string, unknown> {
  const [event] = deploymentEventVariant(loadCorpus<unknown[]>(CE_WRITE), { kind: 'ACI', resourceUri: resourceId('ACI', SUB, 'rg', `cg-${eventId}`), correlationId: `corr-${eventId}`, eventId });
  return event as Record<string, unknown>;
}

describe('azure onDeployment: events that reach no scan', () => {
  describe('malformed events', () => {
    it('records 10,000 malformed events of one message as one record with counts, reasons and a bounded sample', async () => {
      const d = memoryDeployment();
      const body = JSON.stringify(Array.from({ length: 10_000 }, () => ({})));
      const outcome = await d.handle(body, { id: 'many-bad' });
      expect(outcome.events).to.have.length(10_000);
      expect(outcome.events.every((e) => e.outcome === DEPLOYMENT_OUTCOMES.malformed)).to.equal(true);
      const records = d.stores.results.names('errors/');
      expect(records).to.deep.equal(['errors/messages/many-bad.json']);
      const record = d.stores.results.json(records[0]!);
      expect(record).to.include({ messageId: 'many-bad', events: 10_000, malformed: 10_000 });
      expect(record.reasons).to.deep.equal([{ reason: 'neither an Event Grid event (eventType) nor a CloudEvent (specversion)', count: 10_000 }]);
      expect(record.reason).to.match(/^10000 of 10000 events malformed: neither an Event Grid event/);
      const sample = record.sample as { index: number; event: string }[];
      expect(sample.length).to.be.within(1, 10);
      expect(sample[0]).to.deep.include({ index: 0, event: '{}' });
      expect(Buffer.byteLength(JSON.stringify(record))).to.be.below(64 * 1024);
      const malformed = deploymentEvents(d, DEPLOYMENT_OUTCOMES.malformed);
      expect(malformed).to.have.length(1);
      expect(malformed[0]!.properties).to.include({ Count: '10000', MessageId: 'many-bad' });
    });

    it('costs time in proportion to the number of malformed events (10,000 against 1,000, in one run)', async function () {
      this.timeout(120_000);
      // Linear work gives about 10; one record of the whole message per malformed event gave about 65.
      const body = (n: number) => JSON.stringify(Array.from({ length: n }, () => ({})));
      await expectLinear('malformed events in one message', body, (message) => memoryDeployment().handle(message), { small: 1_000 });
    });

    it('keeps the valid events of a message going and records its malformed ones once', async () => {
      const d = memoryDeployment();
      const message = [{ no: 'schema' }, containerWrite('ok-1'), { eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'dup', data: {} }, 7, { eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: 'dup', data: {} }];
      const outcome = await d.handle(message, { id: 'mixed' });
      expect(outcome.events.map((e) => e.outcome)).to.deep.equal(['Malformed', 'Accepted', 'Malformed', 'Malformed', 'Malformed']);
      expect(d.submitted).to.have.length(1);
      expect(d.stores.results.names('errors/')).to.deep.equal(['errors/messages/mixed.json']);
      const record = d.stores.results.json('errors/messages/mixed.json');
      expect(record).to.include({ events: 5, malformed: 4 });
      const reasons = record.reasons as { reason: string; count: number }[];
      expect(reasons.map((r) => r.count).sort()).to.deep.equal([1, 1, 2]);
      expect(reasons.find((r) => /data lacks operationName/.test(r.reason))?.count).to.equal(2);
      const sample = record.sample as { index: number; id?: string; reason: string }[];
      expect(sample.map((s) => s.index)).to.deep.equal([0, 2, 3, 4]);
      expect(sample.filter((s) => s.id === 'dup')).to.have.length(2);
      expect(deploymentEvents(d, DEPLOYMENT_OUTCOMES.malformed).map((e) => e.properties.Count)).to.deep.equal(['4']);
    });

    it('keeps a redelivery of the same message to the same record', async () => {
      const d = memoryDeployment();
      await d.handle([{}, {}], { id: 'again', dequeueCount: 1 });
      await d.handle([{}, {}], { id: 'again', dequeueCount: 2 });
      expect(d.stores.results.names('errors/')).to.deep.equal(['errors/messages/again.json']);
    });

    it('records a message whose events carry ids that are no valid blob name under the message id alone', async () => {
      const d = memoryDeployment();
      const id = 'a/'.repeat(400);
      const outcome = await d.handle([{ eventType: 'Microsoft.Resources.ResourceWriteSuccess', id, data: {} }], { id: 'slashes' });
      expect(outcome.events[0]).to.include({ outcome: 'Malformed', id });
      expect(d.stores.results.names('errors/')).to.deep.equal(['errors/messages/slashes.json']);
    });

    it('records messages nested 5,000 and 100,000 deep without overflowing the stack', async () => {
      const d = memoryDeployment();
      for (const depth of [5_000, 100_000]) {
        const nested = `${'['.repeat(depth)}${']'.repeat(depth)}`;
        const bodies = { [`array-${depth}`]: nested, [`in-array-${depth}`]: `[${nested}]`, [`in-object-${depth}`]: `{"a":${nested}}`, [`in-data-${depth}`]: `[{"eventType":"${'Microsoft.Resources.ResourceWriteSuccess'}","id":"x","data":${nested}}]` };
        for (const [id, body] of Object.entries(bodies)) {
          const outcome = await d.handle(body, { id });
          expect(outcome.events.map((e) => e.outcome), id).to.deep.equal(['Malformed']);
          const record = d.stores.results.json(`errors/messages/${id}.json`);
          expect(JSON.stringify(record).length, id).to.be.below(16 * 1024);
        }
      }
    });

    it('keeps the start of a huge event in the sample, not all of it', async () => {
      const d = memoryDeployment();
      const huge = 'x'.repeat(60_000);
      await d.handle([{ eventType: 'Microsoft.Resources.ResourceWriteSuccess', id: huge, data: { note: huge } }], { id: 'huge' });
      const record = d.stores.results.json('errors/messages/huge.json');
      const [first] = record.sample as { id: string; reason: string; event: string }[];
      expect(first!.event.length).to.be.within(2_000, 2_100);
      expect(first!.event).to.match(/^\{"eventType":"Microsoft.Resources.ResourceWriteSuccess","id":"xxxx/);
      expect(first!.id.length).to.be.below(400);
      expect(JSON.stringify(record).length).to.be.below(8 * 1024);
    });

    it('keeps the redacted start of an unreadable body', async () => {
      const d = memoryDeployment();
      const body = `not json password=hunter2-9f3c "claims": {"name":"alice@contoso.example"} ${'z'.repeat(100_000)}`;
      const outcome = await d.handle(body, { id: 'unreadable' });
      expect(outcome.events).to.deep.equal([{ outcome: 'Malformed', reason: outcome.events[0]!.reason }]);
      const record = d.stores.results.json('errors/messages/unreadable.json');
      expect(record.reason).to.match(/not JSON or base64 JSON/);
      const kept = String(record.body);
      expect(kept).to.match(/^not json password=\[redacted\] "claims": "\[dropped\]" z+\.\.\.\[\d+ more characters\]$/);
      expect(kept.length).to.be.below(8192 + 40);
      expect(deploymentEvents(d, DEPLOYMENT_OUTCOMES.malformed).map((e) => e.properties.Count)).to.deep.equal(['1']);
    });

    it('drops identity claims from the sampled events', async () => {
      const d = memoryDeployment();
      const event = { id: 'ev-claims', eventType: 'Microsoft.Resources.ResourceWriteSuccess', data: { resourceUri: '/subscriptions/s', claims: { name: 'alice@contoso.example' }, authorization: { evidence: { principalId: 'pid-5c3f' } } } };
      await d.handle(Buffer.from(JSON.stringify([event])).toString('base64'), { id: 'claims' });
      const record = JSON.stringify(d.stores.results.json('errors/messages/claims.json'));
      expect(record).to.contain('ev-claims');
      for (const secret of ['alice@contoso.example', 'pid-5c3f']) expect(record).to.not.contain(secret);
    });
  });

  describe('workloads with images that cannot be scanned', () => {
    it('records an unparsable image of 40,000 characters as FAILED, with the Image column cut to what a Table property holds', async () => {
      const raw = `${'x'.repeat(40_000)}:tag`;
      const d = memoryDeployment({
        workload: (event) => ({ kind: 'found', workload: { resourceId: event.resourceId, containerType: event.containerType, containers: [{ name: 'c', image: raw, init: false }], registryServers: [] } }),
      });
      const outcome = await d.handle([containerWrite('huge-image')]);
      expect(outcome.events[0]!.images!.map((i) => i.kind)).to.deep.equal(['failed']);
      const [row] = [...d.stores.tables.scans.rows.values()];
      expect(row).to.include({ Status: 'FAILED' });
      expect(String(row!.Image)).to.match(/^x+\.\.\.\[\d+ more characters\]$/);
      expect(String(row!.Image).length).to.be.at.most(4096);
    });
  });

  describe('events that keep failing', () => {
    it('leave a record on the last delivery even when the event id is no valid blob name', async () => {
      const d = memoryDeployment({
        workload: () => {
          throw new Error('ARM unavailable');
        },
      });
      const eventId = '/a'.repeat(256);
      const [event] = deploymentEventVariant(loadCorpus<unknown[]>(CE_WRITE), { kind: 'ACI', resourceUri: resourceId('ACI', SUB, 'rg', 'cg-failing'), correlationId: 'corr-failing', eventId });
      const error = await d.handle([event], { id: 'failing', dequeueCount: 8 }).then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message, 'the message goes to the poison queue with the cause').to.equal('ARM unavailable');
      const records = d.stores.results.names('errors/events/');
      expect(records).to.have.length(1);
      expect(d.stores.results.json(records[0]!)).to.include({ eventId, reason: 'gave up after 8 deliveries: ARM unavailable' });
    });
  });

  describe('ignored events', () => {
    it('sends one Ignored event per message with the count and the reasons', async () => {
      const d = memoryDeployment();
      const message = [loadCorpus(EG_WRITE), loadCorpus(EG_DELETE), loadCorpus(EG_WRITE), containerWrite('ok-2')].flat();
      const outcome = await d.handle(message, { id: 'ignoring' });
      expect(outcome.events.map((e) => e.outcome)).to.deep.equal(['Ignored', 'Ignored', 'Ignored', 'Accepted']);
      const ignored = deploymentEvents(d, DEPLOYMENT_OUTCOMES.ignored);
      expect(ignored).to.have.length(1);
      expect(ignored[0]!.properties).to.include({ Outcome: 'Ignored', Count: '3', MessageId: 'ignoring' });
      expect(ignored[0]!.properties.Reason).to.equal('operation Microsoft.Storage/storageAccounts/write (2); event type Microsoft.Resources.ResourceDeleteSuccess (1)');
      expect(d.stores.results.names('errors/'), 'ignoring is no error').to.deep.equal([]);
    });

    it('bounds the reasons of many distinct ignored events', async () => {
      const d = memoryDeployment();
      const message = Array.from({ length: 2_000 }, (_, i) => ({ id: `e${i}`, eventType: `Custom.Event.Type${i}`, data: {} }));
      await d.handle(message, { id: 'many-ignored' });
      const ignored = deploymentEvents(d, DEPLOYMENT_OUTCOMES.ignored);
      expect(ignored).to.have.length(1);
      expect(ignored[0]!.properties.Count).to.equal('2000');
      expect(ignored[0]!.properties.Reason!.length).to.be.below(2_000);
      expect(ignored[0]!.properties.Reason).to.match(/\(1\); .* and 1990 more events$/);
    });

    it('sends no Ignored event for a message without ignored events', async () => {
      const d = memoryDeployment();
      await d.handle([containerWrite('ok-3')]);
      expect(deploymentEvents(d, DEPLOYMENT_OUTCOMES.ignored)).to.deep.equal([]);
      expect(deploymentEvents(d, DEPLOYMENT_OUTCOMES.accepted).map((e) => e.properties.Count)).to.deep.equal(['1']);
    });
  });
});
