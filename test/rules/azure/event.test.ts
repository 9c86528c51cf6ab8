import { expect } from 'chai';
import { loadCorpus } from '../../support/corpus';
import { decodeEvents } from '../../../shared/event-grid';
import { CLAIM_OBJECT_ID, CLAIM_UPN, normaliseArmEvent, type NormalisedArmEvent } from '../../../shared/rules/azure/event';
import type { ArmActivity } from '../../../shared/rules/types';
import { armEventVariant, CE_DELETE, CE_WRITE, EG_DELETE, EG_WRITE, rgId, SUB } from './support';

function activity(n: NormalisedArmEvent): ArmActivity {
  if (n.kind !== 'activity') throw new Error(`expected an activity, got ${n.kind}: ${n.reason}`);
  return n.activity;
}

const NSG = rgId('Microsoft.Network/networkSecurityGroups', 'web-nsg');

describe('azure ARM event normaliser', () => {
  describe('the published samples', () => {
    for (const file of [EG_WRITE, CE_WRITE]) {
      it(`reads ${file} (actor from the UPN claim, IP from ipaddr)`, () => {
        const [raw] = decodeEvents(loadCorpus(file));
        expect(activity(normaliseArmEvent(raw))).to.deep.equal({
          id: '4db48cba-50a2-455a-93b4-de41a3b5b7f6',
          eventType: 'Microsoft.Resources.ResourceWriteSuccess',
          eventTime: '2018-07-19T18:38:04.611Z',
          subject: '/subscriptions/{subscription-id}/resourcegroups/{resource-group}/providers/Microsoft.Storage/storageAccounts/{storage-name}',
          operationName: 'Microsoft.Storage/storageAccounts/write',
          resourceUri: '/subscriptions/{subscription-id}/resourcegroups/{resource-group}/providers/Microsoft.Storage/storageAccounts/{storage-name}',
          subscriptionId: '{subscription-id}',
          status: 'Succeeded',
          actor: '{user-name}',
          sourceIp: '{IP-address}',
          correlationId: '{ID}',
        });
      });
    }

    for (const file of [EG_DELETE, CE_DELETE]) {
      it(`reads the delete sample ${file}`, () => {
        const a = activity(normaliseArmEvent(decodeEvents(loadCorpus(file))[0]));
        expect(a).to.include({ eventType: 'Microsoft.Resources.ResourceDeleteSuccess', operationName: 'Microsoft.Storage/storageAccounts/delete', status: 'Succeeded' });
      });
    }

    it('reads the SDK fixtures whose claims, authorization and httpRequest are empty objects or placeholder strings', () => {
      for (const file of ['azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json', 'azure/eventgrid-resourcewritefailure.azure-sdk-for-net-test.json', 'azure/cloudevents-resourcedeletesuccess.azure-sdk-for-go-test.json']) {
        const a = activity(normaliseArmEvent(decodeEvents(loadCorpus(file))[0]));
        expect(a.operationName, file).to.equal('Microsoft.EventGrid/eventSubscriptions/write');
        expect(a.correlationId, file).to.equal('54ef1e39-6a82-44b3-abc1-bdeb6ce4d3c6');
        expect(a, file).not.to.have.property('actor');
        expect(a, file).not.to.have.property('sourceIp');
      }
    });

    it('ignores the subscription validation event, which carries no operation', () => {
      const n = normaliseArmEvent(decodeEvents(loadCorpus('azure/eventgrid-subscriptionvalidationevent.azuredocs.json'))[0]);
      expect(n.kind).to.equal('ignored');
    });
  });

  describe('the caller', () => {
    const variant = (claims: Record<string, string | undefined>, extra: { httpRequest?: unknown; rawClaims?: unknown } = {}) =>
      activity(normaliseArmEvent(armEventVariant(EG_WRITE, { resourceUri: NSG, operationName: 'Microsoft.Network/networkSecurityGroups/write', claims, ...extra })));

    it('falls back to the object id for a service principal (no UPN)', () => {
      expect(variant({ [CLAIM_UPN]: undefined, [CLAIM_OBJECT_ID]: '11111111-2222-3333-4444-555555555555' }).actor).to.equal('11111111-2222-3333-4444-555555555555');
    });

    it('falls back to appid when neither UPN nor object id is there', () => {
      expect(variant({ [CLAIM_UPN]: undefined, [CLAIM_OBJECT_ID]: undefined, appid: 'app-123' }).actor).to.equal('app-123');
    });

    it('has no actor when no claim names one', () => {
      expect(variant({ [CLAIM_UPN]: undefined, [CLAIM_OBJECT_ID]: undefined, appid: undefined })).not.to.have.property('actor');
    });

    it('takes the IP from httpRequest.clientIpAddress when the token has no ipaddr', () => {
      expect(variant({ ipaddr: undefined }, { httpRequest: { clientIpAddress: '198.51.100.20', method: 'PUT' } }).sourceIp).to.equal('198.51.100.20');
      expect(variant({ ipaddr: '203.0.113.9' }, { httpRequest: { clientIpAddress: '198.51.100.20' } }).sourceIp).to.equal('203.0.113.9');
    });

    it('reads claims sent as JSON text', () => {
      const a = variant({}, { rawClaims: JSON.stringify({ [CLAIM_UPN]: 'ops@contoso.example', ipaddr: '192.0.2.1' }) });
      expect(a).to.include({ actor: 'ops@contoso.example', sourceIp: '192.0.2.1' });
    });
  });

  describe('shape variations', () => {
    it('parses data sent as JSON text (Event Grid and CloudEvents)', () => {
      for (const file of [EG_WRITE, CE_WRITE]) {
        const event = armEventVariant(file, { resourceUri: NSG, operationName: 'Microsoft.Network/networkSecurityGroups/write' });
        event.data = JSON.stringify(event.data);
        expect(activity(normaliseArmEvent(event)).resourceUri, file).to.equal(NSG);
      }
    });

    it('takes the subscription from the resourceUri, then the topic, when data has none', () => {
      const event = armEventVariant(EG_WRITE, { resourceUri: NSG, operationName: 'Microsoft.Network/networkSecurityGroups/write' });
      delete (event.data as Record<string, unknown>).subscriptionId;
      expect(activity(normaliseArmEvent(event)).subscriptionId).to.equal(SUB);
      const tenantScoped = armEventVariant(EG_WRITE, { resourceUri: '/providers/Microsoft.Management/managementGroups/mg1', operationName: 'Microsoft.Management/managementGroups/write' });
      delete (tenantScoped.data as Record<string, unknown>).subscriptionId;
      tenantScoped.topic = `/subscriptions/${SUB}`;
      expect(activity(normaliseArmEvent(tenantScoped)).subscriptionId).to.equal(SUB);
    });

    const broken: [string, (e: Record<string, unknown>) => void, RegExp][] = [
      ['no operationName', (e) => delete (e.data as Record<string, unknown>).operationName, /lacks operationName/],
      ['an empty operationName', (e) => ((e.data as Record<string, unknown>).operationName = '  '), /empty operationName/],
      ['no resourceUri', (e) => delete (e.data as Record<string, unknown>).resourceUri, /lacks resourceUri/],
      ['an unreadable time', (e) => (e.eventTime = 'yesterday'), /no readable event time/],
      ['data that is not an object', (e) => (e.data = 'not json'), /lacks operationName/],
    ];
    for (const [what, breakIt, reason] of broken) {
      it(`marks an ARM event with ${what} malformed, keeping its id`, () => {
        const event = armEventVariant(EG_WRITE, { resourceUri: NSG, operationName: 'Microsoft.Network/networkSecurityGroups/write', eventId: 'ev-broken' });
        breakIt(event);
        const n = normaliseArmEvent(event);
        expect(n).to.include({ kind: 'malformed', id: 'ev-broken' });
        expect((n as { reason: string }).reason).to.match(reason);
      });
    }

    it('marks an event without a subscription anywhere malformed', () => {
      const event = armEventVariant(EG_WRITE, { resourceUri: '/providers/Microsoft.Management/managementGroups/mg1', operationName: 'Microsoft.Management/managementGroups/write' });
      delete (event.data as Record<string, unknown>).subscriptionId;
      delete event.topic;
      expect(normaliseArmEvent(event)).to.include({ kind: 'malformed' });
    });

    it('bounds what it keeps from untrusted text', () => {
      const a = activity(normaliseArmEvent(armEventVariant(EG_WRITE, { resourceUri: NSG, operationName: 'Microsoft.Network/networkSecurityGroups/write', claims: { [CLAIM_UPN]: 'u'.repeat(5000), ipaddr: '1'.repeat(500) } })));
      expect(a.actor).to.have.length(256);
      expect(a.sourceIp).to.have.length(64);
    });
  });
});
