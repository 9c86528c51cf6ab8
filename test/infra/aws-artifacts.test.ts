import { expect } from 'chai';
import type { PlanResult } from '../../local/plan';
import { loadArtifactsEnv } from '../../functions/aws/artifacts/env';
import { evaluatePattern, type EventPattern } from '../../shared/event-pattern/match';
import { loadCorpus } from '../support/corpus';
import { cloudTrailEnvelope, cloudTrailRecord, objectCreated } from '../artifacts/support/events';
import { checkAwsInvariants, invariantContext } from './support/aws-invariants';
import {
  ARTIFACT_MODES,
  HUB_BUS_ARN,
  HUB_EXTERNAL_ID,
  ORG_ID,
  ORG_OU,
  SPOKE_A,
  oneOfType,
  ofType,
  parsePolicy,
  planArtifactMode,
  planMode,
  statement,
  type ArtifactMode,
  type Mode,
} from './support/aws-plans';

const RULE = 'aws:cloudwatch/eventRule:EventRule';
/** The same stack without aws.artifacts, for the before / after resource counts. */
const BASELINE: Record<ArtifactMode, Mode> = { 'standalone-artifacts': 'standalone-defaults', 'hub-artifacts': 'hub', 'spoke-artifacts': 'spoke' };
type Json = Record<string, any>; // CloudFormation template and events are free-form JSON

function counts(plan: PlanResult): number {
  return plan.resources.filter((r) => r.type.startsWith('aws:')).length;
}

function pattern(plan: PlanResult, name: string): EventPattern {
  return JSON.parse(oneOfType(plan, RULE, name).inputs['eventPattern'] as string) as EventPattern;
}

const upload = (bucket: string, key: string, eventName: 'PutObject' | 'CompleteMultipartUpload' | 'CopyObject' = 'PutObject') =>
  cloudTrailEnvelope(cloudTrailRecord({ account: '222222222222', bucket, key }, eventName));

