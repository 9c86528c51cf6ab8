import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { PLAN_SUBSCRIPTION_ID, runPlanDetailed, type PlanResult, type PlannedResource } from '../../local/plan';
import { INVARIANTS, checkAzureInvariants, isCheckedType, type PlannedAzureResource } from '../../azure/invariants';
import { inventoryReadActions } from '../../azure/inventory';
import { INVENTORY_QUEUES, INVENTORY_TABLES } from '../../azure/names';
import { loadInventorySettings } from '../../functions/azure/inventory/settings';
import { INVENTORY_TYPES } from '../../shared/rules/azure/resource-graph';

/**
 * The Azure inventory's infrastructure under Pulumi mocks, in both deployment modes (group and system topic
 * created, or reused), each planned with and without `azure.inventory.enabled`: what the inventory adds, that the
 * role it adds only reads, that every invariant still holds, and that the runtime reads the settings it plans.
 */

const SUB_A = '6f1d1c2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f';
const SUB_B = '7a2e2d3f-4b5c-4d6e-9f0a-1b2c3d4e5f60';
const EXISTING_TOPIC = `/subscriptions/${PLAN_SUBSCRIPTION_ID}/resourceGroups/eventing/providers/Microsoft.EventGrid/systemTopics/arm-subscription-events`;
const SECRETS = {
  token: 'qualys-token-inventory-test-5e1',
  smtpUser: 'smtp-user-inventory-test',
  smtpPassword: 'smtp-password-inventory-test-77a',
  slack: 'https://hooks.slack.com/services/T000/B000/slack-secret-inventory-9d',
};

function placeholderBundle(): string {
  const root = mkdtempSync(path.join(tmpdir(), 'shipscan-azure-bundle-'));
  mkdirSync(path.join(root, 'azure', 'dist'), { recursive: true });
  writeFileSync(path.join(root, 'azure', 'host.json'), '{"version":"2.0"}');
  writeFileSync(path.join(root, 'azure', 'package.json'), '{"name":"shipscan-functions"}');
  writeFileSync(path.join(root, 'azure', 'dist', 'index.js'), 'module.exports = {};\n');
  return root;
}

const get = (value: unknown, ...keys: (string | number)[]): unknown =>
  keys.reduce<unknown>((here, key) => (here !== null && typeof here === 'object' ? (here as Record<string | number, unknown>)[key] : undefined), value);
const ofType = (resources: readonly PlannedResource[], suffix: string) => resources.filter((r) => r.type === `azure-native:${suffix}`);
const counts = (plan: PlanResult) => {
  const out: Record<string, number> = {};
  for (const r of plan.resources) {
    const type = r.type.replace(/^azure-native:/, '');
    out[type] = (out[type] ?? 0) + 1;
  }
  return out;
};
/** Types whose count differs between two plans, as `type: before -> after`. */
function added(before: PlanResult, after: PlanResult): Record<string, number> {
  const a = counts(before);
  const b = counts(after);
  const out: Record<string, number> = {};
  for (const type of new Set([...Object.keys(a), ...Object.keys(b)])) if ((b[type] ?? 0) !== (a[type] ?? 0)) out[type] = (b[type] ?? 0) - (a[type] ?? 0);
  return out;
}
const settingsOf = (plan: PlanResult) =>
  new Map(((get(ofType(plan.resources, 'web:WebApp')[0]?.inputs, 'siteConfig', 'appSettings') as { name: string; value: string }[] | undefined) ?? []).map((s) => [s.name, s.value]));
const inventoryRoles = (plan: PlanResult) => ofType(plan.resources, 'authorization:RoleDefinition').filter((d) => String(get(d.inputs, 'roleName')).startsWith('shipscan inventory reader'));

