import { expect } from 'chai';
import fc from 'fast-check';
import { loadCorpus } from '../support/corpus';
import { classifyMessage, decodeQueueMessage, MessageFormatError } from '../../functions/azure/deployment-event';
import { deploymentEventVariant, resourceId } from '../../local/arm-stub/variants';

const SUB = '00000000-1111-2222-3333-444444444444';
const EG_WRITE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
const CE_WRITE = 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json';
const aciId = resourceId('ACI', SUB, 'rg-demo', 'demo1');
const acaId = resourceId('ACA', SUB, 'rg-demo', 'app1');

describe('azure deployment events', () => {
  describe('published samples as delivered', () => {
    it('ignores the storage write sample (Event Grid schema) with the operation named', () => {
      const [c] = classifyMessage(loadCorpus(EG_WRITE));
      expect(c).to.deep.include({ kind: 'ignored', reason: 'operation Microsoft.Storage/storageAccounts/write' });
    });

    it('ignores the storage write sample (CloudEvents schema)', () => {
      const [c] = classifyMessage(loadCorpus(CE_WRITE));
      expect(c!.kind).to.equal('ignored');
    });

    for (const file of [
      'azure/eventgrid-resourcedeletesuccess-storage.azuredocs.json',
      'azure/cloudevents-resourcedeletesuccess-storage.azuredocs-de.json',
      'azure/cloudevents-resourcewritefailure.azure-sdk-for-go-test.json',
      'azure/eventgrid-resourcewritefailure.azure-sdk-for-net-test.json',
      'azure/cloudevents-resourcedeletesuccess.azure-sdk-for-go-test.json',
    ]) {
      it(`ignores ${file} by its event type (even with status Succeeded inside a failure)`, () => {
        const out = classifyMessage(loadCorpus(file));
        expect(out).to.have.length(1);
        expect(out[0]!.kind).to.equal('ignored');
        expect((out[0] as { reason: string }).reason).to.match(/^event type Microsoft\.Resources\.Resource(Delete|Write)(Success|Failure)$/);
      });
    }

    it('ignores the subscription validation event', () => {
      const [c] = classifyMessage(loadCorpus('azure/eventgrid-subscriptionvalidationevent.azuredocs.json'));
      expect(c!.kind).to.equal('ignored');
    });

    it('ignores a write of another provider (the SDK fixture with empty authorization/claims objects)', () => {
      const [c] = classifyMessage(loadCorpus('azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json'));
      expect(c).to.deep.include({ kind: 'ignored', reason: 'operation Microsoft.EventGrid/eventSubscriptions/write' });
    });
  });

  describe('container write variants of the samples', () => {
    const cases = [
      { schema: 'eventgrid', file: EG_WRITE },
      { schema: 'cloudevents', file: CE_WRITE },
    ] as const;
    for (const { schema, file } of cases) {
      it(`reads an ACI write in ${schema} schema`, () => {
        const msg = deploymentEventVariant(loadCorpus(file), { kind: 'ACI', resourceUri: aciId, correlationId: 'corr-1', eventId: 'ev-1' });
        const [c] = classifyMessage(msg);
        expect(c!.kind).to.equal('deployment');
        if (c!.kind !== 'deployment') return;
        expect(c!.event).to.deep.include({
          schema,
          id: 'ev-1',
          containerType: 'ACI',
          resourceId: aciId,
          resourceKey: aciId.toLowerCase(),
          subscriptionId: SUB,
          resourceGroup: 'rg-demo',
          name: 'demo1',
          correlationId: 'corr-1',
        });
      });

      it(`reads an ACA write in ${schema} schema`, () => {
        const msg = deploymentEventVariant(loadCorpus(file), { kind: 'ACA', resourceUri: acaId, correlationId: 'corr-2', eventId: 'ev-2' });
        const [c] = classifyMessage(msg);
        expect(c).to.have.property('kind', 'deployment');
        expect((c as { event: { containerType: string; name: string } }).event).to.include({ containerType: 'ACA', name: 'app1' });
      });
    }

    it('ignores the temporary /deployments/ URI of the two-event quirk and keeps the real one', () => {
      const sample = loadCorpus(EG_WRITE);
      const temp = deploymentEventVariant(sample, {
        kind: 'ACI',
        resourceUri: `/subscriptions/${SUB}/resourceGroups/rg-demo/deployments/Microsoft.ContainerInstances-20240101`,
        correlationId: 'corr-q',
        eventId: 'ev-temp',
      });
      const real = deploymentEventVariant(sample, { kind: 'ACI', resourceUri: aciId, correlationId: 'corr-q', eventId: 'ev-real' });
      const out = classifyMessage([...(temp as unknown[]), ...(real as unknown[])]);
      expect(out.map((c) => c.kind)).to.deep.equal(['ignored', 'deployment']);
      expect((out[0] as { reason: string }).reason).to.match(/^temporary deployment resource/);
    });

    for (const [scope, uri] of [
      ['resource group', `/subscriptions/${SUB}/resourceGroups/rg-demo/deployments/Microsoft.ContainerInstances-20240101`],
      ['resource group (provider form)', `/subscriptions/${SUB}/resourceGroups/rg-demo/providers/Microsoft.Resources/deployments/aci-1`],
      ['subscription', `/subscriptions/${SUB}/providers/Microsoft.Resources/deployments/aca-20260115`],
      ['subscription, other case', `/SUBSCRIPTIONS/${SUB}/PROVIDERS/microsoft.resources/DEPLOYMENTS/x`],
      ['management group', '/providers/Microsoft.Management/managementGroups/mg-1/providers/Microsoft.Resources/deployments/d'],
      ['tenant', '/providers/Microsoft.Resources/deployments/tenant-deploy'],
    ] as const) {
      it(`ignores a temporary deployment URI at ${scope} scope`, () => {
        for (const file of [EG_WRITE, CE_WRITE]) {
          const [c] = classifyMessage(deploymentEventVariant(loadCorpus(file), { kind: 'ACA', resourceUri: uri, correlationId: 'c', eventId: 'e' }));
          expect(c, file).to.deep.include({ kind: 'ignored', reason: `temporary deployment resource ${uri}` });
        }
      });
    }

    it('does not mistake a resource group named "deployments" for the temporary URI', () => {
      const id = resourceId('ACI', SUB, 'deployments', 'g');
      const [c] = classifyMessage(deploymentEventVariant(loadCorpus(EG_WRITE), { kind: 'ACI', resourceUri: id, correlationId: 'c', eventId: 'e' }));
      expect(c!.kind).to.equal('deployment');
    });

    it('tolerates authorization and claims given as strings (SDK fixture shape)', () => {
      const sample = loadCorpus<Record<string, unknown>[]>('azure/eventgrid-resourcewritefailure.azure-sdk-for-net-test.json');
      const msg = deploymentEventVariant(sample, { kind: 'ACA', resourceUri: acaId, correlationId: 'c', eventId: 'e' });
      (msg[0] as Record<string, unknown>).eventType = 'Microsoft.Resources.ResourceWriteSuccess';
      const [c] = classifyMessage(msg);
      expect(c!.kind).to.equal('deployment');
    });

    for (const schema of ['eventgrid', 'cloudevents'] as const) {
      it(`marks a ${schema} write whose id, correlation id or resource id is longer than storage keeps as malformed, naming the field`, () => {
        const file = schema === 'eventgrid' ? EG_WRITE : CE_WRITE;
        const long = 'x'.repeat(40_000);
        const cases: [string, Parameters<typeof deploymentEventVariant>[1], RegExp][] = [
          ['id', { kind: 'ACI', resourceUri: aciId, correlationId: 'c', eventId: long }, /^event id of 40000 characters \(at most 512\)$/],
          ['correlationId', { kind: 'ACI', resourceUri: aciId, correlationId: long, eventId: 'e' }, /^correlationId of 40000 characters \(at most 512\)$/],
          ['resourceUri', { kind: 'ACA', resourceUri: resourceId('ACA', SUB, 'rg', long), correlationId: 'c', eventId: 'e' }, /^resourceUri of 40\d{3} characters \(at most 1024\)$/],
        ];
        for (const [field, variant, reason] of cases) {
          const [c] = classifyMessage(deploymentEventVariant(loadCorpus(file), variant));
          expect(c, field).to.have.property('kind', 'malformed');
          expect((c as { reason: string }).reason, field).to.match(reason);
        }
        const longest = deploymentEventVariant(loadCorpus(file), { kind: 'ACI', resourceUri: resourceId('ACI', SUB, 'r'.repeat(90), 'n'.repeat(63)), correlationId: 'c'.repeat(512), eventId: 'e'.repeat(512) });
        expect(classifyMessage(longest)[0]!.kind, 'the longest ids ARM and Event Grid use').to.equal('deployment');
      });
    }

    it('reports a container operation on a resource of the other kind as malformed', () => {
      const msg = deploymentEventVariant(loadCorpus(EG_WRITE), { kind: 'ACA', resourceUri: aciId, correlationId: 'c', eventId: 'e' });
      const [c] = classifyMessage(msg);
      expect(c!.kind).to.equal('malformed');
      expect((c as { reason: string }).reason).to.contain('does not match resource');
    });

    it('falls back to the event id when the correlation id is missing', () => {
      const msg = deploymentEventVariant(loadCorpus(EG_WRITE), { kind: 'ACI', resourceUri: aciId, correlationId: '', eventId: 'ev-9' });
      const [c] = classifyMessage(msg);
      expect((c as { event: { correlationId: string } }).event.correlationId).to.equal('event:ev-9');
    });
  });

  describe('queue message encodings', () => {
    const event = () => deploymentEventVariant(loadCorpus(CE_WRITE), { kind: 'ACI', resourceUri: aciId, correlationId: 'c', eventId: 'e' });

    it('accepts an object, JSON text, base64 JSON and a Buffer alike', () => {
      const json = JSON.stringify(event());
      const forms: unknown[] = [event(), json, Buffer.from(json).toString('base64'), Buffer.from(json), (event() as unknown[])[0]];
      for (const form of forms) {
        const out = classifyMessage(form);
        expect(out.map((c) => c.kind), typeof form).to.deep.equal(['deployment']);
      }
    });

    it('reads a CloudEvent whose data arrives as data_base64, in every queue encoding', () => {
      const [plain] = event() as Record<string, unknown>[];
      const { data, ...rest } = plain!;
      const binary = { ...rest, data_base64: Buffer.from(JSON.stringify(data)).toString('base64') };
      const json = JSON.stringify(binary);
      for (const form of [binary, [binary], json, Buffer.from(json).toString('base64')]) {
        const [c] = classifyMessage(form);
        expect(c!.kind, typeof form).to.equal('deployment');
        expect((c as { event: { resourceId: string; correlationId: string } }).event).to.include({ resourceId: aciId, correlationId: 'c' });
      }
    });

    it('reads an event whose data arrives as JSON text (both schemas)', () => {
      for (const file of [EG_WRITE, CE_WRITE]) {
        const [plain] = deploymentEventVariant(loadCorpus(file), { kind: 'ACI', resourceUri: aciId, correlationId: 'c', eventId: 'e' }) as Record<string, unknown>[];
        const [c] = classifyMessage({ ...plain!, data: JSON.stringify(plain!.data) });
        expect(c!.kind, file).to.equal('deployment');
      }
    });

    for (const [what, dataBase64, reason] of [
      ['not base64', 'not base64 at all!', /data_base64 is not base64$/],
      ['base64 of text that is not JSON', Buffer.from('hello').toString('base64'), /data_base64 is not base64 JSON/],
      ['base64 JSON without the fields', Buffer.from('{"x":1}').toString('base64'), /data lacks operationName/],
    ] as const) {
      it(`marks a CloudEvent malformed when data_base64 is ${what}`, () => {
        const [c] = classifyMessage({ specversion: '1.0', type: 'Microsoft.Resources.ResourceWriteSuccess', source: 's', id: 'ce-1', data_base64: dataBase64 });
        expect(c).to.have.property('kind', 'malformed');
        expect((c as { id?: string }).id).to.equal('ce-1');
        expect((c as { reason: string }).reason).to.match(reason);
      });
    }

    it('names what is wrong with an unreadable body', () => {
      expect(() => decodeQueueMessage('not json at all')).to.throw(MessageFormatError, /not JSON or base64 JSON/);
      expect(() => decodeQueueMessage('')).to.throw(MessageFormatError, /empty/);
      expect(() => classifyMessage('[]')).to.throw(MessageFormatError, /empty event array/);
    });

    it('marks objects of neither schema malformed, with the reason', () => {
      const [c] = classifyMessage({ hello: 'world' });
      expect(c).to.deep.equal({ kind: 'malformed', reason: 'neither an Event Grid event (eventType) nor a CloudEvent (specversion)' });
      const [d] = classifyMessage({ specversion: '1.0', type: 'Microsoft.Resources.ResourceWriteSuccess', id: 'x', data: { resourceUri: 5 } });
      expect(d!.kind).to.equal('malformed');
      expect((d as { reason: string }).reason).to.match(/operationName/);
    });

    it('never throws anything but MessageFormatError on arbitrary input', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.json(), fc.jsonValue()), (input) => {
          try {
            const out = classifyMessage(input);
            expect(out.length).to.be.greaterThan(0);
          } catch (error) {
            expect(error).to.be.instanceOf(MessageFormatError);
          }
        }),
        { numRuns: 300 },
      );
    });
  });
});
