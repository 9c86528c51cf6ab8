import type { PlanResult, PlannedResource } from '../../../local/plan';
import { list, policyDocuments, type PolicyDoc, type PolicyKind, type Statement } from './aws-plans';
import { inventoryActions, inventoryPolicyGroups } from '../../../shared/inventory/operations';

/**
 * ARCHITECTURE.md "Security invariants" (AWS), checked over EVERY resource of a plan. Returns the
 * violations as readable lines (empty = all hold). Each check names the invariant it enforces.
 */

/** Actions that accept no resource-level permission, so `Resource: "*"` is what the API requires. */
export const STAR_RESOURCE_ACTIONS = new Set([
  'ecr:GetAuthorizationToken',
  'lambda:ListFunctions',
  'tag:GetResources',
  'xray:PutTraceSegments',
  'xray:PutTelemetryRecords',
  'cloudwatch:PutMetricData',
  // The inventory's list and account-wide reads (shared/inventory/operations.ts, resource `any`): IAM
  // documents no resource type for them (ListBuckets, DescribeSecurityGroups, GetAccountSummary...).
  ...(inventoryPolicyGroups().find((g) => g.resource === 'any')?.actions ?? []),
]);

/**
 * The inventory's read-only actions (shared/inventory/operations.ts): what the hub's collector and a spoke's
 * inventory role may do. Reviewed as reads only: every one is a Get, List or Describe.
 */
export const INVENTORY_READ_ACTIONS: readonly string[] = inventoryActions();

/** Service principals a role here may be assumed by. */
const TRUSTED_SERVICES = new Set(['lambda.amazonaws.com', 'events.amazonaws.com', 'scheduler.amazonaws.com']);

/**
 * What the hub needs in a spoke account (read, list, tag and pull the images of its functions).
 * A role that another account may assume gets these and the accepted extras below, nothing else.
 */
export const SPOKE_ACCESS_ACTIONS = [
  'lambda:GetFunction',
  'lambda:ListFunctions',
  'lambda:TagResource',
  'ecr:BatchGetImage',
  'ecr:GetDownloadUrlForLayer',
  'ecr:BatchCheckLayerAvailability',
  'ecr:GetAuthorizationToken',
] as const;

/** Beyond that list, each reviewed and accepted for the reason given (see aws/iam.ts). */
export const SPOKE_ACCEPTED_EXTRAS: Readonly<Record<string, string>> = {
  'lambda:ListTags': "GetFunction returns a function's tags (ShipscanExclude) only to callers that may also ListTags",
  'tag:GetResources': 'the bulk scan finds functions excluded by tag in one paginated call',
  'ecr:DescribeImages': 'resolves an image tag to its digest when Lambda reports no resolved image URI',
};

/** What the spoke's object-reader role (aws.artifacts) may do: read the configured buckets' objects (checked below). */
export const OBJECT_READER_ACTIONS = ['s3:GetObject', 's3:GetObjectVersion'] as const;

/**
 * IAM action matching: `*` and `?` are wildcards and names compare case-insensitively, so
 * `lambda:Tag*`, `Lambda:tagresource`, `lambda:*` and `*` all grant lambda:TagResource.
 */
export function actionMatches(pattern: string, action: string): boolean {
  return globRegex(pattern, 'i').test(action);
}

function globRegex(pattern: string, flags: string): RegExp {
  const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, flags);
}

function grants(actions: readonly string[], action: string): boolean {
  return actions.some((pattern) => actionMatches(pattern, action));
}

/** ArnLike: `*`/`?` wildcards, case-sensitive (as IAM compares ARNs). */
export function arnLike(pattern: string, value: string): boolean {
  return globRegex(pattern, '').test(value);
}

/**
 * Every resource type the invariants below have been reviewed against. A plan holding any other
 * type fails, so adding a resource forces a decision on which invariants cover it.
 */
