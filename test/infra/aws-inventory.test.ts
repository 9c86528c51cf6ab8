import { expect } from 'chai';
import { runPlanDetailed, type PlanResult, type PlannedResource } from '../../local/plan';
import { inventoryActions } from '../../shared/inventory/operations';
import { checkAwsInvariants, invariantContext } from './support/aws-invariants';
import { awsConfig, HUB_ACCOUNT, HUB_BUS_ARN, HUB_EXTERNAL_ID, HUB_ROLE_ARNS, LAYER_ARN, MODES, ORG_ID, parsePolicy, placeholderBundles, planMode, SPOKE_A, SPOKE_B, type Mode } from './support/aws-plans';

/**
 * aws/inventory.ts under the Pulumi mocks: the schedules (weekly inventory, daily evaluation, cron and time
 * zone from config), planner / collector / evaluator, the shard queue and its DLQ, the resources table, and
 * read-only collector roles (the narrow policy of shared/inventory/operations.ts, not SecurityAudit) in the
 * hub and in each spoke. The security invariants hold over every resource; the resources it adds are counted.
 */

const INVENTORY = { enabled: true, regions: ['us-east-1', 'eu-west-1'], inventorySchedule: 'cron(30 1 ? * SUN *)', timezone: 'Europe/Paris', maxConcurrency: 12 };

const INVENTORY_MODES = {
  'standalone-defaults': awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN, inventory: { enabled: true } }),
  hub: awsConfig({ mode: 'hub', qscannerLayerArn: LAYER_ARN, organizationId: ORG_ID, spokes: [SPOKE_A, SPOKE_B], createTrail: true, inventory: INVENTORY }),
  spoke: awsConfig({ mode: 'spoke', createTrail: true, hub: { accountId: HUB_ACCOUNT, eventBusArn: HUB_BUS_ARN, roleArns: HUB_ROLE_ARNS, externalId: HUB_EXTERNAL_ID }, inventory: { enabled: true } }, null),
} as const satisfies Partial<Record<Mode, Record<string, unknown>>>;

type InventoryMode = keyof typeof INVENTORY_MODES;
const plans = new Map<InventoryMode, Promise<PlanResult>>();

function planInventory(mode: InventoryMode): Promise<PlanResult> {
  let plan = plans.get(mode);
  if (!plan) {
    plan = runPlanDetailed({ config: INVENTORY_MODES[mode], stack: 'prod', env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() } });
    plan.catch(() => undefined);
    plans.set(mode, plan);
  }
  return plan;
}

function named(plan: PlanResult, type: string, name: string): PlannedResource {
  const found = plan.resources.find((r) => r.type === type && r.name === name);
  if (!found) throw new Error(`no ${type} ${name} (have ${plan.resources.filter((r) => r.type === type).map((r) => r.name).join(', ')})`);
  return found;
}

function grantedActions(resource: PlannedResource): string[] {
  return parsePolicy(resource.inputs['policy'], resource.name).Statement.filter((s) => s.Effect === 'Allow').flatMap((s) => ([] as string[]).concat(s.Action ?? []));
}

