import { expect } from 'chai';
import { InventoryRequestError, parseInventoryRequest, loadInventorySettings, inRuleScope, entityOf, storedOf, MAX_CONFIG_PARTS, type StoredResource } from '../../functions/azure/inventory';
import { loadSettings, SettingsError } from '../../functions/azure/settings';
import { registrationsFromEnv } from '../../functions/azure/app';
import { INVENTORY_TYPES } from '../../shared/rules/azure/resource-graph';
import { renderDigest, renderDigestChatPayload } from '../../shared/notify/digest';
import { validateConfig, ConfigError } from '../../shared/config';
import { DEMO_SUBSCRIPTIONS, storageAccount, COMPLIANT_STORAGE } from '../../local/resource-graph-sim/seed';
import { opened } from '../findings/support/store-contract';
import { observation } from '../findings/support/observations';

const findingOf = (ruleId: string) => opened(observation({ ruleId })).finding;

const SUBS = Object.values(DEMO_SUBSCRIPTIONS);
const ctx = { subscriptions: SUBS, types: [...INVENTORY_TYPES], disabledRules: [] as string[] };

describe('Azure inventory: requests, settings, rows, digest', () => {
  describe('inventory-requests payloads (seed 001)', () => {
    it('{"service":"all"} inventories every configured type and subscription', () => {
      expect(parseInventoryRequest('{"service":"all"}', ctx)).to.deep.equal({ mode: 'inventory', types: [...INVENTORY_TYPES], subscriptions: SUBS, label: '{"service":"all"}' });
    });
    it('{"type":...} one type, {"subscriptionId":...} one subscription, {"service":"storage"} the types and rules of a service', () => {
      expect(parseInventoryRequest({ type: 'Microsoft.Storage/storageAccounts' }, ctx)).to.include({ mode: 'inventory' }).and.deep.include({ types: ['microsoft.storage/storageaccounts'] });
      expect(parseInventoryRequest({ subscriptionId: DEMO_SUBSCRIPTIONS.staging.toUpperCase() }, ctx).subscriptions).to.deep.equal([DEMO_SUBSCRIPTIONS.staging]);
      const storage = parseInventoryRequest(Buffer.from('{"service":"storage"}'), ctx);
      expect(storage.types).to.deep.equal(['microsoft.storage/storageaccounts']);
      expect(storage.ruleIds).to.have.length(4);
    });
    it('{"ruleId":...} and {} evaluate the stored inventory; "mode" overrides', () => {
      expect(parseInventoryRequest({ ruleId: 'azure.keyvault.purge-protection-disabled' }, ctx)).to.deep.include({ mode: 'evaluation', types: ['microsoft.keyvault/vaults'], ruleIds: ['azure.keyvault.purge-protection-disabled'] });
      expect(parseInventoryRequest({}, ctx).mode).to.equal('evaluation');
      expect(parseInventoryRequest({ ruleId: 'azure.keyvault.purge-protection-disabled', mode: 'inventory' }, ctx).mode).to.equal('inventory');
    });
    for (const [payload, message] of [
      ['not json', /not JSON/],
      [{ service: 'all', extra: 1 }, /not an inventory request/],
      [{ service: 'compute' }, /no enabled Azure posture rule of that service/],
      [{ type: 'microsoft.compute/virtualmachines' }, /not a type the inventory collects/],
      [{ ruleId: 'azure.nope' }, /not an Azure posture rule/],
      [{ subscriptionId: '00000000-0000-4000-8000-000000000000' }, /not in azure.inventory.subscriptions/],
      [{ service: 'storage', type: 'microsoft.keyvault/vaults' }, /selects no rule and type/],
    ] as const) {
      it(`refuses ${JSON.stringify(payload)}`, () => {
        expect(() => parseInventoryRequest(payload, ctx)).to.throw(InventoryRequestError, message);
      });
    }
    it('refuses a disabled rule and a type left out of azure.inventory.types', () => {
      expect(() => parseInventoryRequest({ ruleId: 'azure.storage.minimum-tls' }, { ...ctx, disabledRules: ['azure.storage.minimum-tls'] })).to.throw(/disabled/);
      expect(() => parseInventoryRequest({ type: 'microsoft.app/containerapps' }, { ...ctx, types: ['microsoft.storage/storageaccounts'] })).to.throw(/not in azure.inventory.types/);
    });
  });

  describe('settings', () => {
    const base = { AzureWebJobsStorage: 'UseDevelopmentStorage=true', QUALYS_POD: 'US2', QUALYS_ACCESS_TOKEN: 'token-value-1234' };
    it('off by default: no inventory function, no timer', () => {
      expect(loadSettings(base).inventory.enabled).to.equal(false);
      const registrations = registrationsFromEnv(base);
      expect(registrations.queues.map((q) => q.name)).to.deep.equal(['onDeployment', 'pollScan', 'onSecurityEvent']);
      expect(registrations.timers).to.deep.equal([]);
    });
    it('enabled: the inventory-requests queue and two timers reading their schedules from the settings', () => {
      const registrations = registrationsFromEnv({ ...base, INVENTORY_ENABLED: 'true', INVENTORY_SUBSCRIPTIONS: SUBS.join(',') });
      expect(registrations.queues.map((q) => `${q.name} ${q.queueName}`)).to.include('inventoryRequest inventory-requests');
      expect(registrations.timers.map((t) => `${t.name} ${t.schedule}`)).to.deep.equal(['inventorySchedule %INVENTORY_SCHEDULE%', 'evaluationSchedule %EVALUATION_SCHEDULE%']);
    });
    it('reads subscriptions, types, rule scopes, schedules, findings config and the channel secrets', () => {
      const { settings, problems } = loadInventorySettings({
        INVENTORY_ENABLED: 'true',
        INVENTORY_SUBSCRIPTIONS: ` ${SUBS[0]!.toUpperCase()}, ${SUBS[1]}`,
        INVENTORY_TYPES: 'microsoft.keyvault/vaults',
        INVENTORY_RULE_SCOPES: JSON.stringify([{ ruleId: 'azure.keyvault.purge-protection-disabled', subscriptions: [SUBS[0]!.toUpperCase()] }]),
        EVALUATION_SCHEDULE: '0 30 2 * * *',
        FINDINGS_CONFIG: JSON.stringify({ severityThreshold: 'CRITICAL' }),
        FINDINGS_SLACK_WEBHOOK_URL: 'https://hooks.slack.com/services/T/B/secret',
      });
      expect(problems).to.deep.equal([]);
      expect(settings).to.deep.include({ subscriptions: [SUBS[0], SUBS[1]], types: ['microsoft.keyvault/vaults'], evaluationSchedule: '0 30 2 * * *', inventorySchedule: '0 0 0 * * Sat' });
      expect(settings!.ruleScopes).to.deep.equal([{ ruleId: 'azure.keyvault.purge-protection-disabled', subscriptions: [SUBS[0]] }]);
      expect(settings!.findings).to.deep.include({ severityThreshold: 'CRITICAL', slackWebhookUrl: 'https://hooks.slack.com/services/T/B/secret' });
    });
    it('names every bad inventory setting with the scanner settings, and never echoes a secret', () => {
      try {
        loadSettings({ ...base, INVENTORY_ENABLED: 'true', INVENTORY_SCHEDULE: 'every day', FINDINGS_SMTP_USERNAME: 'smtp-user-secret' });
        expect.fail('accepted');
      } catch (error) {
        expect(error).to.be.instanceOf(SettingsError);
        const text = (error as Error).message;
        expect(text).to.match(/INVENTORY_SCHEDULE: a six-field NCRONTAB/).and.match(/FINDINGS_SMTP_PASSWORD/).and.not.match(/smtp-user-secret/);
      }
    });
  });

  describe('stack config azure.inventory', () => {
    const qualys = { pod: 'US2', accessToken: 'x' };
    it('defaults: off, weekly Saturday 00:00 and daily 04:00 UTC, every type', () => {
      const c = validateConfig({}).azure.inventory;
      expect(c).to.deep.equal({ enabled: false, subscriptions: [], inventorySchedule: '0 0 0 * * Sat', evaluationSchedule: '0 0 4 * * *', types: [...INVENTORY_TYPES], ruleScopes: [] });
    });
    it('refuses a five-field cron, an unknown type, an unknown rule id and names a misspelt key', () => {
      const bad = (inventory: Record<string, unknown>) => () => validateConfig({ qualys, azure: { enabled: true, inventory } });
      expect(bad({ inventorySchedule: '0 0 * * 6' })).to.throw(ConfigError, /azure.inventory.inventorySchedule/);
      expect(bad({ types: ['microsoft.compute/virtualmachines'] })).to.throw(ConfigError, /azure.inventory.types.0/);
      expect(bad({ ruleScopes: [{ ruleId: 'azure.nope' }] })).to.throw(ConfigError, /ruleScopes.0.ruleId/);
      expect(bad({ enable: true })).to.throw(ConfigError, /did you mean shipscan:azure.inventory.enabled/);
    });
  });

  describe('rule scopes', () => {
    const resource = (subscriptionId: string, tags?: Record<string, string>): StoredResource => ({
      subscriptionId,
      type: 'microsoft.storage/storageaccounts',
      resource: { ...storageAccount(subscriptionId, 'rg', 'acct', COMPLIANT_STORAGE, tags) },
      lastSeenAt: '2026-12-01T00:00:00.000Z',
      runId: 'r',
      configHash: 'h',
      configStored: true,
    });
    it('no entry: everywhere; subscriptions and tags must all match; several entries widen', () => {
      expect(inRuleScope('r1', resource(SUBS[0]!), [])).to.equal(true);
      const scopes = [{ ruleId: 'r1', subscriptions: [SUBS[0]!], tags: { env: 'prod' } }];
      expect(inRuleScope('r1', resource(SUBS[0]!, { env: 'prod', team: 'a' }), scopes)).to.equal(true);
      expect(inRuleScope('r1', resource(SUBS[0]!, { env: 'dev' }), scopes)).to.equal(false);
      expect(inRuleScope('r1', resource(SUBS[1]!, { env: 'prod' }), scopes)).to.equal(false);
      expect(inRuleScope('r1', resource(SUBS[1]!, { env: 'prod' }), [...scopes, { ruleId: 'r1', subscriptions: [SUBS[1]!] }])).to.equal(true);
    });
  });

  describe('Resources rows', () => {
    it('round-trip the ARM shape, keyed by subscription#type and the lower-case id', () => {
      const r = storageAccount(SUBS[0]!, 'RG', 'Acct', COMPLIANT_STORAGE, { env: 'prod' });
      const entity = entityOf({ subscriptionId: SUBS[0]!, type: r.type, resource: r }, { lastSeenAt: '2026-12-01T00:00:00.000Z', runId: 'run-1' });
      expect(entity.rowKey).to.equal(r.id.toLowerCase().replace(/\//g, '!2F'));
      expect(entity).to.include({ RunId: 'run-1', ConfigParts: 1, ConfigStored: true });
      const back = storedOf(entity);
      expect(back.resource).to.deep.equal({ id: r.id, name: r.name, type: r.type, location: r.location, tags: r.tags, properties: r.properties });
    });
    it('split large configurations in parts, and keep a row without properties past the entity limit', () => {
      const big = storageAccount(SUBS[0]!, 'rg', 'big', { blob: 'x'.repeat(100_000) });
      const entity = entityOf({ subscriptionId: SUBS[0]!, type: big.type, resource: big }, { lastSeenAt: 't', runId: 'r' });
      expect(entity.ConfigParts).to.equal(4);
      expect(storedOf(entity).resource.properties).to.deep.equal(big.properties);
      const huge = storageAccount(SUBS[0]!, 'rg', 'huge', { blob: 'x'.repeat(30_000 * MAX_CONFIG_PARTS + 1) });
      const kept = entityOf({ subscriptionId: SUBS[0]!, type: huge.type, resource: huge }, { lastSeenAt: 't', runId: 'r' });
      expect(kept.ConfigStored).to.equal(false);
      expect(storedOf(kept).resource.properties).to.equal(undefined);
    });
  });

  describe('renderDigest', () => {
    const notices = [
      { transition: 'resolve' as const, finding: { ...findingOf('rule.low'), severity: 'LOW' as const, state: 'RESOLVED' as const, resolvedReason: 'resource deleted' } },
      { transition: 'open' as const, finding: { ...findingOf('rule.crit'), severity: 'CRITICAL' as const, title: 'SSH <open> to the world' } },
      { transition: 'touch' as const, finding: findingOf('rule.touch') },
    ];
    const input = { runId: 'run-7', title: 'Azure inventory', startedAt: '2026-12-01T00:00:00Z', finishedAt: '2026-12-01T00:01:00Z', complete: true, notices, stats: { queries: 6 } };
    it('counts changes (touches are not changes), lists new risk first, most severe first', () => {
      const digest = renderDigest(input);
      expect(digest.counts).to.deep.equal({ opened: 1, reopened: 0, resolved: 1, suppressed: 0, unsuppressed: 0 });
      expect(digest.top.map((i) => `${i.verb} ${i.ruleId}`)).to.deep.equal(['opened rule.crit', 'resolved rule.low']);
      expect(digest.subject).to.equal('[shipscan] Azure inventory digest: 1 opened, 1 resolved');
      expect(digest.text).to.include('resource deleted').and.include('queries:');
      expect(digest.html).to.include('SSH &lt;open&gt; to the world').and.not.include('<open>');
      expect(digest.worthSending).to.equal(true);
    });
    it('an empty complete run is not worth sending; an incomplete one is', () => {
      expect(renderDigest({ ...input, notices: [] }).worthSending).to.equal(false);
      const incomplete = renderDigest({ ...input, notices: [], complete: false, notes: ['query microsoft.keyvault/vaults failed'] });
      expect(incomplete.worthSending).to.equal(true);
      expect(incomplete.subject).to.match(/INCOMPLETE/);
    });
    it('caps the listed items and renders for Slack, Teams connectors and Teams Workflows', () => {
      const digest = renderDigest(input, { topItems: 1 });
      expect(digest.top).to.have.length(1);
      expect(digest.text).to.match(/Changes \(2, the 1 most severe shown\)/);
      const slack = renderDigestChatPayload('slack', 'https://hooks.slack.com/x', digest);
      expect(JSON.stringify(slack)).to.include('SSH &lt;open&gt;');
      expect(renderDigestChatPayload('teams', 'https://example.webhook.office.com/x', digest)).to.have.property('text');
      expect(renderDigestChatPayload('teams', 'https://prod-01.westeurope.logic.azure.com/workflows/abc/triggers/manual', digest)).to.have.property('attachments');
    });
  });
});