export const REVIEWED_TYPES = new Set([
  'shipscan:aws:AwsScanner',
  'shipscan:aws:AwsSpoke',
  'shipscan:aws:AwsSecurityEvents',
  'aws:kms/key:Key',
  'aws:kms/alias:Alias',
  'aws:s3/bucket:Bucket',
  'aws:s3/bucketOwnershipControls:BucketOwnershipControls',
  'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  'aws:s3/bucketVersioning:BucketVersioning',
  'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  'aws:s3/bucketPolicy:BucketPolicy',
  'aws:s3/bucketLogging:BucketLogging',
  'aws:dynamodb/table:Table',
  'aws:sns/topic:Topic',
  'aws:sns/topicPolicy:TopicPolicy',
  'aws:sns/topicSubscription:TopicSubscription',
  'aws:secretsmanager/secret:Secret',
  'aws:secretsmanager/secretVersion:SecretVersion',
  'aws:sqs/queue:Queue',
  'aws:sqs/queuePolicy:QueuePolicy',
  'aws:cloudwatch/logGroup:LogGroup',
  'aws:iam/role:Role',
  'aws:iam/rolePolicy:RolePolicy',
  'aws:lambda/function:Function',
  'aws:lambda/layerVersion:LayerVersion',
  'aws:lambda/eventSourceMapping:EventSourceMapping',
  'aws:lambda/permission:Permission',
  'aws:cloudwatch/eventRule:EventRule',
  'aws:cloudwatch/eventTarget:EventTarget',
  'aws:cloudwatch/eventBus:EventBus',
  'aws:cloudwatch/eventBusPolicy:EventBusPolicy',
  'aws:cloudwatch/metricAlarm:MetricAlarm',
  'aws:cloudwatch/dashboard:Dashboard',
  'aws:cloudtrail/trail:Trail',
  'aws:scheduler/schedule:Schedule',
  'shipscan:aws:AwsArtifacts',
  'aws:cloudformation/stackSet:StackSet',
  'aws:cloudformation/stackSetInstance:StackSetInstance',
]);

export interface InvariantContext {
  /** Role ARNs the stack config allows AssumeRole to (hub spokes). */
  spokeRoleArns: string[];
  /** The hub roles a spoke stack's config trusts (aws.hub.roleArns): its trust names exactly these. */
  hubRoleArns: string[];
  /** Strings that must not appear in stack outputs (ExternalIds). */
  notInOutputs: string[];
  /** aws.accessLogging: every bucket but the log bucket writes S3 server access logs to it. */
  accessLogging: boolean;
  /**
   * aws.artifacts: the object ARNs s3:GetObject may name outside the stack's own results (`arn:aws:s3:::<bucket>/*`
   * per configured bucket, or `arn:aws:s3:::*` + `/*` with allBuckets), and the organisation reader role an
   * identity may assume in any account, only with aws:ResourceOrgID.
   */
  objectReads: string[];
  orgReaderRole?: { arnPattern: string; organizationId: string };
}

function where(r: PlannedResource): string {
  return `${r.type} "${r.name}"`;
}

function keyArns(plan: PlanResult): Set<string> {
  const arns = new Set<string>();
  for (const key of plan.resources.filter((r) => r.type === 'aws:kms/key:Key')) {
    if (key.id) arns.add(`arn:aws:kms:us-east-1:123456789012:key/${key.id}`);
  }
  return arns;
}

