import { expect } from 'chai';
import type { PlanResult } from '../../local/plan';
import { loadScannerEnv, loadBulkEnv } from '../../functions/aws/env';
import { HUB_ACCOUNT, HUB_BUS_ARN, HUB_EXTERNAL_ID, ORG_ID, SPOKE_A, SPOKE_B, oneOfType, ofType, parsePolicy, planMode, statement } from './support/aws-plans';

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
    const rules = ofType(plan, RULE).filter((r) => r.inputs['eventPattern'] !== undefined);
    expect(rules.map((r) => [r.name, r.inputs['eventBusName'] ?? 'default'])).to.deep.equal([
      ['shipscan-deployments', 'default'],
      ['shipscan-central-deployments', 'shipscan-prod-central'],
    ]);
    expect(rules[0]?.inputs['eventPattern']).to.equal(rules[1]?.inputs['eventPattern']);
    const targets = ofType(plan, TARGET);
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
    expect(counts[RULE]).to.equal(1);
    expect(counts[TARGET]).to.equal(1);
    expect(counts['aws:cloudtrail/trail:Trail']).to.equal(1);
    for (const absent of ['aws:lambda/function:Function', 'aws:sqs/queue:Queue', 'aws:dynamodb/table:Table', 'aws:secretsmanager/secret:Secret']) {
      expect(counts[absent], absent).to.equal(undefined);
    }
  });

  it('creates the access role trusting only the hub account, with the ExternalId required', function () {
    const role = oneOfType(plan, ROLE, 'shipscan-spoke-access');
    expect(role.inputs['name']).to.equal('shipscan-spoke');
    const trust = parsePolicy(role.inputs['assumeRolePolicy'], 'access role trust');
    expect(trust.Statement).to.deep.equal([
      {
        Sid: 'HubAssumesWithExternalId',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${HUB_ACCOUNT}:root` },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': HUB_EXTERNAL_ID } },
      },
    ]);
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
    const rule = oneOfType(plan, RULE);
    const pattern = JSON.parse(rule.inputs['eventPattern'] as string) as { detail: Record<string, unknown> };
    expect(pattern.detail['eventName']).to.deep.equal(['CreateFunction', { prefix: 'CreateFunction20' }, 'UpdateFunctionCode', { prefix: 'UpdateFunctionCode20' }]);
    expect(pattern.detail['errorCode']).to.deep.equal([{ exists: false }]);
    const forwarder = oneOfType(plan, ROLE, 'shipscan-spoke-forwarder');
    const target = oneOfType(plan, TARGET);
    expect(target.inputs).to.deep.include({ arn: HUB_BUS_ARN, roleArn: `arn:aws:iam::123456789012:role/${String(forwarder.id)}`, rule: rule.id });
    expect(parsePolicy(forwarder.inputs['assumeRolePolicy'], 'forwarder trust').Statement).to.deep.equal([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': '123456789012' } } },
    ]);
    expect(parsePolicy(oneOfType(plan, ROLE_POLICY, 'shipscan-spoke-forwarder').inputs['policy'], 'forwarder policy').Statement).to.deep.equal([
      { Sid: 'ForwardToHub', Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS_ARN },
    ]);
  });

  it('exports role and rule ARNs, not the ExternalId', function () {
    expect(plan.outputs['aws']).to.have.all.keys('mode', 'accessRoleArn', 'forwardRuleArn');
    expect(JSON.stringify(plan.outputs)).not.to.include(HUB_EXTERNAL_ID);
  });
});