describe('AWS artifacts (aws.artifacts): planned under the mocks', function () {
  this.timeout(240_000);
  const plans = new Map<ArtifactMode, PlanResult>();
  const baselines = new Map<Mode, PlanResult>();
  before(async () => {
    for (const mode of Object.keys(ARTIFACT_MODES) as ArtifactMode[]) plans.set(mode, await planArtifactMode(mode));
    for (const mode of new Set(Object.values(BASELINE))) baselines.set(mode, await planMode(mode));
  });
  const plan = (mode: ArtifactMode) => plans.get(mode)!;

  it('holds every security invariant in standalone, hub (StackSet, org trail) and spoke mode', () => {
    for (const mode of Object.keys(ARTIFACT_MODES) as ArtifactMode[]) {
      expect(checkAwsInvariants(plan(mode), invariantContext(ARTIFACT_MODES[mode])), mode).to.deep.equal([]);
    }
  });

  it('cloud resources before / after aws.artifacts: standalone 61 -> 77, hub 78 -> 112 (StackSet, 2 instances, org trail), spoke 28 -> 34', () => {
    const rows = (Object.keys(BASELINE) as ArtifactMode[]).map((mode) => [mode, counts(baselines.get(BASELINE[mode])!), counts(plan(mode))]);
    expect(rows).to.deep.equal([
      ['standalone-artifacts', 61, 77],
      ['hub-artifacts', 78, 112],
      ['spoke-artifacts', 28, 34],
    ]);
    expect(ofType(plan('hub-artifacts'), 'shipscan:aws:AwsArtifacts')).to.have.length(1);
    for (const mode of Object.keys(BASELINE) as ArtifactMode[]) expect(ofType(baselines.get(BASELINE[mode])!, 'shipscan:aws:AwsArtifacts'), mode).to.have.length(0);
  });

  it('the invariants can fail: GetObject on every bucket, a bus open to "*", AssumeRole anywhere', () => {
    const base = plan('standalone-artifacts');
    const policy = oneOfType(base, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-artifacts-scanner-policy');
    const doc = parsePolicy(policy.inputs['policy'], 'objects');
    const widened = structuredClone(doc);
    statement(widened, 'ReadConfiguredObjects').Resource = 'arn:aws:s3:::*/*';
    widened.Statement.push({ Sid: 'Anywhere', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::*:role/shipscan-object-reader' });
    const openBus = {
      type: 'aws:cloudwatch/eventBusPolicy:EventBusPolicy',
      name: 'open',
      id: 'open',
      inputs: { policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: 'arn:aws:events:us-east-1:123456789012:event-bus/x' }] }) },
    };
    const mutated = { ...base, resources: [...base.resources.filter((r) => r !== policy), { ...policy, inputs: { ...policy.inputs, policy: JSON.stringify(widened) } }, openBus] } as PlanResult;
    const problems = checkAwsInvariants(mutated, invariantContext(ARTIFACT_MODES['standalone-artifacts']));
    expect(problems.some((p) => p.startsWith('[object reads limited to the configured buckets]') && p.includes('arn:aws:s3:::*/*'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('[AssumeRole only to spoke roles]'))).to.equal(true);
    expect(problems.some((p) => p.startsWith('[resource policy principals]'))).to.equal(true);
  });

  it('the object scanner reads only the configured buckets, its own object results, and assumes readers only inside the organisation', () => {
    const hub = plan('hub-artifacts');
    const doc = parsePolicy(oneOfType(hub, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-artifacts-scanner-policy').inputs['policy'], 'objects');
    expect(statement(doc, 'ReadConfiguredObjects')).to.deep.equal({
      Sid: 'ReadConfiguredObjects',
      Effect: 'Allow',
      Action: ['s3:GetObject', 's3:GetObjectVersion'],
      Resource: ['arn:aws:s3:::team-uploads/*', 'arn:aws:s3:::release-artifacts/*'],
    });
    expect(statement(doc, 'AssumeSpokeObjectReaders').Resource).to.deep.equal([
      `arn:aws:iam::${SPOKE_A.accountId}:role/shipscan-object-reader`,
      'arn:aws:iam::333333333333:role/shipscan-object-reader',
    ]);
    expect(statement(doc, 'AssumeOrganisationObjectReaders')).to.deep.include({ Resource: 'arn:aws:iam::*:role/shipscan-object-reader', Condition: { StringEquals: { 'aws:ResourceOrgID': ORG_ID } } });
    expect(String(statement(doc, 'ObjectResults').Resource)).to.match(/^arn:aws:s3:::shipscan-results-[a-z0-9]+\/results\/objects\/\*$/);
  });

  it('sizes the Lambda from config and hands it an environment its own parser accepts', () => {
    const fn = oneOfType(plan('hub-artifacts'), 'aws:lambda/function:Function', 'shipscan-artifacts-scanner');
    expect(fn.inputs['ephemeralStorage']).to.deep.equal({ size: 4096 });
    expect(fn.inputs['memorySize']).to.equal(2048);
    const env = loadArtifactsEnv({ ...(fn.inputs['environment'] as { variables: Record<string, string> }).variables, AWS_REGION: 'us-east-1' });
    expect(env.INCLUDE_BUCKETS).to.deep.equal(['team-uploads', 'release-artifacts']);
    expect(env.EXCLUDE_PREFIXES).to.deep.equal(['tmp/']);
    expect(env.EXCLUDED_MIME_TYPES).to.deep.equal(['application/pdf']);
    expect(env.ORG_ROLE_NAME).to.equal('shipscan-object-reader');
    expect(env.OWN_BUCKETS).to.have.length(4);
    expect(env.SPOKE_OBJECT_ROLES.map((r) => r.accountId)).to.deep.equal([SPOKE_A.accountId, '333333333333']);
    const mapping = ofType(plan('hub-artifacts'), 'aws:lambda/eventSourceMapping:EventSourceMapping').find((m) => m.name === 'shipscan-artifacts-objects');
    expect(mapping?.inputs['scalingConfig']).to.deep.equal({ maximumConcurrency: 5 });
  });

  it('rules: object writes in the configured buckets match, the stack\'s own buckets, other buckets, tmp/ and failed calls do not', () => {
    const hub = plan('hub-artifacts');
    const env = loadArtifactsEnv({ ...(oneOfType(hub, 'aws:lambda/function:Function', 'shipscan-artifacts-scanner').inputs['environment'] as { variables: Record<string, string> }).variables, AWS_REGION: 'us-east-1' });
    for (const name of ['shipscan-artifacts-objects', 'shipscan-artifacts-central-objects']) {
      const rule = pattern(hub, name);
      for (const eventName of ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] as const) {
        expect(evaluatePattern(rule, upload('team-uploads', 'releases/app 1.zip', eventName)), `${name} ${eventName}`).to.deep.equal({ matched: true });
      }
      expect(evaluatePattern(rule, upload('release-artifacts', 'x.jar')).matched).to.equal(true);
      expect(evaluatePattern(rule, upload('someone-else', 'x.zip')).matched).to.equal(false);
      expect(evaluatePattern(rule, upload('team-uploads', 'tmp/x.zip')).matched).to.equal(false);
      for (const own of env.OWN_BUCKETS) expect(evaluatePattern(rule, upload(own, 'results/objects/a.json')).matched, own).to.equal(false);
      const failed = upload('team-uploads', 'a.zip');
      failed.detail.errorCode = 'AccessDenied';
      expect(evaluatePattern(rule, failed).matched).to.equal(false);
      // The published PutObject data event (a bucket the stack does not read): dropped with the reason.
      const sample = cloudTrailEnvelope(loadCorpus<Json>('aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json'));
      const verdict = evaluatePattern(rule, sample);
      expect(verdict.matched).to.equal(false);
      if (!verdict.matched) expect(verdict.reason).to.include('elastic-cspm-cloudtrail-test-bucket');
    }
    const created = pattern(hub, 'shipscan-artifacts-objects-created');
    expect(evaluatePattern(created, objectCreated({ account: '222222222222', bucket: 'team-uploads', key: 'a.zip' }, 'releases/a%20b.zip')).matched).to.equal(true);
    expect(evaluatePattern(created, objectCreated({ account: '222222222222', bucket: 'team-uploads', key: 'a.zip' }, 'tmp/a.zip')).matched).to.equal(false);
  });

  it('ECR pushes: one rule per bus into the scan queue (PUSH and SUCCESS only), allowed by its queue policy', () => {
    const hub = plan('hub-artifacts');
    const push = loadCorpus<Json>('aws/eventbridge-ecr-image-push.awsdocs.json');
    for (const name of ['shipscan-ecr-pushes', 'shipscan-central-ecr-pushes']) {
      const rule = pattern(hub, name);
      expect(evaluatePattern(rule, push).matched, name).to.equal(true);
      expect(evaluatePattern(rule, { ...push, detail: { ...push.detail, result: 'FAILURE' } }).matched).to.equal(false);
      expect(evaluatePattern(rule, loadCorpus('aws/eventbridge-ecr-image-scan.awsdocs.json')).matched).to.equal(false);
    }
    const send = statement(parsePolicy(oneOfType(hub, 'aws:sqs/queuePolicy:QueuePolicy', 'shipscan-scans').inputs['policy'], 'scan queue'), 'DeploymentRulesSend');
    const sources = (send.Condition as { ArnEquals: { 'aws:SourceArn': string[] } }).ArnEquals['aws:SourceArn'];
    expect(sources.filter((arn) => arn.includes('ecr-pushes'))).to.have.length(2);
  });

  it('the central bus admits only the organisation and the listed accounts, never "*" without the organisation condition', () => {
    const doc = parsePolicy(oneOfType(plan('hub-artifacts'), 'aws:cloudwatch/eventBusPolicy:EventBusPolicy').inputs['policy'], 'bus');
    const busArn = 'arn:aws:events:us-east-1:123456789012:event-bus/shipscan-prod-central';
    expect(doc.Statement).to.deep.equal([
      {
        Sid: 'SpokeAccountsPutEvents',
        Effect: 'Allow',
        Principal: { AWS: [`arn:aws:iam::${SPOKE_A.accountId}:root`, 'arn:aws:iam::333333333333:root'] },
        Action: 'events:PutEvents',
        Resource: busArn,
      },
      { Sid: 'OrganizationPutEvents', Effect: 'Allow', Principal: '*', Action: 'events:PutEvents', Resource: busArn, Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } } },
    ]);
    // Turning artifacts on adds no statement to the bus: the forwarded object writes ride the same policy.
    const before = parsePolicy(oneOfType(baselines.get('hub')!, 'aws:cloudwatch/eventBusPolicy:EventBusPolicy').inputs['policy'], 'bus before');
    expect(doc).to.deep.equal(before);
  });

  it('a service-managed StackSet with auto-deployment, one instance per region for the OUs, and a template that forwards and reads only what it should', () => {
    const hub = plan('hub-artifacts');
    const stackSet = oneOfType(hub, 'aws:cloudformation/stackSet:StackSet');
    expect(stackSet.inputs).to.deep.include({ permissionModel: 'SERVICE_MANAGED', autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false }, capabilities: ['CAPABILITY_NAMED_IAM'] });
    const instances = ofType(hub, 'aws:cloudformation/stackSetInstance:StackSetInstance');
    expect(instances.map((i) => [i.inputs['stackSetInstanceRegion'], i.inputs['deploymentTargets']])).to.deep.equal([
      ['us-east-1', { organizationalUnitIds: [ORG_OU] }],
      ['eu-west-1', { organizationalUnitIds: [ORG_OU] }],
    ]);
    const template = JSON.parse(stackSet.inputs['templateBody'] as string) as Json;
    const busArn = 'arn:aws:events:us-east-1:123456789012:event-bus/shipscan-prod-central';
    expect(Object.keys(template.Resources).sort()).to.deep.equal(['EcrPushesRule', 'ForwardingRole', 'ObjectReaderRole', 'ObjectWritesRule']);
    expect(template.Resources.ForwardingRole.Properties.Policies[0].PolicyDocument.Statement).to.deep.equal([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: busArn }]);
    expect(template.Resources.ObjectWritesRule.Properties.Targets[0].Arn).to.equal(busArn);
    const reader = template.Resources.ObjectReaderRole;
    expect(reader.Condition).to.equal('IsPrimaryRegion');
    expect(template.Conditions.IsPrimaryRegion).to.deep.equal({ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] });
    expect(reader.Properties.RoleName).to.equal('shipscan-object-reader');
    expect(reader.Properties.AssumeRolePolicyDocument.Statement).to.deep.equal([
      { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:role/shipscan-prod-objects' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG_ID } } },
    ]);
    expect(reader.Properties.Policies[0].PolicyDocument.Statement).to.deep.equal([
      { Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: ['arn:aws:s3:::team-uploads/*', 'arn:aws:s3:::release-artifacts/*'] },
    ]);
    const forward = template.Resources.ObjectWritesRule.Properties.EventPattern as EventPattern;
    expect(evaluatePattern(forward, upload('team-uploads', 'a.zip')).matched).to.equal(true);
    expect(evaluatePattern(forward, upload('other', 'a.zip')).matched).to.equal(false);
  });

  it('the organisation trail records S3 object writes of the configured buckets through advanced event selectors', () => {
    const trail = oneOfType(plan('hub-artifacts'), 'aws:cloudtrail/trail:Trail', 'shipscan-org-trail');
    expect(trail.inputs['isOrganizationTrail']).to.equal(true);
    expect(trail.inputs['eventSelectors']).to.equal(undefined);
    expect(trail.inputs['advancedEventSelectors']).to.deep.equal([
      {
        name: 'shipscan S3 object writes',
        fieldSelectors: [
          { field: 'eventCategory', equals: ['Data'] },
          { field: 'resources.type', equals: ['AWS::S3::Object'] },
          { field: 'readOnly', equals: ['false'] },
          { field: 'eventName', equals: ['PutObject', 'CompleteMultipartUpload', 'CopyObject'] },
          { field: 'resources.ARN', startsWiths: ['arn:aws:s3:::team-uploads/', 'arn:aws:s3:::release-artifacts/'] },
        ],
      },
    ]);
  });

  it('a spoke forwards object writes and ECR pushes to the hub and lets exactly the hub roles read its configured buckets with the ExternalId', () => {
    const spoke = plan('spoke-artifacts');
    const reader = ofType(spoke, 'aws:iam/role:Role').find((r) => r.inputs['name'] === 'shipscan-object-reader')!;
    const trust = parsePolicy(reader.inputs['assumeRolePolicy'], 'reader trust');
    expect(trust.Statement[0]?.Condition).to.deep.equal({ StringEquals: { 'sts:ExternalId': HUB_EXTERNAL_ID } });
    expect((trust.Statement[0]?.Principal as { AWS: string[] }).AWS).to.include('arn:aws:iam::111111111111:role/shipscan-prod-objects');
    const rules = ofType(spoke, RULE).filter((r) => ['shipscan-spoke-objects', 'shipscan-spoke-ecr-pushes'].includes(r.name));
    expect(rules).to.have.length(2);
    const targets = ofType(spoke, 'aws:cloudwatch/eventTarget:EventTarget').filter((t) => ['shipscan-spoke-objects', 'shipscan-spoke-ecr-pushes'].includes(t.name));
    expect(targets.map((t) => t.inputs['arn'])).to.deep.equal([HUB_BUS_ARN, HUB_BUS_ARN]);
    // The spoke's own trail and log buckets never forward (their writes would announce themselves).
    const forward = JSON.parse(rules.find((r) => r.name === 'shipscan-spoke-objects')!.inputs['eventPattern'] as string) as EventPattern;
    expect(evaluatePattern(forward, upload('team-uploads', 'a.zip')).matched).to.equal(true);
  });
});