describe('Azure inventory infrastructure under Pulumi mocks', function () {
  // Four plans on a machine that may be busy: generous, since a slow plan is not what this suite tests.
  this.timeout(900_000);
  let bundleRoot: string;
  const plans: Record<'created' | 'createdInventory' | 'reused' | 'reusedInventory', PlanResult> = {} as never;

  before(async () => {
    bundleRoot = placeholderBundle();
    const env = { SHIPSCAN_BUNDLE_DIR: bundleRoot };
    const createdAzure = { enabled: true, location: 'westeurope' };
    const reusedAzure = { enabled: true, location: 'northeurope', resourceGroupName: 'platform-security', existingSystemTopicId: EXISTING_TOPIC };
    const qualys = { pod: 'US2', accessToken: { secret: SECRETS.token } };
    const findings = {
      severityThreshold: 'HIGH',
      email: { from: 'shipscan@example.test', to: ['secops@example.test'], smtp: { host: 'smtp.example.test', username: { secret: SECRETS.smtpUser }, password: { secret: SECRETS.smtpPassword } } },
      slackWebhookUrl: { secret: SECRETS.slack },
    };
    const timeoutMs = 400_000;
    // Two at a time: four plan workers at once would only compete for the same cores.
    const [created, createdInventory] = await Promise.all([
      runPlanDetailed({ stack: 'inv-created-off', env, timeoutMs, config: { 'shipscan:azure': createdAzure, 'shipscan:qualys': qualys } }),
      runPlanDetailed({
        timeoutMs,
        stack: 'inv-created',
        env,
        config: {
          'shipscan:azure': {
            ...createdAzure,
            inventory: { enabled: true, subscriptions: [SUB_A, SUB_B], ruleScopes: [{ ruleId: 'azure.storage.minimum-tls', tags: { env: 'prod' } }] },
          },
          'shipscan:qualys': qualys,
          'shipscan:findings': findings,
        },
      }),
    ]);
    const [reused, reusedInventory] = await Promise.all([
      runPlanDetailed({ stack: 'inv-reused-off', env, timeoutMs, config: { 'shipscan:azure': reusedAzure, 'shipscan:qualys': qualys } }),
      // No subscriptions: the deployment's own; two types only: a narrower role.
      runPlanDetailed({
        timeoutMs,
        stack: 'inv-reused',
        env,
        config: {
          'shipscan:azure': { ...reusedAzure, inventory: { enabled: true, types: ['microsoft.storage/storageaccounts', 'microsoft.keyvault/vaults'] } },
          'shipscan:qualys': qualys,
        },
      }),
    ]);
    Object.assign(plans, { created, createdInventory, reused, reusedInventory });
  });

  after(() => rmSync(bundleRoot, { recursive: true, force: true }));

  describe('resource counts, without and with the inventory', () => {
    it('created group and topic: two tables, two queues, and a role definition and assignment per inventoried subscription', () => {
      expect(added(plans.created, plans.createdInventory)).to.deep.equal({
        'shipscan:azure:AzureInventory': 1,
        'storage:Table': INVENTORY_TABLES.length,
        'storage:Queue': INVENTORY_QUEUES.length,
        'authorization:RoleDefinition': 2,
        'authorization:RoleAssignment': 2,
        // The digest's SMTP credentials and Slack webhook (the plan without the inventory configures no findings channel).
        'keyvault:Secret': 3,
      });
      expect([plans.created.resources.length, plans.createdInventory.resources.length]).to.deep.equal([66, 78]);
    });
    it("reused group and topic: the same, with one role on the deployment's subscription and no channel secrets", () => {
      expect(added(plans.reused, plans.reusedInventory)).to.deep.equal({
        'shipscan:azure:AzureInventory': 1,
        'storage:Table': INVENTORY_TABLES.length,
        'storage:Queue': INVENTORY_QUEUES.length,
        'authorization:RoleDefinition': 1,
        'authorization:RoleAssignment': 1,
      });
      expect([plans.reused.resources.length, plans.reusedInventory.resources.length]).to.deep.equal([64, 71]);
    });
  });

  describe('the inventory reader role', () => {
    it('reads only: every action a */read of a collected type, the query or the subscription; no wildcard, no data action', () => {
      for (const plan of [plans.createdInventory, plans.reusedInventory]) {
        for (const role of inventoryRoles(plan)) {
          const permissions = get(role.inputs, 'permissions') as { actions: string[]; dataActions: string[]; notActions: string[] }[];
          expect(permissions).to.have.length(1);
          expect(permissions[0]!.dataActions).to.deep.equal([]);
          for (const action of permissions[0]!.actions) expect(action, action).to.match(/^Microsoft\.[A-Za-z]+\/[A-Za-z]+\/read$/);
        }
      }
      const all = get(inventoryRoles(plans.createdInventory)[0]!.inputs, 'permissions', 0, 'actions');
      expect(all).to.deep.equal(inventoryReadActions([...INVENTORY_TYPES]));
      expect(all).to.have.length(INVENTORY_TYPES.length + 2);
      // Two types configured: the role reads those two and nothing else the inventory could collect.
      expect(get(inventoryRoles(plans.reusedInventory)[0]!.inputs, 'permissions', 0, 'actions')).to.deep.equal([
        'Microsoft.Authorization/roleAssignments/read',
        'Microsoft.KeyVault/vaults/read',
        'Microsoft.ResourceGraph/resources/read',
        'Microsoft.Resources/subscriptions/read',
        'Microsoft.Storage/storageAccounts/read',
      ]);
    });

    it('one per inventoried subscription, assignable and assigned only there, to the Function App identity', () => {
      const appPrincipal = String(get(plans.createdInventory.outputs['azure'], 'functionAppPrincipalId'));
      expect(appPrincipal).to.match(/^[0-9a-f-]{36}$/);
      const cases: [PlanResult, string[]][] = [
        [plans.createdInventory, [SUB_A, SUB_B]],
        [plans.reusedInventory, [PLAN_SUBSCRIPTION_ID]],
      ];
      for (const [plan, subscriptions] of cases) {
        const roles = inventoryRoles(plan);
        expect(roles.map((r) => get(r.inputs, 'scope'))).to.deep.equal(subscriptions.map((s) => `/subscriptions/${s}`));
        for (const role of roles) {
          expect(get(role.inputs, 'assignableScopes')).to.deep.equal([get(role.inputs, 'scope')]);
          const assignments = ofType(plan.resources, 'authorization:RoleAssignment').filter((a) => get(a.inputs, 'roleDefinitionId') === role.id);
          expect(assignments, String(role.name)).to.have.length(1);
          expect(assignments[0]!.inputs).to.deep.include({ scope: get(role.inputs, 'scope'), principalType: 'ServicePrincipal' });
        }
      }
      const principals = new Set(ofType(plans.createdInventory.resources, 'authorization:RoleAssignment').filter((a) => a.name.includes('inventory')).map((a) => get(a.inputs, 'principalId')));
      expect([...principals]).to.deep.equal([appPrincipal]);
    });
  });

  describe('invariants', () => {
    for (const variant of ['createdInventory', 'reusedInventory'] as const) {
      it(`${variant}: every Azure resource satisfies every invariant`, () => {
        const resources = plans[variant].resources;
        const report = checkAzureInvariants(resources as PlannedAzureResource[]);
        expect(report.violations, JSON.stringify(report.violations, null, 2)).to.deep.equal([]);
        expect(Object.values(report.checked).reduce((a, b) => a + b, 0)).to.equal(resources.filter(isCheckedType).length);
      });
    }
    it('a write action or a second scope on the inventory reader breaks an invariant', () => {
      const mutate = (change: (role: PlannedAzureResource) => void) => {
        const resources = JSON.parse(JSON.stringify(plans.createdInventory.resources)) as PlannedAzureResource[];
        change(resources.find((r) => r.type === 'azure-native:authorization:RoleDefinition' && String(get(r.inputs, 'roleName')).startsWith('shipscan inventory reader'))!);
        return checkAzureInvariants(resources).violations.map((v) => v.invariant);
      };
      expect(mutate((role) => (get(role.inputs, 'permissions', 0, 'actions') as string[]).push('Microsoft.Storage/storageAccounts/write'))).to.include(INVARIANTS.customRole);
      expect(mutate((role) => (get(role.inputs, 'permissions', 0, 'actions') as string[]).push('Microsoft.Storage/storageAccounts/listKeys/action'))).to.include(INVARIANTS.customRole);
      expect(mutate((role) => (role.inputs['assignableScopes'] = ['/subscriptions/' + SUB_A, '/subscriptions/' + SUB_B]))).to.include(INVARIANTS.customRole);
    });
  });

  describe('settings', () => {
    it('are what the runtime reads: loadInventorySettings takes them as planned (Key Vault references resolved)', () => {
      const settings = settingsOf(plans.createdInventory);
      // The host resolves references before the runtime reads them; stand in values of the right shape.
      const resolved = Object.fromEntries(
        [...settings].map(([name, value]) => [name, typeof value === 'string' && value.startsWith('@Microsoft.KeyVault(') ? (name.endsWith('_URL') ? 'https://resolved.example.test/x' : 'resolved') : value]),
      );
      const { settings: read, problems } = loadInventorySettings(resolved);
      expect(problems).to.deep.equal([]);
      expect(read).to.deep.include({ enabled: true, subscriptions: [SUB_A, SUB_B], types: [...INVENTORY_TYPES], inventorySchedule: '0 0 0 * * Sat', evaluationSchedule: '0 0 4 * * *' });
      expect(read!.ruleScopes).to.deep.equal([{ ruleId: 'azure.storage.minimum-tls', tags: { env: 'prod' } }]);
      expect(read!.smtpCredentials).to.deep.equal({ username: 'resolved', password: 'resolved' });
      expect(settingsOf(plans.reusedInventory).get('INVENTORY_SUBSCRIPTIONS')).to.equal(PLAN_SUBSCRIPTION_ID.toLowerCase());
      expect(settingsOf(plans.created).has('INVENTORY_ENABLED')).to.equal(false);
    });

    it('the digest channel secrets are Key Vault references, and no secret is in any input or output', () => {
      const settings = settingsOf(plans.createdInventory);
      for (const name of ['FINDINGS_SMTP_USERNAME', 'FINDINGS_SMTP_PASSWORD', 'FINDINGS_SLACK_WEBHOOK_URL']) expect(settings.get(name), name).to.match(/^@Microsoft\.KeyVault\(SecretUri=https:\/\/[a-z0-9-]+\.vault\.azure\.net\/secrets\/findings-[a-z-]+\/\)$/);
      const findingsConfig = JSON.parse(settings.get('FINDINGS_CONFIG')!) as Record<string, unknown>;
      expect(get(findingsConfig, 'email', 'smtp')).to.deep.equal({ host: 'smtp.example.test', port: 587, secure: false });
      expect(findingsConfig).to.not.have.property('slackWebhookUrl');
      const secrets = ofType(plans.createdInventory.resources, 'keyvault:Secret');
      expect(secrets.map((s) => get(s.inputs, 'secretName')).sort()).to.deep.equal(['findings-slack-webhook-url', 'findings-smtp-password', 'findings-smtp-username', 'qualys-access-token']);
      for (const s of secrets) expect(get(s.inputs, 'properties', 'value')).to.equal('[secret]');
      for (const plan of [plans.createdInventory, plans.reusedInventory]) {
        const text = JSON.stringify({ resources: plan.resources, outputs: plan.outputs });
        for (const secret of Object.values(SECRETS)) expect(text).to.not.include(secret);
      }
    });
  });
});