describe('AWS inventory infrastructure (aws/inventory.ts) under the Pulumi mocks', function () {
  this.timeout(300_000);
  // Resources the inventory adds (README "What gets deployed"): the resources table, the queues, three functions
  // with their roles, policies and log groups, the event source mapping, the schedules and their role (it writes
  // the stack's findings table); in a spoke, one role and its policy.
  const ADDED: Record<InventoryMode, number> = { 'standalone-defaults': 22, hub: 22, spoke: 2 };

  for (const mode of Object.keys(INVENTORY_MODES) as InventoryMode[]) {
    it(`${mode}: the security invariants hold over every resource with the inventory enabled`, async () => {
      const plan = await planInventory(mode);
      expect(checkAwsInvariants(plan, invariantContext(INVENTORY_MODES[mode]))).to.deep.equal([]);
      const base = await planMode(mode);
      expect(plan.resources.length - base.resources.length, `${base.resources.length} resources without the inventory, ${plan.resources.length} with it`).to.equal(ADDED[mode]);
    });
  }

  it('hub: two schedules on EventBridge Scheduler with the configured cron and time zone, invoking the planner and the evaluator', async () => {
    const plan = await planInventory('hub');
    const schedules = plan.resources.filter((r) => r.type === 'aws:scheduler/schedule:Schedule');
    expect(schedules.map((s) => s.name).sort()).to.deep.equal(['shipscan-evaluation-schedule', 'shipscan-inventory-schedule']);
    const weekly = named(plan, 'aws:scheduler/schedule:Schedule', 'shipscan-inventory-schedule');
    expect(weekly.inputs['scheduleExpression']).to.equal('cron(30 1 ? * SUN *)');
    expect(weekly.inputs['scheduleExpressionTimezone']).to.equal('Europe/Paris');
    const target = weekly.inputs['target'] as { input: string; arn: string };
    expect(JSON.parse(target.input)).to.deep.equal({ service: 'all', trigger: 'schedule' });
    const daily = named(plan, 'aws:scheduler/schedule:Schedule', 'shipscan-evaluation-schedule');
    expect(daily.inputs['scheduleExpression']).to.equal('cron(0 4 * * ? *)');
    const planner = named(plan, 'aws:lambda/function:Function', 'shipscan-inventory-planner');
    expect(planner.inputs['handler']).to.equal('index.planner');
    const mapping = plan.resources.find((r) => r.type === 'aws:lambda/eventSourceMapping:EventSourceMapping' && r.name === 'shipscan-inventory-shards')!;
    expect(mapping.inputs['scalingConfig']).to.deep.equal({ maximumConcurrency: 12 });
    expect(mapping.inputs['batchSize']).to.equal(1);
    const queue = named(plan, 'aws:sqs/queue:Queue', 'shipscan-shards');
    expect(JSON.parse(String(queue.inputs['redrivePolicy'])).maxReceiveCount).to.equal(3);
  });

  it('hub: the collector reads with exactly the inventory actions and may assume only the spokes\' inventory roles', async () => {
    const plan = await planInventory('hub');
    const policy = named(plan, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-inventory-collector-policy');
    const doc = parsePolicy(policy.inputs['policy'], policy.name);
    const reads = doc.Statement.filter((s) => String(s.Sid).startsWith('InventoryRead')).flatMap((s) => ([] as string[]).concat(s.Action ?? []));
    expect(reads.sort()).to.deep.equal(inventoryActions());
    expect(reads).to.not.include('lambda:GetFunction');
    const assume = doc.Statement.find((s) => s.Sid === 'AssumeSpokeRoles')!;
    expect(assume.Resource).to.deep.equal([SPOKE_A, SPOKE_B].map((s) => `arn:aws:iam::${s.accountId}:role/shipscan-inventory`));
    // The security-events function runs the real-time posture hook: the same reads, the resources table, the spokes' roles.
    const events = parsePolicy(named(plan, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-security-events-fn-policy').inputs['policy'], 'security-events');
    const eventReads = events.Statement.filter((s) => String(s.Sid).startsWith('InventoryRead')).flatMap((s) => ([] as string[]).concat(s.Action ?? []));
    expect(eventReads.sort()).to.deep.equal(inventoryActions());
    expect(events.Statement.map((s) => s.Sid)).to.include.members(['InventoryResources', 'AssumeSpokeInventoryRoles']);
    // No managed policy anywhere: SecurityAudit is not attached.
    expect(plan.resources.filter((r) => r.type === 'aws:iam/rolePolicyAttachment:RolePolicyAttachment')).to.deep.equal([]);
    // The collector's role is among the roles spokes trust (aws.spokeHub.roleArns).
    expect(JSON.stringify(plan.outputs)).to.include('inventory');
  });

  it('spoke: a read-only inventory role trusting exactly the hub roles with the ExternalId', async () => {
    const plan = await planInventory('spoke');
    const role = named(plan, 'aws:iam/role:Role', 'shipscan-spoke-inventory');
    expect(role.inputs['name']).to.equal('shipscan-inventory');
    const trust = parsePolicy(role.inputs['assumeRolePolicy'], role.name).Statement[0]!;
    expect(trust.Principal).to.deep.equal({ AWS: HUB_ROLE_ARNS });
    expect(trust.Condition?.['StringEquals']?.['sts:ExternalId']).to.equal(HUB_EXTERNAL_ID);
    const granted = grantedActions(named(plan, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-spoke-inventory'));
    expect([...granted].sort()).to.deep.equal(inventoryActions());
  });

  it('without aws.inventory.enabled nothing of the inventory is planned', async () => {
    const plan = await planMode('standalone-defaults');
    expect(MODES['standalone-defaults']).to.not.have.nested.property("['shipscan:aws'].inventory");
    expect(plan.resources.filter((r) => r.type === 'aws:scheduler/schedule:Schedule' || r.name.includes('inventory'))).to.deep.equal([]);
  });
});