export function checkAwsInvariants(plan: PlanResult, context: InvariantContext): string[] {
  const problems: string[] = [];
  const fail = (invariant: string, r: PlannedResource | string, detail: string) =>
    problems.push(`[${invariant}] ${typeof r === 'string' ? r : where(r)}: ${detail}`);
  const keys = keyArns(plan);
  const isStackKey = (value: unknown) => typeof value === 'string' && keys.has(value);
  const ofType = (type: string) => plan.resources.filter((r) => r.type === type);
  const forBucket = (type: string, bucketId: string | undefined) => ofType(type).filter((r) => r.inputs['bucket'] === bucketId);

  for (const r of plan.resources) {
    if (r.type.startsWith('aws:') || r.type.startsWith('shipscan:aws:')) {
      if (!REVIEWED_TYPES.has(r.type)) fail('reviewed types', r, 'resource type not reviewed against the security invariants');
    }
  }

  // KMS CMK with rotation.
  for (const key of ofType('aws:kms/key:Key')) {
    if (key.inputs['enableKeyRotation'] !== true) fail('KMS rotation', key, 'enableKeyRotation is not true');
  }

  // DynamoDB, SNS, SQS + DLQ, log groups, the secret, the trail: encrypted with a stack CMK.
  for (const table of ofType('aws:dynamodb/table:Table')) {
    const sse = table.inputs['serverSideEncryption'] as { enabled?: boolean; kmsKeyArn?: string } | undefined;
    if (sse?.enabled !== true || !isStackKey(sse.kmsKeyArn)) fail('CMK: DynamoDB', table, `serverSideEncryption ${JSON.stringify(sse)}`);
    if ((table.inputs['pointInTimeRecovery'] as { enabled?: boolean } | undefined)?.enabled !== true) fail('DynamoDB PITR', table, 'point-in-time recovery off');
  }
  for (const topic of ofType('aws:sns/topic:Topic')) {
    if (!isStackKey(topic.inputs['kmsMasterKeyId'])) fail('CMK: SNS', topic, `kmsMasterKeyId ${JSON.stringify(topic.inputs['kmsMasterKeyId'])}`);
  }
  for (const queue of ofType('aws:sqs/queue:Queue')) {
    if (!isStackKey(queue.inputs['kmsMasterKeyId'])) fail('CMK: SQS', queue, `kmsMasterKeyId ${JSON.stringify(queue.inputs['kmsMasterKeyId'])}`);
  }
  for (const group of ofType('aws:cloudwatch/logGroup:LogGroup')) {
    if (!isStackKey(group.inputs['kmsKeyId'])) fail('CMK: log groups', group, `kmsKeyId ${JSON.stringify(group.inputs['kmsKeyId'])}`);
    const days = group.inputs['retentionInDays'];
    if (typeof days !== 'number' || days <= 0) fail('log retention', group, `retentionInDays ${JSON.stringify(days)}`);
  }
  for (const secret of ofType('aws:secretsmanager/secret:Secret')) {
    if (!isStackKey(secret.inputs['kmsKeyId'])) fail('CMK: secret', secret, `kmsKeyId ${JSON.stringify(secret.inputs['kmsKeyId'])}`);
  }
  for (const version of ofType('aws:secretsmanager/secretVersion:SecretVersion')) {
    if (version.inputs['secretString'] !== '[secret]') fail('secret value masked', version, 'secretString is not a secret Output');
  }
  for (const trail of ofType('aws:cloudtrail/trail:Trail')) {
    if (!isStackKey(trail.inputs['kmsKeyId'])) fail('CMK: trail', trail, 'kmsKeyId is not a stack key');
    if (trail.inputs['enableLogFileValidation'] !== true) fail('trail log validation', trail, 'enableLogFileValidation is not true');
    if (trail.inputs['isMultiRegionTrail'] !== true) fail('trail multi-region', trail, 'isMultiRegionTrail is not true');
  }

  // S3 server access logging (FSBP S3.9, CIS): the log buckets are the targets of the planned logging
  // configurations. They get the one exception to the CMK rule below, narrowly: S3 log delivery cannot
  // write to an SSE-KMS bucket, so exactly SSE-S3, for a bucket that only log delivery may write to.
  const loggings = ofType('aws:s3/bucketLogging:BucketLogging');
  const bucketIds = new Set(ofType('aws:s3/bucket:Bucket').map((b) => b.id));
  const logBucketIds = new Set(loggings.map((l) => l.inputs['targetBucket'] as string | undefined));
  if (!context.accessLogging && loggings.length > 0) fail('S3 access logging', loggings[0]!, 'access logging is off in the config but planned');
  if (logBucketIds.size > 1) fail('S3 access logging', 'buckets', `more than one log bucket: ${[...logBucketIds].join(', ')}`);
  for (const logging of loggings) {
    if (!bucketIds.has(logging.inputs['targetBucket'] as string | undefined)) fail('S3 access logging', logging, `logs to ${String(logging.inputs['targetBucket'])}, not a bucket of this stack`);
  }

  // S3: CMK, public access blocked, no ACLs, TLS-only bucket policy, expiry.
  for (const bucket of ofType('aws:s3/bucket:Bucket')) {
    if (bucket.inputs['acl'] !== undefined || bucket.inputs['policy'] !== undefined) fail('S3 private', bucket, 'inline acl/policy on the bucket');
    const sse = forBucket('aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration', bucket.id);
    const rules = sse.flatMap((c) => list(c.inputs['rules'] as { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string; kmsMasterKeyId?: string }; bucketKeyEnabled?: boolean }[]));
    const logsFrom = forBucket('aws:s3/bucketLogging:BucketLogging', bucket.id);
    if (logBucketIds.has(bucket.id)) {
      checkLogBucket(plan, bucket, rules, fail);
      if (logsFrom.length > 0) fail('S3 access logging', bucket, 'the log bucket logs its own deliveries');
    } else {
      const kmsRule = rules.find((rule) => rule.applyServerSideEncryptionByDefault?.sseAlgorithm === 'aws:kms' && isStackKey(rule.applyServerSideEncryptionByDefault.kmsMasterKeyId));
      if (!kmsRule) fail('CMK: S3', bucket, 'no SSE-KMS default encryption with a stack key');
      else if (kmsRule.bucketKeyEnabled !== true) fail('CMK: S3', bucket, 'bucket key not enabled');
      if (context.accessLogging && (logsFrom.length !== 1 || !logBucketIds.has(logsFrom[0]!.inputs['targetBucket'] as string | undefined))) {
        fail('S3 access logging', bucket, `${logsFrom.length} logging configurations, expected one into the log bucket`);
      }
    }
    const lifecycle = forBucket('aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration', bucket.id);
    const expires = lifecycle.some((l) => list(l.inputs['rules'] as { status?: string; expiration?: { days?: number } }[]).some((r) => r.status === 'Enabled' && (r.expiration?.days ?? 0) > 0));
    if (!expires) fail('S3 expiry', bucket, 'no enabled lifecycle rule expiring objects');
    const blocks = forBucket('aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock', bucket.id);
    const blocked = blocks.some((b) => ['blockPublicAcls', 'blockPublicPolicy', 'ignorePublicAcls', 'restrictPublicBuckets'].every((k) => b.inputs[k] === true));
    if (!blocked) fail('S3 public access blocked', bucket, 'no public access block with all four settings true');
    const ownership = forBucket('aws:s3/bucketOwnershipControls:BucketOwnershipControls', bucket.id);
    if (!ownership.some((o) => (o.inputs['rule'] as { objectOwnership?: string } | undefined)?.objectOwnership === 'BucketOwnerEnforced')) {
      fail('S3 ACLs disabled', bucket, 'no BucketOwnerEnforced ownership controls');
    }
    const policies = forBucket('aws:s3/bucketPolicy:BucketPolicy', bucket.id);
    const bucketArn = `arn:aws:s3:::${String(bucket.id)}`;
    const deniesPlainHttp = policies.some((p) =>
      (JSON.parse(p.inputs['policy'] as string) as PolicyDoc).Statement.some(
        (s) =>
          s.Effect === 'Deny' &&
          s.Principal === '*' &&
          list(s.Action).some((a) => a === 's3:*') &&
          [bucketArn, `${bucketArn}/*`].every((arn) => list(s.Resource).includes(arn)) &&
          s.Condition?.['Bool']?.['aws:SecureTransport'] === 'false',
      ),
    );
    if (!deniesPlainHttp) fail('S3 TLS only', bucket, 'no bucket policy denying aws:SecureTransport=false on the bucket and its objects');
  }

  // Lambda: tracing active, environment under the stack key, a log group with retention.
  const groupNames = new Set(ofType('aws:cloudwatch/logGroup:LogGroup').map((g) => g.inputs['name']));
  for (const fn of ofType('aws:lambda/function:Function')) {
    if ((fn.inputs['tracingConfig'] as { mode?: string } | undefined)?.mode !== 'Active') fail('tracing active', fn, 'tracingConfig.mode is not Active');
    if (!isStackKey(fn.inputs['kmsKeyArn'])) fail('CMK: Lambda environment', fn, 'kmsKeyArn is not a stack key');
    const logGroup = (fn.inputs['loggingConfig'] as { logGroup?: string } | undefined)?.logGroup;
    if (logGroup !== `/aws/lambda/${String(fn.inputs['name'])}` || !groupNames.has(logGroup)) fail('log retention', fn, `logs to ${String(logGroup)}, not a planned log group`);
  }
  for (const permission of ofType('aws:lambda/permission:Permission')) {
    if (permission.inputs['sourceArn'] === undefined) fail('invoke permission scoped', permission, 'service may invoke without sourceArn');
  }

  // IAM: every policy document.
  for (const { resource, field, kind, doc } of policyDocuments(plan)) {
    const at = `${where(resource)}.${field}`;
    for (const [index, s] of doc.Statement.entries()) {
      const label = `${at} statement ${s.Sid ?? index}`;
      checkStatement(s, kind, context, (invariant, detail) => fail(invariant, label, detail));
    }
  }

  // Roles another account may assume: only the reviewed spoke actions.
  const crossAccountRoles = new Set(
    policyDocuments(plan)
      .filter(({ kind, doc }) => kind === 'trust' && doc.Statement.some((st) => st.Principal !== undefined && st.Principal !== '*' && st.Principal.AWS !== undefined))
      .map(({ resource }) => resource.id),
  );
  const allowedSpokeActions = new Set<string>([...SPOKE_ACCESS_ACTIONS, ...Object.keys(SPOKE_ACCEPTED_EXTRAS), ...INVENTORY_READ_ACTIONS, ...OBJECT_READER_ACTIONS]);
  for (const action of INVENTORY_READ_ACTIONS) {
    if (!/^[a-z0-9-]+:(Get|List|Describe)[A-Za-z0-9]*$/.test(action)) fail('inventory reads only', 'shared/inventory/operations.ts', `${action} is not a read`);
  }
  for (const { resource, doc } of policyDocuments(plan)) {
    if (resource.type !== 'aws:iam/rolePolicy:RolePolicy' || !crossAccountRoles.has(resource.inputs['role'] as string | undefined)) continue;
    for (const st of doc.Statement.filter((x) => x.Effect === 'Allow')) {
      const extra = list(st.Action).filter((action) => !allowedSpokeActions.has(action));
      if (extra.length > 0) fail('spoke access actions', resource, `grants ${extra.join(', ')} beyond the reviewed spoke actions`);
    }
  }

  // Stack outputs: no ExternalId, no secret (secrets are checked by the plan tool itself).
  const outputs = JSON.stringify(plan.outputs);
  for (const value of context.notInOutputs) if (outputs.includes(value)) fail('plain outputs', 'stack outputs', 'carry an ExternalId');
  return problems;
}

