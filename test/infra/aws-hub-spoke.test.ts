import { expect } from 'chai';
import { runPlanDetailed, type PlanResult } from '../../local/plan';
import { loadScannerEnv, loadBulkEnv } from '../../functions/aws/env';
import type { PlannedResource } from '../../local/plan';
import {
  HUB_ACCOUNT,
  HUB_BUS_ARN,
  HUB_EXTERNAL_ID,
  HUB_ROLE_ARNS,
  ORG_ID,
  SPOKE_A,
  SPOKE_B,
  oneOfType,
  ofType,
  parsePolicy,
  planMode,
  placeholderBundles,
  planSecretIdMode,
  statement,
  type Mode,
  type SecretIdMode,
} from './support/aws-plans';

const RULE = 'aws:cloudwatch/eventRule:EventRule';
const TARGET = 'aws:cloudwatch/eventTarget:EventTarget';
const ROLE = 'aws:iam/role:Role';
const ROLE_POLICY = 'aws:iam/rolePolicy:RolePolicy';

function variables(plan: PlanResult, name: string): Record<string, string> {
  return (oneOfType(plan, 'aws:lambda/function:Function', name).inputs['environment'] as { variables: Record<string, string> }).variables;
}

const spokeRoles = [
  { accountId: SPOKE_A.accountId, roleArn: `arn:aws:iam::${SPOKE_A.accountId}:role/shipscan-spoke`, externalId: SPOKE_A.externalId },
  { accountId: SPOKE_B.accountId, roleArn: `arn:aws:iam::${SPOKE_B.accountId}:role/scanner-access`, externalId: SPOKE_B.externalId },
];

