import { expect } from 'chai';
import { decide } from '../../../shared/findings/lifecycle';
import { parseFinding } from '../../../shared/findings/finding';
import type { Observation } from '../../../shared/findings/lifecycle';
import { ARM_API_VERSIONS, apiVersionFor } from '../../../shared/rules/azure/api-versions';
import {
  armOperationNames,
  AZURE_REGISTRY,
  evaluateArmResource,
  EVENT_GRID_MAX_FILTER_VALUES,
  routeArmEvent,
  rulesForOperation,
  type ArmEventOutcome,
  type AzureRuleRegistry,
} from '../../../shared/rules/azure/registry';
import { sameResourceTrigger } from '../../../shared/rules/azure/triggers';
import type { AzurePostureRule } from '../../../shared/rules/azure/types';
import { DEFAULT_ALLOW_LISTS } from '../../../shared/rules/allow-lists';
import { ACI_GET, armEventVariant, corpusBody, EG_DELETE, EG_WRITE, CE_DELETE, CE_WRITE, fixture, nsgWithRules, rgId, SUB, withProperties } from './support';

const ctx = { allowLists: DEFAULT_ALLOW_LISTS };
const NSG_ID = rgId('Microsoft.Network/networkSecurityGroups', 'web-nsg');
const schedule = { trigger: 'schedule' as const, runId: 'run-2026-01-05', observedAt: '2026-01-05T03:00:00.000Z' };

/** An observation is good when the lifecycle turns it into a valid Finding v1. */
function asFinding(observation: Observation) {
  const decision = decide(undefined, observation, undefined);
  if (decision.kind === 'none') throw new Error(`no transition for ${observation.ruleId}`);
  return parseFinding(decision.finding);
}

function only<K extends ArmEventOutcome['kind']>(outcomes: ArmEventOutcome[], kind: K): Extract<ArmEventOutcome, { kind: K }> {
  expect(outcomes.map((o) => o.kind), JSON.stringify(outcomes.map((o) => ('reason' in o ? o.reason : o.kind)))).to.deep.equal([kind]);
  return outcomes[0] as Extract<ArmEventOutcome, { kind: K }>;
}