function checkStatement(s: Statement, kind: PolicyKind, context: InvariantContext, fail: (invariant: string, detail: string) => void): void {
  if (s.NotAction !== undefined || s.NotResource !== undefined || s.NotPrincipal !== undefined) fail('no Not* elements', 'NotAction/NotResource/NotPrincipal used');
  const actions = list(s.Action);
  const resources = list(s.Resource);
  if (s.Effect !== 'Allow') return;
  for (const action of actions) {
    if (action === '*' || /^[a-z0-9-]+:\*$/i.test(action)) fail('no * action', `grants ${action}`);
  }
  if (kind === 'identity' && s.Principal !== undefined) fail('identity policy shape', 'identity policy names a principal');
  if (kind !== 'key' && kind !== 'trust' && resources.includes('*')) {
    const unjustified = actions.filter((a) => !STAR_RESOURCE_ACTIONS.has(a));
    if (unjustified.length > 0) fail('Resource * only where required', `Resource "*" for ${unjustified.join(', ')}`);
  }
  if (kind !== 'key' && kind !== 'trust' && resources.length === 0) fail('resources named', 'Allow without Resource');
  if (grants(actions, 'lambda:TagResource')) {
    const keysCondition = s.Condition?.['ForAllValues:StringLike']?.['aws:TagKeys'];
    if (JSON.stringify(list(keysCondition)) !== JSON.stringify(['Shipscan*'])) fail('TagResource Shipscan* only', `aws:TagKeys condition ${JSON.stringify(keysCondition)}`);
    if (s.Condition?.['Null']?.['aws:TagKeys'] !== 'false') fail('TagResource Shipscan* only', 'requests without tag keys are not excluded');
  }
  if (grants(actions, 'cloudwatch:PutMetricData') && s.Condition?.['StringEquals']?.['cloudwatch:namespace'] !== 'Shipscan') {
    fail('PutMetricData by namespace', `condition ${JSON.stringify(s.Condition)}`);
  }
  if (kind === 'identity' && actions.some((a) => a.startsWith('sts:'))) {
    if (actions.some((a) => a !== 'sts:AssumeRole')) fail('AssumeRole only to spoke roles', `sts actions ${actions.join(', ')}`);
    for (const target of resources) {
      const org = context.orgReaderRole;
      if (org && target === org.arnPattern) {
        if (s.Condition?.['StringEquals']?.['aws:ResourceOrgID'] !== org.organizationId) fail('AssumeRole only to spoke roles', `${target} without aws:ResourceOrgID = ${org.organizationId}`);
        continue;
      }
      if (!context.spokeRoleArns.includes(target)) fail('AssumeRole only to spoke roles', `may assume ${target}`);
    }
  }
  // Object reads (aws.artifacts): only the configured buckets' objects, or the stack's own object results.
  if (kind === 'identity' && (grants(actions, 's3:GetObject') || grants(actions, 's3:GetObjectVersion'))) {
    for (const target of resources) {
      // The stack's own prefixes: object scan results, and the inventory's configurations too large for a table item.
      const ownResults = /^arn:aws:s3:::[^/*]+\/(results\/objects|inventory\/configs)\/\*$/.test(target);
      if (!ownResults && !context.objectReads.includes(target)) fail('object reads limited to the configured buckets', `s3:GetObject on ${target}`);
    }
  }
  if (kind === 'trust') {
    if (JSON.stringify(actions) !== JSON.stringify(['sts:AssumeRole'])) fail('trust policy shape', `actions ${actions.join(', ')}`);
    const principal = s.Principal;
    if (principal === '*' || principal === undefined) {
      fail('trust principals', 'anyone may assume the role');
      return;
    }
    if (principal.AWS !== undefined && s.Condition?.['StringEquals']?.['sts:ExternalId'] === undefined) fail('spoke trust requires ExternalId', `AWS principal ${JSON.stringify(principal.AWS)} without sts:ExternalId`);
    if (principal.AWS !== undefined) checkHubRoles(list(principal.AWS), context.hubRoleArns, fail);
    for (const service of list(principal.Service)) if (!TRUSTED_SERVICES.has(service)) fail('trust principals', `service ${service} may assume the role`);
  }
  if (kind === 'key' && s.Principal !== undefined && s.Principal !== '*' && s.Principal.Service !== undefined) {
    // The account alone is not enough: other resources of the account could use the key too.
    const keys = Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block));
    if (isEventBridgeDataKeyUse(s)) {
      // AWS documents that EventBridge's KMS requests for target delivery carry no source keys; the
      // queue policy (SendMessage only from the stack's rules) is what binds it to this stack.
    } else if (!keys.some((k) => k === 'aws:SourceArn' || k.startsWith('kms:EncryptionContext:'))) {
      fail('confused deputy', `key use by service ${JSON.stringify(s.Principal.Service)} not bound to this stack's resources (aws:SourceArn or encryption context)`);
    }
  }
  if (kind === 'key' && s.Principal === '*') fail('key policy principals', 'the key is open to "*"');
  if (kind === 'resource') {
    const principal = s.Principal;
    const conditionKeys = Object.values(s.Condition ?? {}).flatMap((block) => Object.keys(block));
    if (principal === '*' && !conditionKeys.some((k) => ['aws:PrincipalOrgID', 'aws:SourceArn', 'aws:SourceAccount'].includes(k))) {
      fail('resource policy principals', 'Allow to "*" without an organization/source condition');
    }
    if (principal !== undefined && principal !== '*' && principal.Service !== undefined && !conditionKeys.some((k) => k === 'aws:SourceArn' || k === 'aws:SourceAccount')) {
      fail('confused deputy', `service principal ${JSON.stringify(principal.Service)} without aws:SourceArn/SourceAccount`);
    }
  }
}

/**
 * The log bucket: SSE-S3 and nothing else, and a policy in which, besides the TLS-only deny, only
 * S3 log delivery may write, each grant limited to one source bucket of this stack (aws:SourceArn,
 * aws:SourceAccount) and to the key prefix that bucket's logging configuration uses.
 */
function checkLogBucket(plan: PlanResult, bucket: PlannedResource, rules: { applyServerSideEncryptionByDefault?: { sseAlgorithm?: string } }[], fail: (invariant: string, r: PlannedResource | string, detail: string) => void): void {
  if (rules.length !== 1 || rules[0]?.applyServerSideEncryptionByDefault?.sseAlgorithm !== 'AES256') {
    fail('S3 log bucket encryption', bucket, `default encryption ${JSON.stringify(rules)}; log delivery needs exactly SSE-S3 (AES256)`);
  }
  const bucketArn = (id: unknown) => `arn:aws:s3:::${String(id)}`;
  const sources = new Map(
    plan.resources
      .filter((r) => r.type === 'aws:s3/bucketLogging:BucketLogging' && r.inputs['targetBucket'] === bucket.id)
      .map((r) => [bucketArn(r.inputs['bucket']), String(r.inputs['targetPrefix'])]),
  );
  const policies = plan.resources.filter((r) => r.type === 'aws:s3/bucketPolicy:BucketPolicy' && r.inputs['bucket'] === bucket.id);
  const granted = new Set<string>();
  for (const policy of policies) {
    for (const s of (JSON.parse(policy.inputs['policy'] as string) as PolicyDoc).Statement.filter((x) => x.Effect === 'Allow')) {
      const label = `statement ${s.Sid ?? '(no Sid)'}`;
      const services = s.Principal !== undefined && s.Principal !== '*' && s.Principal.AWS === undefined ? list(s.Principal.Service) : [];
      if (JSON.stringify(services) !== JSON.stringify(['logging.s3.amazonaws.com'])) fail('S3 log bucket policy', bucket, `${label}: ${JSON.stringify(s.Principal)} may write, only S3 log delivery may`);
      if (JSON.stringify(list(s.Action)) !== JSON.stringify(['s3:PutObject'])) fail('S3 log bucket policy', bucket, `${label}: actions ${JSON.stringify(s.Action)}`);
      const source = s.Condition?.['ArnEquals']?.['aws:SourceArn'];
      const prefix = typeof source === 'string' ? sources.get(source) : undefined;
      if (prefix === undefined) fail('S3 log bucket policy', bucket, `${label}: aws:SourceArn ${JSON.stringify(source)} is not one bucket logging here`);
      else {
        granted.add(source as string);
        if (JSON.stringify(list(s.Resource)) !== JSON.stringify([`${bucketArn(bucket.id)}/${prefix}*`])) fail('S3 log bucket policy', bucket, `${label}: resource ${JSON.stringify(s.Resource)}, expected its prefix ${prefix}`);
      }
      if (typeof s.Condition?.['StringEquals']?.['aws:SourceAccount'] !== 'string') fail('S3 log bucket policy', bucket, `${label}: no aws:SourceAccount`);
    }
  }
  for (const source of sources.keys()) if (!granted.has(source)) fail('S3 log bucket policy', bucket, `no delivery grant for ${source}`);
}

/** Exactly EventBridge's data-key use for SSE-KMS targets: events.amazonaws.com alone, Decrypt and GenerateDataKey only. */
function isEventBridgeDataKeyUse(s: Statement): boolean {
  if (s.Principal === undefined || s.Principal === '*' || s.Principal.AWS !== undefined) return false;
  const services = list(s.Principal.Service);
  const actions = list(s.Action);
  return services.length === 1 && services[0] === 'events.amazonaws.com' && actions.length > 0 && actions.every((a) => a === 'kms:Decrypt' || a === 'kms:GenerateDataKey');
}

/**
 * A cross-account trust names exactly the hub's roles: role ARNs, no account root (every principal
 * of the hub account) and no wildcard (every shipscan stack's roles there), and exactly the ones the
 * stack's config lists.
 */
function checkHubRoles(principals: readonly string[], configured: readonly string[], fail: (invariant: string, detail: string) => void): void {
  for (const principal of principals) {
    if (!/^arn:aws[a-z-]*:iam::[0-9]{12}:role\/[\w+=,.@/-]+$/.test(principal)) fail('spoke trust names the hub roles', `AWS principal ${principal} is not an exact role ARN`);
  }
  if (JSON.stringify([...principals].sort()) !== JSON.stringify([...configured].sort())) {
    fail('spoke trust names the hub roles', `trusts ${JSON.stringify(principals)}, configured ${JSON.stringify(configured)}`);
  }
}

/** Context for a plan made from MODES config. */
export function invariantContext(config: Record<string, unknown>): InvariantContext {
  const aws = (config['shipscan:aws'] ?? {}) as {
    spokes?: { accountId: string; roleName?: string; externalId: string }[];
    inventory?: { enabled?: boolean; spokeRoleName?: string };
    hub?: { externalId: string; roleArns?: string[] };
    accessLogging?: boolean;
    organizationId?: string;
    artifacts?: { enabled?: boolean; allBuckets?: boolean; buckets?: { include?: string[] }; crossAccountRoleName?: string; organizationUnitIds?: string[] };
  };
  const artifacts = aws.artifacts?.enabled ? aws.artifacts : undefined;
  const include = artifacts?.buckets?.include ?? [];
  const readerName = artifacts?.crossAccountRoleName ?? 'shipscan-object-reader';
  const spokes = aws.spokes ?? [];
  return {
    spokeRoleArns: [
      ...spokes.map((s) => `arn:aws:iam::${s.accountId}:role/${s.roleName ?? 'shipscan-spoke'}`),
      // The inventory's read-only role in each spoke (aws.inventory.spokeRoleName).
      ...(aws.inventory?.enabled ? spokes.map((s) => `arn:aws:iam::${s.accountId}:role/${aws.inventory?.spokeRoleName ?? 'shipscan-inventory'}`) : []),
      ...(artifacts ? spokes.map((s) => `arn:aws:iam::${s.accountId}:role/${readerName}`) : []),
    ],
    objectReads: artifacts ? (include.length === 0 && artifacts.allBuckets ? ['arn:aws:s3:::*/*'] : include.map((b) => `arn:aws:s3:::${b}/*`)) : [],
    ...(artifacts && (artifacts.organizationUnitIds ?? []).length > 0 && aws.organizationId
      ? { orgReaderRole: { arnPattern: `arn:aws:iam::*:role/${readerName}`, organizationId: aws.organizationId } }
      : {}),
    hubRoleArns: aws.hub?.roleArns ?? [],
    accessLogging: aws.accessLogging ?? true,
    notInOutputs: [...spokes.map((s) => s.externalId), ...(aws.hub ? [aws.hub.externalId] : [])],
  };
}