describe('AWS hub stack', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  before(async function () {
    plan = await planMode('hub');
  });

  it('creates a central bus that the organization and the listed spoke accounts may put events on', function () {
    const bus = oneOfType(plan, 'aws:cloudwatch/eventBus:EventBus');
    expect(bus.inputs['name']).to.equal('shipscan-prod-central');
    const busArn = 'arn:aws:events:us-east-1:123456789012:event-bus/shipscan-prod-central';
    const policy = oneOfType(plan, 'aws:cloudwatch/eventBusPolicy:EventBusPolicy');
    expect(policy.inputs['eventBusName']).to.equal('shipscan-prod-central');
    const doc = parsePolicy(policy.inputs['policy'], 'bus policy');
    expect(doc.Statement).to.deep.equal([
      {
        Sid: 'SpokeAccountsPutEvents',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${SPOKE_A.accountId}:root`, `arn:aws:iam::${SPOKE_B.accountId}:root`] },
        Action: 'events:PutEvents',
        Resource: busArn,
      },
      { Sid: 'OrganizationPutEvents', Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: busArn, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } } },
    ]);
  });

  it('applies the same deployment rule on the default bus and the central bus, both feeding the queue', function () {
    const rules = ofType(plan, RULE).filter((r) => r.name.endsWith('-deployments'));
    expect(rules.map((r) => [r.name, r.inputs['eventBusName'] ?? 'default'])).to.deep.equal([
      ['shipscan-deployments', 'default'],
      ['shipscan-central-deployments', 'shipscan-prod-central'],
    ]);
    expect(rules[0]?.inputs['eventPattern']).to.equal(rules[1]?.inputs['eventPattern']);
    const targets = ofType(plan, TARGET).filter((t) => t.name.endsWith('-deployments'));
    expect(targets.map((t) => t.inputs['eventBusName'] ?? 'default')).to.deep.equal(['default', 'shipscan-prod-central']);
    expect(new Set(targets.map((t) => t.inputs['arn'])).size).to.equal(1);
    const send = statement(parsePolicy(oneOfType(plan, 'aws:sqs/queuePolicy:QueuePolicy', 'shipscan-scans').inputs['policy'], 'queue policy'), 'DeploymentRulesSend');
    expect(send.Condition).to.deep.equal({
      ArnEquals: {
        'aws:SourceArn': [
          `arn:aws:events:us-east-1:123456789012:rule/${String(rules[0]?.id)}`,
          `arn:aws:events:us-east-1:123456789012:rule/shipscan-prod-central/${String(rules[1]?.id)}`,
        ],
      },
    });
  });

  it('lets the scanner and bulk functions assume exactly the spoke roles, and tells them the ExternalIds', function () {
    for (const name of ['shipscan-scanner-policy', 'shipscan-bulk-policy']) {
      const assume = statement(parsePolicy(oneOfType(plan, ROLE_POLICY, name).inputs['policy'], name), 'AssumeSpokeRoles');
      expect(assume).to.deep.equal({ Sid: 'AssumeSpokeRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: spokeRoles.map((r) => r.roleArn) });
    }
    expect(loadScannerEnv({ ...variables(plan, 'shipscan-scanner'), AWS_REGION: 'us-east-1' }).SPOKE_ROLES).to.deep.equal(spokeRoles);
    expect(loadBulkEnv({ ...variables(plan, 'shipscan-bulk'), AWS_REGION: 'us-east-1' }).SPOKE_ROLES).to.deep.equal(spokeRoles);
  });

  it('names the roles that assume spoke roles after the stack, and exports exactly what a spoke needs (spokeHub)', function () {
    // The roles whose policy may assume spoke roles, by name.
    const assumers = ofType(plan, ROLE_POLICY)
      .filter((p) => parsePolicy(p.inputs['policy'], p.name).Statement.some((st) => st.Sid === 'AssumeSpokeRoles'))
      .map((p) => String(p.inputs['role']));
    expect(assumers).to.deep.equal(['shipscan-prod-scanner', 'shipscan-prod-bulk']);
    for (const name of assumers) expect(ofType(plan, ROLE).filter((r) => r.inputs['name'] === name), name).to.have.length(1);
    const outputs = plan.outputs['aws'] as Record<string, unknown>;
    expect(outputs['spokeHub']).to.deep.equal({
      accountId: '123456789012',
      eventBusArn: 'arn:aws:events:us-east-1:123456789012:event-bus/shipscan-prod-central',
      roleArns: assumers.map((name) => `arn:aws:iam::123456789012:role/${name}`),
    });
  });

  it('exports the central bus ARN but no ExternalId', function () {
    const outputs = plan.outputs['aws'] as Record<string, unknown>;
    expect(outputs['centralEventBusArn']).to.equal('arn:aws:events:us-east-1:123456789012:event-bus/shipscan-prod-central');
    const text = JSON.stringify(plan.outputs);
    for (const spoke of [SPOKE_A, SPOKE_B]) expect(text).not.to.include(spoke.externalId);
  });
});

describe('AWS spoke stack', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  before(async function () {
    plan = await planMode('spoke');
  });

  it('declares the forwarding rule, its role, the access role and the optional trail, and no scanner', function () {
    const counts: Record<string, number> = {};
    for (const r of plan.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts['shipscan:aws:AwsSpoke']).to.equal(1);
    expect(counts[ROLE]).to.equal(2);
    expect(counts[ROLE_POLICY]).to.equal(2);
    // The deployment rule and the two security-event rules (one per rendered pattern), all to the hub bus.
    expect(counts[RULE]).to.equal(3);
    expect(counts[TARGET]).to.equal(3);
    expect(counts['aws:cloudtrail/trail:Trail']).to.equal(1);
    // The trail bucket logs its S3 access into a log bucket of the spoke.
    expect(counts['aws:s3/bucket:Bucket']).to.equal(2);
    expect(counts['aws:s3/bucketLogging:BucketLogging']).to.equal(1);
    for (const absent of ['aws:lambda/function:Function', 'aws:sqs/queue:Queue', 'aws:dynamodb/table:Table', 'aws:secretsmanager/secret:Secret']) {
      expect(counts[absent], absent).to.equal(undefined);
    }
  });

  it('creates the access role trusting exactly the configured hub roles, no wildcard, with the ExternalId required', function () {
    const role = oneOfType(plan, ROLE, 'shipscan-spoke-access');
    expect(role.inputs['name']).to.equal('shipscan-spoke');
    const trust = parsePolicy(role.inputs['assumeRolePolicy'], 'access role trust');
    expect(trust.Statement).to.deep.equal([
      {
        Sid: 'HubAssumesWithExternalId',
        Effect: 'Allow',
        Principal: { AWS: HUB_ROLE_ARNS },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': HUB_EXTERNAL_ID } },
      },
    ]);
    // Not the hub account root, not a pattern (any other shipscan stack's roles in the hub account are refused).
    expect(role.inputs['assumeRolePolicy']).to.not.match(/[*?]|:root|ArnLike|PrincipalArn/);
  });

  it("trusts exactly the roles a hub stack outputs, when given the hub's spokeHub output", async function () {
    const hub = await planMode('hub');
    const spokeHub = (hub.outputs['aws'] as Record<string, unknown>)['spokeHub'] as { accountId: string; eventBusArn: string; roleArns: string[] };
    const fromHub = await runPlanDetailed({
      stack: 'member',
      env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() },
      config: { 'aws:region': 'us-east-1', 'shipscan:aws': { enabled: true, mode: 'spoke', hub: { ...spokeHub, externalId: HUB_EXTERNAL_ID } } },
    });
    const trust = parsePolicy(oneOfType(fromHub, ROLE, 'shipscan-spoke-access').inputs['assumeRolePolicy'], 'trust');
    expect(trust.Statement[0]?.Principal).to.deep.equal({ AWS: spokeHub.roleArns });
    // The forwarding rule targets the hub bus from the same output.
    for (const target of ofType(fromHub, TARGET)) expect(target.inputs['arn'], target.name).to.equal(spokeHub.eventBusArn);
  });

  it('lets the hub only read, list, tag (Shipscan* keys) and pull images of functions here', function () {
    const doc = parsePolicy(oneOfType(plan, ROLE_POLICY, 'shipscan-spoke-access').inputs['policy'], 'access policy');
    expect(doc.Statement.map((s) => [s.Sid, s.Action, s.Resource])).to.deep.equal([
      ['ReadFunctions', ['lambda:GetFunction', 'lambda:ListTags'], 'arn:aws:lambda:*:123456789012:function:*'],
      ['PullFunctionImages', ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:DescribeImages'], 'arn:aws:ecr:*:123456789012:repository/*'],
      ['EcrLogin', 'ecr:GetAuthorizationToken', '*'],
      ['ListFunctions', 'lambda:ListFunctions', '*'],
      ['FindExcludedByTag', 'tag:GetResources', '*'],
      ['TagShipscanKeysOnly', 'lambda:TagResource', 'arn:aws:lambda:*:123456789012:function:*'],
    ]);
    expect(statement(doc, 'TagShipscanKeysOnly').Condition).to.deep.equal({ 'ForAllValues:StringLike': { 'aws:TagKeys': ['Shipscan*'] }, Null: { 'aws:TagKeys': 'false' } });
  });

  it('forwards the same Lambda deployment events to the hub bus with a role that may only put events there', function () {
    const rule = oneOfType(plan, RULE, 'shipscan-spoke-deployments');
    const pattern = JSON.parse(rule.inputs['eventPattern'] as string) as { detail: Record<string, unknown> };
    expect(pattern.detail['eventName']).to.deep.equal(['CreateFunction', { prefix: 'CreateFunction20' }, 'UpdateFunctionCode', { prefix: 'UpdateFunctionCode20' }]);
    expect(pattern.detail['errorCode']).to.deep.equal([{ exists: false }]);
    const forwarder = oneOfType(plan, ROLE, 'shipscan-spoke-forwarder');
    const target = oneOfType(plan, TARGET, 'shipscan-spoke-deployments');
    expect(target.inputs).to.deep.include({ arn: HUB_BUS_ARN, roleArn: `arn:aws:iam::123456789012:role/${String(forwarder.id)}`, rule: rule.id });
    expect(parsePolicy(forwarder.inputs['assumeRolePolicy'], 'forwarder trust').Statement).to.deep.equal([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
    ]);
    expect(parsePolicy(oneOfType(plan, ROLE_POLICY, 'shipscan-spoke-forwarder').inputs['policy'], 'forwarder policy').Statement).to.deep.equal([
      { Sid: 'ForwardToHub', Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS_ARN },
    ]);
  });

  it('exports role and rule ARNs, not the ExternalId', function () {
    expect(plan.outputs['aws']).to.have.all.keys('mode', 'accessRoleArn', 'forwardRuleArn', 'securityForwardRuleArns', 'accessLogsBucket');
    expect(JSON.stringify(plan.outputs)).not.to.include(HUB_EXTERNAL_ID);
  });
});

/** Every resource of `secret` equals its counterpart in `plain`, except the listed inputs, which are masked. */
function differencesFrom(plain: PlanResult, secret: PlanResult): { resource: string; path: string; plain: unknown; secret: unknown }[] {
  const differences: { resource: string; path: string; plain: unknown; secret: unknown }[] = [];
  const walk = (resource: string, path: string, a: unknown, b: unknown) => {
    if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object' && Array.isArray(a) === Array.isArray(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(resource, `${path}/${key}`, (a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
    } else if (JSON.stringify(a) !== JSON.stringify(b)) {
      differences.push({ resource, path, plain: a, secret: b });
    }
  };
  // The same resources; registration order may differ, as a secret input resolves later than a plain one.
  const key = (r: PlannedResource) => `${r.type} ${r.name}`;
  expect(secret.resources.map(key).sort()).to.deep.equal(plain.resources.map(key).sort());
  const plainByKey = new Map(plain.resources.map((r) => [key(r), r]));
  for (const r of secret.resources) walk(key(r), '', plainByKey.get(key(r))?.inputs, r.inputs);
  walk('stack outputs', '', plain.outputs, secret.outputs);
  return differences;
}

describe('ExternalIds set as secrets', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  const pairs: [Mode, SecretIdMode][] = [
    ['hub', 'hub-secret-ids'],
    ['spoke', 'spoke-secret-ids'],
  ];
  const plans = new Map<SecretIdMode, [PlanResult, PlanResult]>();
  before(async function () {
    // The plan tool itself fails a plan in which a secret config value appears unmasked anywhere.
    for (const [plain, secret] of pairs) plans.set(secret, await Promise.all([planMode(plain), planSecretIdMode(secret)]));
  });

  it('hub: plan without leaks, the same resources, and only the functions SPOKE_ROLES masked', function () {
    const [plain, secret] = plans.get('hub-secret-ids')!;
    const byResource = (a: { resource: string }, b: { resource: string }) => a.resource.localeCompare(b.resource);
    expect(differencesFrom(plain, secret).sort(byResource)).to.deep.equal(
      ['shipscan-bulk', 'shipscan-scanner'].map((name) => ({
        resource: `aws:lambda/function:Function ${name}`,
        path: '/environment/variables/SPOKE_ROLES',
        plain: variables(plain, name)['SPOKE_ROLES'],
        secret: '[secret]',
      })),
    );
    // The assume-role statements keep naming the spoke roles in plain text (ARNs are no secret).
    expect(statement(parsePolicy(oneOfType(secret, ROLE_POLICY, 'shipscan-scanner-policy').inputs['policy'], 'scanner policy'), 'AssumeSpokeRoles').Resource).to.deep.equal(spokeRoles.map((r) => r.roleArn));
    const text = JSON.stringify(secret);
    for (const spoke of [SPOKE_A, SPOKE_B]) expect(text).not.to.include(spoke.externalId);
  });

  it('spoke: plan without leaks, the same resources, and only the access role trust policy masked', function () {
    const [plain, secret] = plans.get('spoke-secret-ids')!;
    expect(differencesFrom(plain, secret)).to.deep.equal([
      {
        resource: `${ROLE} shipscan-spoke-access`,
        path: '/assumeRolePolicy',
        plain: oneOfType(plain, ROLE, 'shipscan-spoke-access').inputs['assumeRolePolicy'],
        secret: '[secret]',
      },
    ]);
    expect(secret.outputs['aws']).to.have.all.keys('mode', 'accessRoleArn', 'forwardRuleArn', 'securityForwardRuleArns', 'accessLogsBucket');
    expect(JSON.stringify(secret)).not.to.include(HUB_EXTERNAL_ID);
  });
});
