import { expect } from 'chai';
import type { PlanResult, PlannedResource } from '../../local/plan';
import { ARTIFACT_MODES, MODES, planArtifactMode, planMode, type ArtifactMode, type Mode } from './support/aws-plans';
import { checkAwsInvariants, invariantContext, REVIEWED_TYPES, SPOKE_ACCEPTED_EXTRAS, SPOKE_ACCESS_ACTIONS } from './support/aws-invariants';

const modes = Object.keys(MODES) as Mode[];

describe('AWS security invariants over every planned resource', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  for (const mode of modes) {
    it(`hold for every resource of the ${mode} stack`, async function () {
      const plan = await planMode(mode);
      expect(plan.resources.length).to.be.greaterThan(10);
      expect(checkAwsInvariants(plan, invariantContext(MODES[mode]))).to.deep.equal([]);
    });
  }

  it('leave no reviewed resource type unused (the review list is the real inventory)', async function () {
    const used = new Set<string>();
    for (const mode of modes) for (const r of (await planMode(mode)).resources) used.add(r.type);
    // The artifact components (StackSet and its instances) appear only with aws.artifacts on.
    for (const mode of Object.keys(ARTIFACT_MODES) as ArtifactMode[]) for (const r of (await planArtifactMode(mode)).resources) used.add(r.type);
    // LayerVersion appears only with qscannerZip (covered in aws-config.test.ts), Scheduler schedules only with
    // aws.inventory.enabled (covered in aws-inventory.test.ts).
    const onlyElsewhere = new Set(['aws:lambda/layerVersion:LayerVersion', 'aws:scheduler/schedule:Schedule']);
    const unused = [...REVIEWED_TYPES].filter((type) => !used.has(type) && !onlyElsewhere.has(type));
    expect(unused).to.deep.equal([]);
  });
});

type Mutation = { invariant: string; mode: Mode; mutate: (plan: PlanResult) => void };

describe('AWS spoke access: the reviewed actions', function () {
  this.timeout(180_000);
  it('are exactly the hub needs plus the accepted extras lambda:ListTags, tag:GetResources and ecr:DescribeImages', async function () {
    const plan = await planMode('spoke');
    const policy = plan.resources.find((r) => r.type === 'aws:iam/rolePolicy:RolePolicy' && r.name === 'shipscan-spoke-access');
    const granted = (JSON.parse(String(policy?.inputs['policy'])) as { Statement: { Action: string | string[] }[] }).Statement.flatMap((st) => ([] as string[]).concat(st.Action));
    expect(Object.keys(SPOKE_ACCEPTED_EXTRAS).sort()).to.deep.equal(['ecr:DescribeImages', 'lambda:ListTags', 'tag:GetResources']);
    // Every accepted extra is still used (a stale acceptance would hide a later re-introduction).
    expect([...granted].sort()).to.deep.equal([...SPOKE_ACCESS_ACTIONS, ...Object.keys(SPOKE_ACCEPTED_EXTRAS)].sort());
  });
});

function find(plan: PlanResult, type: string, name?: string): PlannedResource {
  const found = plan.resources.find((r) => r.type === type && (name === undefined || r.name === name));
  if (!found) throw new Error(`no ${type} ${name ?? ''} to mutate`);
  return found;
}

function editPolicy(resource: PlannedResource, field: string, edit: (doc: { Statement: Record<string, unknown>[] }) => void): void {
  const doc = JSON.parse(resource.inputs[field] as string) as { Statement: Record<string, unknown>[] };
  edit(doc);
  resource.inputs[field] = JSON.stringify(doc);
}

function statementBySid(doc: { Statement: Record<string, unknown>[] }, sid: string): Record<string, unknown> {
  const found = doc.Statement.find((s) => s['Sid'] === sid);
  if (!found) throw new Error(`no statement ${sid}`);
  return found;
}

/** The id of the bucket the planned access logs go to. */
function logBucketId(plan: PlanResult): string {
  return String(find(plan, 'aws:s3/bucketLogging:BucketLogging').inputs['targetBucket']);
}

/** The log bucket's resource of `type` (encryption, policy, lifecycle). */
function logBucketPart(plan: PlanResult, type: string): PlannedResource {
  const id = logBucketId(plan);
  const found = plan.resources.find((r) => r.type === type && r.inputs['bucket'] === id);
  if (!found) throw new Error(`no ${type} for the log bucket`);
  return found;
}

const SCANNER_POLICY = ['aws:iam/rolePolicy:RolePolicy', 'shipscan-scanner-policy'] as const;