describe('azure rule registry', () => {
  describe('the rules', () => {
    it('has unique ids in the azure.<service>.<name> form, Microsoft Learn remediation links and lower-case types', () => {
      const all = [...AZURE_REGISTRY.posture, ...AZURE_REGISTRY.detectors];
      expect(new Set(all.map((r) => r.id)).size).to.equal(all.length);
      for (const rule of all) {
        expect(rule.id, rule.id).to.match(/^azure\.[a-z]+\.[a-z0-9-]+$/);
        expect(rule.id.split('.')[1], rule.id).to.equal(rule.service);
        expect(rule.cloud).to.equal('azure');
        expect(rule.remediation.url, rule.id).to.match(/^https:\/\/learn\.microsoft\.com\/azure\//);
        expect(rule.risk.length, rule.id).to.be.greaterThan(40);
      }
      for (const rule of AZURE_REGISTRY.posture) expect(rule.resourceType, rule.id).to.equal(rule.resourceType.toLowerCase());
    });

    it('GETs every rule type with the api-version of the table', () => {
      expect(ARM_API_VERSIONS).to.deep.equal({
        'microsoft.network/networksecuritygroups': '2024-05-01',
        'microsoft.storage/storageaccounts': '2023-05-01',
        'microsoft.keyvault/vaults': '2023-07-01',
        'microsoft.authorization/roleassignments': '2022-04-01',
        'microsoft.containerinstance/containergroups': '2023-05-01',
        'microsoft.app/containerapps': '2024-03-01',
      });
      for (const rule of AZURE_REGISTRY.posture) expect(apiVersionFor(rule.resourceType), rule.id).to.match(/^\d{4}-\d{2}-\d{2}$/);
      expect(apiVersionFor('Microsoft.Network/networkSecurityGroups')).to.equal('2024-05-01');
    });

    it('refuses a rule whose type has no known api-version', () => {
      const stray: AzurePostureRule = { ...AZURE_REGISTRY.posture[0]!, id: 'azure.test.stray', resourceType: 'microsoft.web/sites', triggers: [sameResourceTrigger('microsoft.web/sites', ['Microsoft.Web/sites/write'])] };
      expect(() => rulesForOperation('Microsoft.Web/sites/write', { posture: [stray], detectors: [] })).to.throw(/no ARM api-version known for microsoft.web\/sites/);
    });
  });

  describe('armOperationNames (the Event Grid filter)', () => {
    it('lists every operation the rules react to, once, in one subscription', () => {
      const plan = armOperationNames();
      expect(plan.operationNames).to.deep.equal([
        'Microsoft.App/containerApps/delete',
        'Microsoft.App/containerApps/write',
        'Microsoft.Authorization/roleAssignments/delete',
        'Microsoft.Authorization/roleAssignments/write',
        'Microsoft.ContainerInstance/containerGroups/delete',
        'Microsoft.ContainerInstance/containerGroups/write',
        'Microsoft.Insights/diagnosticSettings/delete',
        'Microsoft.Insights/diagnosticSettings/write',
        'Microsoft.KeyVault/vaults/delete',
        'Microsoft.KeyVault/vaults/write',
        'Microsoft.Network/networkSecurityGroups/delete',
        'Microsoft.Network/networkSecurityGroups/securityRules/delete',
        'Microsoft.Network/networkSecurityGroups/securityRules/write',
        'Microsoft.Network/networkSecurityGroups/write',
        'Microsoft.Storage/storageAccounts/delete',
        'Microsoft.Storage/storageAccounts/write',
      ]);
      expect(plan.subscriptions).to.deep.equal([
        {
          includedEventTypes: ['Microsoft.Resources.ResourceWriteSuccess', 'Microsoft.Resources.ResourceDeleteSuccess'],
          advancedFilters: [{ operatorType: 'StringIn', key: 'data.operationName', values: plan.operationNames }],
        },
      ]);
    });

    it('every name of the plan routes somewhere, and every routed name is in the plan', () => {
      const plan = armOperationNames();
      for (const name of plan.operationNames) {
        const r = rulesForOperation(name);
        expect(r.evaluate.length + r.resolve.length + r.detectors.length, name).to.be.greaterThan(0);
      }
    });

    it('splits more than 25 names across subscriptions, never more than 25 values in one', () => {
      const many: AzureRuleRegistry = {
        posture: [],
        detectors: [{ ...AZURE_REGISTRY.detectors[0]!, operationNames: Array.from({ length: 58 }, (_, i) => `Microsoft.Test/things${String(i).padStart(2, '0')}/write`) }],
      };
      const plan = armOperationNames(many);
      expect(plan.subscriptions.map((s) => s.advancedFilters[0].values.length)).to.deep.equal([25, 25, 8]);
      expect(plan.subscriptions.flatMap((s) => s.advancedFilters[0].values)).to.deep.equal(plan.operationNames);
      for (const s of plan.subscriptions) {
        expect(s.advancedFilters.reduce((n, f) => n + f.values.length, 0)).to.be.at.most(EVENT_GRID_MAX_FILTER_VALUES);
      }
      expect(armOperationNames(AZURE_REGISTRY, 5).subscriptions.map((s) => s.advancedFilters[0].values.length)).to.deep.equal([5, 5, 5, 1]);
    });

    it('deduplicates names that differ only in case and refuses an impossible slice size', () => {
      const dup: AzureRuleRegistry = { posture: [], detectors: [{ ...AZURE_REGISTRY.detectors[0]!, operationNames: ['Microsoft.X/y/write', 'microsoft.x/Y/WRITE'] }] };
      expect(armOperationNames(dup).operationNames).to.deep.equal(['Microsoft.X/y/write']);
      expect(() => armOperationNames(AZURE_REGISTRY, 26)).to.throw(RangeError);
      expect(() => armOperationNames(AZURE_REGISTRY, 0)).to.throw(RangeError);
    });
  });

  describe('rulesForOperation', () => {
    it('routes an NSG write to one GET of the NSG for both NSG rules, ignoring case', () => {
      const r = rulesForOperation('MICROSOFT.NETWORK/NETWORKSECURITYGROUPS/WRITE');
      expect(r.evaluate).to.have.length(1);
      expect(r.evaluate[0]).to.deep.include({ resourceType: 'microsoft.network/networksecuritygroups', apiVersion: '2024-05-01' });
      expect(r.evaluate[0]!.rules.map((x) => x.id)).to.deep.equal(['azure.network.nsg-open-admin-port', 'azure.network.nsg-open-port']);
      expect(r.resolve).to.deep.equal([]);
    });

    it('routes a storage write to the four storage rules and a delete to resolving them', () => {
      expect(rulesForOperation('Microsoft.Storage/storageAccounts/write').evaluate[0]!.rules).to.have.length(4);
      const del = rulesForOperation('microsoft.storage/storageaccounts/delete');
      expect(del.evaluate).to.deep.equal([]);
      expect(del.resolve.map((t) => [t.resourceType, t.rules.length])).to.deep.equal([['microsoft.storage/storageaccounts', 4]]);
    });

    it('routes diagnostic settings to the detector and an unknown operation nowhere', () => {
      expect(rulesForOperation('Microsoft.Insights/diagnosticSettings/delete').detectors.map((d) => d.id)).to.deep.equal(['azure.monitor.diagnostic-settings-deleted']);
      expect(rulesForOperation('Microsoft.Web/sites/write')).to.deep.include({ evaluate: [], resolve: [], detectors: [] });
    });
  });

  describe('routeArmEvent', () => {
    it('turns the published storage write (both schemas) into a GET of the account with the storage rules', () => {
      for (const file of [EG_WRITE, CE_WRITE]) {
        const account = rgId('Microsoft.Storage/storageAccounts', 'stdata01');
        const o = only(routeArmEvent(armEventVariant(file, { resourceUri: account, operationName: 'Microsoft.Storage/storageAccounts/write' }), ctx), 'evaluate');
        expect(o).to.deep.include({ resourceId: account, resourceType: 'microsoft.storage/storageaccounts', apiVersion: '2023-05-01' });
        expect(o.ruleIds).to.have.length(4);
      }
    });

    it('turns a security rule write or delete into a GET of its NSG', () => {
      for (const op of ['Microsoft.Network/networkSecurityGroups/securityRules/write', 'Microsoft.Network/networkSecurityGroups/securityRules/delete']) {
        const o = only(routeArmEvent(armEventVariant(EG_WRITE, { resourceUri: `${NSG_ID}/securityRules/allow-ssh`, operationName: op }), ctx), 'evaluate');
        expect(o).to.deep.include({ resourceId: NSG_ID, apiVersion: '2024-05-01', ruleIds: ['azure.network.nsg-open-admin-port', 'azure.network.nsg-open-port'] });
      }
    });

    it('turns the published delete (both schemas) into resolving the resource, keyed in lower case', () => {
      for (const file of [EG_DELETE, CE_DELETE]) {
        const vault = rgId('Microsoft.KeyVault/vaults', 'KV-Prod');
        const o = only(routeArmEvent(armEventVariant(file, { resourceUri: vault, operationName: 'Microsoft.KeyVault/vaults/delete' }), ctx), 'resolve');
        expect(o).to.deep.include({ reason: 'resource deleted', ruleIds: ['azure.keyvault.public-network-access', 'azure.keyvault.purge-protection-disabled'], scope: { subscription: SUB } });
        expect(o.resource).to.deep.equal({ type: 'microsoft.keyvault/vaults', id: vault.toLowerCase(), name: 'KV-Prod' });
        expect(o.observedAt).to.equal('2018-07-19T19:24:12.763Z');
      }
    });

    it('reports an operation on a resource of another type as malformed', () => {
      const o = only(routeArmEvent(armEventVariant(EG_WRITE, { resourceUri: rgId('Microsoft.Storage/storageAccounts', 's1'), operationName: 'Microsoft.Network/networkSecurityGroups/write' }), ctx), 'malformed');
      expect(o.reason).to.match(/does not match resource/);
      only(routeArmEvent(armEventVariant(EG_DELETE, { resourceUri: rgId('Microsoft.Storage/storageAccounts', 's1'), operationName: 'Microsoft.KeyVault/vaults/delete' }), ctx), 'malformed');
    });

    it('ignores failures, the temporary deployment URI, unrelated operations and the validation event', () => {
      const failed = armEventVariant(EG_WRITE, { resourceUri: NSG_ID, operationName: 'Microsoft.Network/networkSecurityGroups/write', eventType: 'Microsoft.Resources.ResourceWriteFailure' });
      expect(only(routeArmEvent(failed, ctx), 'ignored').reason).to.equal('event type Microsoft.Resources.ResourceWriteFailure');
      const temp = armEventVariant(EG_WRITE, { resourceUri: `/subscriptions/${SUB}/resourceGroups/rg/deployments/nsg-20260101`, operationName: 'Microsoft.Network/networkSecurityGroups/write' });
      expect(only(routeArmEvent(temp, ctx), 'ignored').reason).to.match(/^temporary deployment resource/);
      const [eg] = corpusBody('azure/cloudevents-resourcewritesuccess.azure-sdk-for-go-test.json') as unknown as unknown[];
      expect(only(routeArmEvent(eg, ctx), 'ignored').reason).to.equal('operation Microsoft.EventGrid/eventSubscriptions/write');
      const [validation] = corpusBody('azure/eventgrid-subscriptionvalidationevent.azuredocs.json') as unknown as unknown[];
      only(routeArmEvent(validation, ctx), 'ignored');
      expect(only(routeArmEvent({ nope: true }, ctx), 'malformed').reason).to.match(/neither an Event Grid event/);
    });
  });

  describe('the diagnostic-settings detector through the registry', () => {
    const vault = rgId('Microsoft.KeyVault/vaults', 'kv-prod');
    const setting = `${vault}/providers/microsoft.insights/diagnosticSettings/ToSentinel`;

    it('a delete is a HIGH activity finding on the vault, with actor, IP and event id', () => {
      const event = armEventVariant(EG_DELETE, { resourceUri: setting, operationName: 'Microsoft.Insights/diagnosticSettings/delete', eventId: 'ev-diag-1' });
      const o = only(routeArmEvent(event, ctx), 'detection');
      const finding = asFinding(o.observation);
      expect(finding).to.deep.include({ ruleId: 'azure.monitor.diagnostic-settings-deleted', category: 'activity', severity: 'HIGH', subject: 'tosentinel', state: 'ACTIVE', cloud: 'azure' });
      expect(finding.resource).to.deep.equal({ type: 'microsoft.keyvault/vaults', id: vault.toLowerCase(), name: 'kv-prod' });
      expect(finding.scope).to.deep.equal({ subscription: SUB });
      expect(finding.source).to.deep.equal({ trigger: 'event', eventId: 'ev-diag-1', eventName: 'Microsoft.Insights/diagnosticSettings/delete', actor: '{user-name}', sourceIp: '{IP-address}' });
      expect(finding.evidence).to.deep.include({ diagnosticSetting: 'ToSentinel', resourceUri: setting });
    });

    it("the subscription's activity-log export deleted is a finding on the subscription", () => {
      const event = armEventVariant(CE_DELETE, { resourceUri: `/subscriptions/${SUB}/providers/microsoft.insights/diagnosticSettings/activity-to-la`, operationName: 'microsoft.insights/diagnosticSettings/delete' });
      const o = only(routeArmEvent(event, ctx), 'detection');
      expect(o.observation.resource).to.deep.equal({ type: 'microsoft.resources/subscriptions', id: `/subscriptions/${SUB}`, name: SUB });
    });

    it('writing the setting again is a pass on the same finding', () => {
      const del = only(routeArmEvent(armEventVariant(EG_DELETE, { resourceUri: setting, operationName: 'Microsoft.Insights/diagnosticSettings/delete' }), ctx), 'detection');
      const put = only(routeArmEvent(armEventVariant(EG_WRITE, { resourceUri: setting.replace('ToSentinel', 'tosentinel'), operationName: 'Microsoft.Insights/diagnosticSettings/write' }), ctx), 'detection');
      expect(put.observation).to.deep.include({ outcome: 'pass', resolvedReason: 'diagnostic setting re-created', subject: del.observation.subject });
      expect(put.observation.resource).to.deep.equal(del.observation.resource);
    });

    it('a diagnostic-settings operation on something that is not a diagnostic setting finds nothing', () => {
      expect(only(routeArmEvent(armEventVariant(EG_DELETE, { resourceUri: vault, operationName: 'Microsoft.Insights/diagnosticSettings/delete' }), ctx), 'ignored').reason).to.match(/^operation/);
    });

    it('a detector that throws is reported, not thrown', () => {
      const boom: AzureRuleRegistry = { posture: [], detectors: [{ ...AZURE_REGISTRY.detectors[0]!, match: () => { throw new Error('bug'); } }] };
      const o = only(routeArmEvent(armEventVariant(EG_DELETE, { resourceUri: setting, operationName: 'Microsoft.Insights/diagnosticSettings/delete' }), { ...ctx, registry: boom }), 'detector-error');
      expect(o).to.deep.include({ ruleId: 'azure.monitor.diagnostic-settings-deleted', message: 'Error: bug' });
    });
  });

  describe('evaluateArmResource', () => {
    it('evaluates an NSG GET after its write event, observations valid as findings and keyed like the delete path', () => {
      const event = armEventVariant(EG_WRITE, { resourceUri: NSG_ID.replace('resourceGroups', 'resourcegroups'), operationName: 'Microsoft.Network/networkSecurityGroups/write', eventId: 'ev-nsg' });
      const route = only(routeArmEvent(event, ctx), 'evaluate');
      const body = nsgWithRules([{ name: 'allow-ssh', properties: { destinationPortRange: '22' } }, { name: 'allow-all', properties: { destinationPortRange: '*' } }]);
      body.id = NSG_ID;
      body.name = 'web-nsg';
      const outcome = evaluateArmResource(body, { allowLists: DEFAULT_ALLOW_LISTS, origin: { trigger: 'event', event: route.event }, ruleIds: route.ruleIds });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(outcome.evaluatedRuleIds).to.deep.equal(route.ruleIds);
      expect(outcome.observations.map((o) => [o.ruleId, o.subject, o.severity])).to.deep.equal([
        ['azure.network.nsg-open-admin-port', 'allow-ssh', 'CRITICAL'],
        ['azure.network.nsg-open-admin-port', 'allow-all', 'CRITICAL'],
        ['azure.network.nsg-open-port', 'allow-all', 'HIGH'],
      ]);
      for (const observation of outcome.observations) {
        const finding = asFinding(observation);
        expect(finding.source).to.deep.include({ trigger: 'event', eventId: 'ev-nsg', eventName: 'Microsoft.Network/networkSecurityGroups/write', actor: '{user-name}' });
        expect(finding.firstSeenAt).to.equal('2018-07-19T18:38:04.611Z');
      }
      const del = only(routeArmEvent(armEventVariant(EG_DELETE, { resourceUri: NSG_ID.toUpperCase().replace('/SUBSCRIPTIONS/', '/subscriptions/'), operationName: 'Microsoft.Network/networkSecurityGroups/delete' }), ctx), 'resolve');
      expect(del.resource.id).to.equal(outcome.resource.id);
      expect(del.scope).to.deep.equal(outcome.scope);
    });

    it('evaluates a Resource Graph row for the scheduled inventory with the run as the source', () => {
      const row = withProperties(fixture('storage-account-create-response'), { allowSharedKeyAccess: false });
      row.type = 'microsoft.storage/storageaccounts';
      row.id = (row.id as string).replace('{subscription-id}', SUB);
      const outcome = evaluateArmResource(row, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(outcome.evaluatedRuleIds).to.have.length(4);
      expect(outcome.observations.map((o) => o.ruleId)).to.deep.equal(['azure.storage.public-network-access']);
      const finding = asFinding(outcome.observations[0]!);
      expect(finding.source).to.deep.equal({ trigger: 'schedule', runId: 'run-2026-01-05' });
      expect(finding).to.deep.include({ category: 'posture', severity: 'MEDIUM', lastSeenAt: '2026-01-05T03:00:00.000Z' });
      expect(finding.scope).to.deep.equal({ subscription: SUB });
      expect(finding.resource).to.deep.equal({ type: 'microsoft.storage/storageaccounts', id: (row.id as string).toLowerCase(), name: 'sto4445' });
      expect(finding.remediation.url).to.match(/storage-network-security/);
    });

    it('scopes a management-group role assignment from Resource Graph to its management group', () => {
      const body = fixture('role-assignment-get');
      body.id = '/providers/Microsoft.Management/managementGroups/Contoso/providers/Microsoft.Authorization/roleAssignments/b0f43c54-e787-4862-89b1-a653fa9cf747';
      const row = withProperties(body, { scope: '/providers/Microsoft.Management/managementGroups/Contoso', roleDefinitionId: '/providers/Microsoft.Authorization/roleDefinitions/8e3af657-a8ff-443c-a75c-2fe8c4bcb635' });
      const outcome = evaluateArmResource(row, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(asFinding(outcome.observations[0]!).scope).to.deep.equal({ subscription: 'managementgroups/contoso' });
    });

    it('evaluates only the requested rules, and says when none reads the type', () => {
      const outcome = evaluateArmResource(fixture('key-vault-get'), { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule, ruleIds: ['azure.keyvault.purge-protection-disabled'] });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(outcome.observations.map((o) => o.ruleId)).to.deep.equal(['azure.keyvault.purge-protection-disabled']);
      expect(evaluateArmResource(corpusBody(ACI_GET), { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule, ruleIds: ['azure.keyvault.purge-protection-disabled'] }).kind).to.equal('unsupported');
      expect(evaluateArmResource({ id: rgId('Microsoft.Web/sites', 'app'), type: 'Microsoft.Web/sites', properties: {} }, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule })).to.deep.include({ kind: 'unsupported', resourceType: 'microsoft.web/sites' });
    });

    it('reports not-applicable rules without counting them as evaluated', () => {
      const outcome = evaluateArmResource({ id: NSG_ID, type: 'microsoft.network/networksecuritygroups', properties: null }, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(outcome.evaluatedRuleIds).to.deep.equal([]);
      expect(outcome.results.map((r) => r.status)).to.deep.equal(['not-applicable', 'not-applicable']);
    });

    it('rejects what is not an ARM resource of the type it claims', () => {
      for (const bad of [null, [], 'x', { name: 'no id' }, { id: 'not-an-id' }, { id: NSG_ID, properties: [] }, { id: NSG_ID, type: 7 }]) {
        expect(evaluateArmResource(bad, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule }).kind, JSON.stringify(bad)).to.equal('malformed');
      }
      const lying = { ...fixture('nsg-get'), type: 'Microsoft.Storage/storageAccounts' };
      expect(evaluateArmResource(lying, { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule })).to.deep.include({ kind: 'malformed' });
    });

    it('a rule that throws is an error result, the others still run', () => {
      const [first, second] = AZURE_REGISTRY.posture;
      const registry: AzureRuleRegistry = { posture: [{ ...first!, evaluate: () => { throw new TypeError('bad'); } }, second!], detectors: [] };
      const outcome = evaluateArmResource(nsgWithRules([{ properties: { destinationPortRange: '*' } }]), { allowLists: DEFAULT_ALLOW_LISTS, origin: schedule, registry });
      if (outcome.kind !== 'evaluated') throw new Error(outcome.reason);
      expect(outcome.results.map((r) => r.status)).to.deep.equal(['error', 'evaluated']);
      expect(outcome.evaluatedRuleIds).to.deep.equal([second!.id]);
      expect(outcome.observations).to.have.length(1);
    });
  });
});