const mutations: Mutation[] = [
  { invariant: 'reviewed types', mode: 'standalone-defaults', mutate: (p) => p.resources.push({ type: 'aws:ec2/instance:Instance', name: 'new', inputs: {} }) },
  { invariant: 'KMS rotation', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:kms/key:Key').inputs['enableKeyRotation'] = false) },
  { invariant: 'CMK: DynamoDB', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:dynamodb/table:Table').inputs['serverSideEncryption'] = { enabled: true }) },
  { invariant: 'CMK: SNS', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:sns/topic:Topic').inputs['kmsMasterKeyId'] = 'alias/aws/sns') },
  { invariant: 'CMK: SQS', mode: 'standalone-defaults', mutate: (p) => delete find(p, 'aws:sqs/queue:Queue', 'shipscan-dlq').inputs['kmsMasterKeyId'] },
  { invariant: 'CMK: log groups', mode: 'standalone-defaults', mutate: (p) => delete find(p, 'aws:cloudwatch/logGroup:LogGroup').inputs['kmsKeyId'] },
  { invariant: 'log retention', mode: 'standalone-defaults', mutate: (p) => delete find(p, 'aws:cloudwatch/logGroup:LogGroup').inputs['retentionInDays'] },
  { invariant: 'CMK: secret', mode: 'standalone-defaults', mutate: (p) => delete find(p, 'aws:secretsmanager/secret:Secret').inputs['kmsKeyId'] },
  { invariant: 'CMK: trail', mode: 'standalone-full', mutate: (p) => delete find(p, 'aws:cloudtrail/trail:Trail').inputs['kmsKeyId'] },
  { invariant: 'trail log validation', mode: 'spoke', mutate: (p) => (find(p, 'aws:cloudtrail/trail:Trail').inputs['enableLogFileValidation'] = false) },
  { invariant: 'CMK: S3', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'shipscan-results').inputs['rules'] = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]) },
  { invariant: 'S3 public access blocked', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs['restrictPublicBuckets'] = false) },
  { invariant: 'S3 TLS only', mode: 'standalone-full', mutate: (p) => editPolicy(find(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => (d.Statement = d.Statement.filter((s) => s['Effect'] !== 'Deny'))) },
  { invariant: 'tracing active', mode: 'hub', mutate: (p) => (find(p, 'aws:lambda/function:Function', 'shipscan-bulk').inputs['tracingConfig'] = { mode: 'PassThrough' }) },
  { invariant: 'log retention', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:lambda/function:Function').inputs['loggingConfig'] = { logFormat: 'JSON' }) },
  { invariant: 'no * action', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => (statementBySid(d, 'CacheItems')['Action'] = 'dynamodb:*')) },
  { invariant: 'no * action', mode: 'spoke', mutate: (p) => editPolicy(find(p, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-spoke-access'), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Action: '*', Resource: 'arn:aws:s3:::x' })) },
  { invariant: 'Resource * only where required', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => (statementBySid(d, 'WriteResults')['Resource'] = '*')) },
  { invariant: 'TagResource Shipscan* only', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => delete statementBySid(d, 'TagShipscanKeysOnly')['Condition']) },
  { invariant: 'TagResource Shipscan* only', mode: 'spoke', mutate: (p) => editPolicy(find(p, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-spoke-access'), 'policy', (d) => (statementBySid(d, 'TagShipscanKeysOnly')['Condition'] = { 'ForAllValues:StringLike': { 'aws:TagKeys': ['*'] }, Null: { 'aws:TagKeys': 'false' } })) },
  { invariant: 'PutMetricData by namespace', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => delete statementBySid(d, 'PutShipscanMetrics')['Condition']) },
  { invariant: 'AssumeRole only to spoke roles', mode: 'hub', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => (statementBySid(d, 'AssumeSpokeRoles')['Resource'] = 'arn:aws:iam::*:role/*')) },
  { invariant: 'AssumeRole only to spoke roles', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Action: 'sts:AssumeRole', Resource: 'arn:aws:iam::999999999999:role/admin' })) },
  { invariant: 'spoke trust requires ExternalId', mode: 'spoke', mutate: (p) => editPolicy(find(p, 'aws:iam/role:Role', 'shipscan-spoke-access'), 'assumeRolePolicy', (d) => delete statementBySid(d, 'HubAssumesWithExternalId')['Condition']) },
  { invariant: 'trust principals', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, 'aws:iam/role:Role'), 'assumeRolePolicy', (d) => ((d.Statement[0] as Record<string, unknown>)['Principal'] = { Service: 'ec2.amazonaws.com' })) },
  { invariant: 'resource policy principals', mode: 'hub', mutate: (p) => editPolicy(find(p, 'aws:cloudwatch/eventBusPolicy:EventBusPolicy'), 'policy', (d) => delete statementBySid(d, 'OrganizationPutEvents')['Condition']) },
  { invariant: 'confused deputy', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, 'aws:sqs/queuePolicy:QueuePolicy'), 'policy', (d) => delete statementBySid(d, 'DeploymentRulesSend')['Condition']) },
  // EventBridge's unconditioned grant is accepted for its two data-key actions only, and for it alone.
  { invariant: 'confused deputy', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, 'aws:kms/key:Key'), 'policy', (d) => (statementBySid(d, 'EventBridgeRulesEncryptMessages')['Action'] = ['kms:Decrypt', 'kms:GenerateDataKey', 'kms:ReEncrypt*'])) },
  { invariant: 'confused deputy', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, 'aws:kms/key:Key'), 'policy', (d) => (statementBySid(d, 'EventBridgeRulesEncryptMessages')['Principal'] = { Service: ['events.amazonaws.com', 'sns.amazonaws.com'] })) },
  // The account alone would let every rule and alarm of the account use the key.
  { invariant: 'confused deputy', mode: 'hub', mutate: (p) => editPolicy(find(p, 'aws:kms/key:Key'), 'policy', (d) => delete (statementBySid(d, 'AlarmsEncryptMessages')['Condition'] as Record<string, unknown>)['ArnLike']) },
  // IAM matches actions as case-insensitive globs: each of these grants lambda:TagResource without the tag-key condition.
  ...['lambda:Tag*', 'lambda:*', '*', 'Lambda:tagresource', 'lambda:T?gResource'].map(
    (action): Mutation => ({
      invariant: 'TagResource Shipscan* only',
      mode: 'standalone-defaults',
      mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Action: [action], Resource: 'arn:aws:lambda:*:123456789012:function:*' })),
    }),
  ),
  { invariant: 'PutMetricData by namespace', mode: 'standalone-defaults', mutate: (p) => editPolicy(find(p, ...SCANNER_POLICY), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Action: 'cloudwatch:Put*', Resource: '*' })) },
  // The hub account root would trust every principal there; a pattern, every shipscan stack's roles there.
  ...['arn:aws:iam::111111111111:root', 'arn:aws:iam::111111111111:role/shipscan-*', 'arn:aws:iam::111111111111:role/shipscan-prod-scanner?'].map(
    (principal): Mutation => ({
      invariant: 'spoke trust names the hub roles',
      mode: 'spoke',
      mutate: (p) => editPolicy(find(p, 'aws:iam/role:Role', 'shipscan-spoke-access'), 'assumeRolePolicy', (d) => (statementBySid(d, 'HubAssumesWithExternalId')['Principal'] = { AWS: principal })),
    }),
  ),
  {
    invariant: 'spoke trust names the hub roles',
    mode: 'spoke',
    mutate: (p) =>
      editPolicy(find(p, 'aws:iam/role:Role', 'shipscan-spoke-access'), 'assumeRolePolicy', (d) => {
        const principal = statementBySid(d, 'HubAssumesWithExternalId')['Principal'] as { AWS: string[] };
        principal.AWS = [...principal.AWS, 'arn:aws:iam::111111111111:role/shipscan-staging-scanner'];
      }),
  },
  { invariant: 'spoke access actions', mode: 'spoke', mutate: (p) => editPolicy(find(p, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-spoke-access'), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Action: 'lambda:UpdateFunctionCode', Resource: 'arn:aws:lambda:*:123456789012:function:*' })) },
  { invariant: 'spoke access actions', mode: 'spoke', mutate: (p) => editPolicy(find(p, 'aws:iam/rolePolicy:RolePolicy', 'shipscan-spoke-access'), 'policy', (d) => (statementBySid(d, 'ReadFunctions')['Action'] = ['lambda:Get*', 'lambda:ListTags'])) },
  // S3 server access logging and the log bucket's narrow exception to the CMK rule.
  { invariant: 'S3 access logging', mode: 'standalone-defaults', mutate: (p) => (p.resources = p.resources.filter((r) => r.type !== 'aws:s3/bucketLogging:BucketLogging')) },
  { invariant: 'S3 access logging', mode: 'standalone-full', mutate: (p) => (p.resources = p.resources.filter((r) => !(r.type === 'aws:s3/bucketLogging:BucketLogging' && r.name === 'shipscan-trail-bucket'))) },
  { invariant: 'S3 access logging', mode: 'standalone-defaults', mutate: (p) => (find(p, 'aws:s3/bucketLogging:BucketLogging').inputs['targetBucket'] = 'someone-elses-bucket') },
  { invariant: 'S3 access logging', mode: 'standalone-defaults', mutate: (p) => p.resources.push({ type: 'aws:s3/bucketLogging:BucketLogging', name: 'loop', inputs: { bucket: logBucketId(p), targetBucket: logBucketId(p), targetPrefix: 'self/' } }) },
  { invariant: 'S3 access logging', mode: 'standalone-no-access-logs', mutate: (p) => p.resources.push({ type: 'aws:s3/bucketLogging:BucketLogging', name: 'x', inputs: { bucket: find(p, 'aws:s3/bucket:Bucket').id ?? '', targetBucket: 'b', targetPrefix: 'x/' } }) },
  { invariant: 'S3 log bucket encryption', mode: 'standalone-defaults', mutate: (p) => (logBucketPart(p, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration').inputs['rules'] = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'aws:kms' } }]) },
  // The SSE-S3 exception is the log bucket's alone.
  { invariant: 'CMK: S3', mode: 'standalone-full', mutate: (p) => (find(p, 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', 'shipscan-trail-bucket').inputs['rules'] = [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }]) },
  { invariant: 'S3 log bucket policy', mode: 'standalone-defaults', mutate: (p) => editPolicy(logBucketPart(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => delete (statementBySid(d, 'AccessLogsFromResults')['Condition'] as Record<string, unknown>)['ArnEquals']) },
  { invariant: 'S3 log bucket policy', mode: 'standalone-defaults', mutate: (p) => editPolicy(logBucketPart(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => (statementBySid(d, 'AccessLogsFromResults')['Resource'] = `arn:aws:s3:::${logBucketId(p)}/*`)) },
  { invariant: 'S3 log bucket policy', mode: 'standalone-defaults', mutate: (p) => editPolicy(logBucketPart(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => d.Statement.push({ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 's3:PutObject', Resource: `arn:aws:s3:::${logBucketId(p)}/*` })) },
  { invariant: 'S3 log bucket policy', mode: 'standalone-full', mutate: (p) => editPolicy(logBucketPart(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => (d.Statement = d.Statement.filter((st) => st['Sid'] !== 'AccessLogsFromTrail'))) },
  // The log bucket meets the other bucket invariants like any bucket.
  { invariant: 'S3 public access blocked', mode: 'standalone-defaults', mutate: (p) => (logBucketPart(p, 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock').inputs['blockPublicPolicy'] = false) },
  { invariant: 'S3 ACLs disabled', mode: 'standalone-defaults', mutate: (p) => (logBucketPart(p, 'aws:s3/bucketOwnershipControls:BucketOwnershipControls').inputs['rule'] = { objectOwnership: 'ObjectWriter' }) },
  { invariant: 'S3 TLS only', mode: 'standalone-defaults', mutate: (p) => editPolicy(logBucketPart(p, 'aws:s3/bucketPolicy:BucketPolicy'), 'policy', (d) => (d.Statement = d.Statement.filter((st) => st['Effect'] !== 'Deny'))) },
  { invariant: 'S3 expiry', mode: 'standalone-defaults', mutate: (p) => (logBucketPart(p, 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration').inputs['rules'] = [{ id: 'keep', status: 'Enabled', filter: {} }]) },
  { invariant: 'invoke permission scoped', mode: 'standalone-full', mutate: (p) => delete find(p, 'aws:lambda/permission:Permission').inputs['sourceArn'] },
  { invariant: 'plain outputs', mode: 'hub', mutate: (p) => ((p.outputs['aws'] as Record<string, unknown>)['spokes'] = JSON.stringify(MODES.hub)) },
];

describe('AWS security invariant checks catch violations', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  for (const [index, m] of mutations.entries()) {
    it(`#${index + 1} ${m.invariant} (${m.mode})`, async function () {
      const plan = structuredClone(await planMode(m.mode));
      m.mutate(plan);
      const problems = checkAwsInvariants(plan, invariantContext(MODES[m.mode]));
      expect(problems.some((p) => p.startsWith(`[${m.invariant}]`)), problems.join('\n') || '(no problems reported)').to.equal(true);
    });
  }
});
