import { expect } from 'chai';
import * as path from 'node:path';
import type { PlanResult, PlannedResource } from '../../local/plan';
import { loadScannerEnv, loadBulkEnv } from '../../functions/aws/env';
import { loadCorpus } from '../support/corpus';
import { matchesPattern, type Json } from '../../shared/event-pattern/match';
import { arnLike } from './support/aws-invariants';
import { LAYER_ARN, QUALYS_GATEWAY, QUALYS_TOKEN, list, oneOfType, ofType, parsePolicy, planMode, placeholderBundles, statement, type Statement } from './support/aws-plans';

const T = {
  key: 'aws:kms/key:Key',
  bucket: 'aws:s3/bucket:Bucket',
  sse: 'aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration',
  pab: 'aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock',
  versioning: 'aws:s3/bucketVersioning:BucketVersioning',
  lifecycle: 'aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration',
  bucketPolicy: 'aws:s3/bucketPolicy:BucketPolicy',
  table: 'aws:dynamodb/table:Table',
  topic: 'aws:sns/topic:Topic',
  subscription: 'aws:sns/topicSubscription:TopicSubscription',
  secret: 'aws:secretsmanager/secret:Secret',
  secretVersion: 'aws:secretsmanager/secretVersion:SecretVersion',
  queue: 'aws:sqs/queue:Queue',
  queuePolicy: 'aws:sqs/queuePolicy:QueuePolicy',
  fn: 'aws:lambda/function:Function',
  esm: 'aws:lambda/eventSourceMapping:EventSourceMapping',
  permission: 'aws:lambda/permission:Permission',
  rule: 'aws:cloudwatch/eventRule:EventRule',
  target: 'aws:cloudwatch/eventTarget:EventTarget',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  dashboard: 'aws:cloudwatch/dashboard:Dashboard',
  logGroup: 'aws:cloudwatch/logGroup:LogGroup',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  role: 'aws:iam/role:Role',
  trail: 'aws:cloudtrail/trail:Trail',
  logging: 'aws:s3/bucketLogging:BucketLogging',
} as const;

function env(fn: PlannedResource): Record<string, string> {
  return (fn.inputs['environment'] as { variables: Record<string, string> }).variables;
}

function actions(s: Statement): string[] {
  return list(s.Action);
}

/** A planned queue's ARN, from the URL id the mocks give it (`https://sqs.<region>.amazonaws.com/<account>/<name>`). */
function queueArnOf(queue: PlannedResource): string {
  const [account, name] = String(queue.id).split('/').slice(-2);
  return `arn:aws:sqs:us-east-1:${String(account)}:${String(name)}`;
}

const keyArnPattern = /^arn:aws:kms:us-east-1:123456789012:key\/[0-9a-f-]{36}$/;

describe('AWS standalone stack (defaults)', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  let keyArn: string;
  before(async function () {
    plan = await planMode('standalone-defaults');
    const scanner = oneOfType(plan, T.fn, 'shipscan-scanner');
    keyArn = scanner.inputs['kmsKeyArn'] as string;
  });

  it('declares exactly the expected resources under the AwsScanner and AwsSecurityEvents components', function () {
    const counts: Record<string, number> = {};
    for (const r of plan.resources) counts[r.type] = (counts[r.type] ?? 0) + 1;
    expect(counts).to.deep.equal({
      'shipscan:aws:AwsScanner': 1,
      'shipscan:aws:AwsSecurityEvents': 1,
      [T.key]: 1,
      'aws:kms/alias:Alias': 1,
      // The results bucket and its access-log bucket.
      [T.bucket]: 2,
      'aws:s3/bucketOwnershipControls:BucketOwnershipControls': 2,
      [T.pab]: 2,
      [T.sse]: 2,
      [T.versioning]: 2,
      [T.lifecycle]: 2,
      [T.bucketPolicy]: 2,
      [T.logging]: 1,
      // The scan cache and the stack's findings table (shared by every capability that records findings).
      [T.table]: 2,
      [T.topic]: 1,
      'aws:sns/topicPolicy:TopicPolicy': 1,
      [T.secret]: 1,
      [T.secretVersion]: 1,
      // Scan queue + DLQ, security-events queue + DLQ, each with its policy.
      [T.queue]: 4,
      [T.queuePolicy]: 4,
      // Scanner, bulk and security-events functions.
      [T.logGroup]: 3,
      [T.role]: 3,
      [T.rolePolicy]: 3,
      [T.fn]: 3,
      [T.esm]: 2,
      // The deployment rule and the two security-event rules (the registry renders two patterns).
      [T.rule]: 3,
      [T.target]: 3,
      [T.alarm]: 8,
      [T.dashboard]: 2,
    });
    const scanner = oneOfType(plan, 'shipscan:aws:AwsScanner');
    const securityEvents = oneOfType(plan, 'shipscan:aws:AwsSecurityEvents');
    for (const r of plan.resources) {
      if (r === scanner || r === securityEvents) continue;
      expect([scanner.urn, securityEvents.urn], `${r.type} ${r.name}`).to.include(r.parent);
    }
    expect(oneOfType(plan, T.table, 'shipscan-findings').parent).to.equal(scanner.urn);
  });

  it('uses one KMS key with rotation, whose policy grants services only data-key use', function () {
    const key = oneOfType(plan, T.key);
    expect(key.inputs['enableKeyRotation']).to.equal(true);
    expect(keyArn).to.match(keyArnPattern);
    const doc = parsePolicy(key.inputs['policy'], 'key policy');
    expect(doc.Statement.map((s) => s.Sid)).to.deep.equal([
      'AccountAdministersKey',
      'AccountUsesKeyThroughIam',
      'AwsServicesCreateGrants',
      'CloudWatchLogsEncrypt',
      'EventBridgeRulesEncryptMessages',
      'AlarmsEncryptMessages',
    ]);
    expect(statement(doc, 'AccountUsesKeyThroughIam').Principal).to.deep.equal({ AWS: 'arn:aws:iam::123456789012:root' });
    const logs = statement(doc, 'CloudWatchLogsEncrypt');
    expect(logs.Principal).to.deep.equal({ Service: 'logs.us-east-1.amazonaws.com' });
    expect(logs.Condition).to.deep.equal({ ArnLike: { 'kms:EncryptionContext:aws:logs:arn': 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shipscan-prod-*' } });
    const events = statement(doc, 'EventBridgeRulesEncryptMessages');
    expect(events.Principal).to.deep.equal({ Service: 'events.amazonaws.com' });
    expect(actions(events)).to.deep.equal(['kms:Decrypt', 'kms:GenerateDataKey']);
    // No aws:Source* condition: EventBridge's KMS requests carry none, so one would drop every event.
    expect(events.Condition).to.equal(undefined);
    const alarms = statement(doc, 'AlarmsEncryptMessages');
    expect(alarms.Principal).to.deep.equal({ Service: 'cloudwatch.amazonaws.com' });
    expect(actions(alarms)).to.deep.equal(['kms:Decrypt', 'kms:GenerateDataKey']);
    expect(alarms.Condition).to.deep.equal({
      StringEquals: { 'aws:SourceAccount': '123456789012' },
      ArnLike: { 'aws:SourceArn': 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:shipscan-prod-*' },
    });
  });

  it('lets only this stack alarms use the key and publish, only this stack rules send, and every one of them can', function () {
    const doc = parsePolicy(oneOfType(plan, T.key).inputs['policy'], 'key policy');
    const alarmPattern = statement(doc, 'AlarmsEncryptMessages').Condition?.['ArnLike']?.['aws:SourceArn'] as string;
    // The mocks answer with the ARNs AWS would give the planned names.
    for (const alarm of ofType(plan, T.alarm)) expect(arnLike(alarmPattern, `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${String(alarm.inputs['name'])}`), String(alarm.inputs['name'])).to.equal(true);
    expect(arnLike(alarmPattern, 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:billing-alarm')).to.equal(false);
    const publish = statement(parsePolicy(oneOfType(plan, 'aws:sns/topicPolicy:TopicPolicy').inputs['policy'], 'topic policy'), 'AlarmsPublish');
    expect(publish.Condition).to.deep.equal({ ArnLike: { 'aws:SourceArn': alarmPattern } });
    // EventBridge is scoped by the queue policy instead: SendMessage only from the rules that target the queue.
    const queueRules = ofType(plan, T.rule).filter((r) => ofType(plan, T.target).some((t) => t.inputs['rule'] === r.id && String(t.inputs['arn']).startsWith('arn:aws:sqs:')));
    // The plan lists resources in the order their inputs resolved: the set is what is tested.
    expect(queueRules.map((r) => r.inputs['name'])).to.have.members(['shipscan-prod-deployments', 'shipscan-prod-security', 'shipscan-prod-security-2']);
    const queuePolicies = ofType(plan, 'aws:sqs/queuePolicy:QueuePolicy');
    expect(queuePolicies).to.have.length(4);
    // Each queue (and its DLQ) takes messages from exactly the rules that target it.
    const rulesOf = (prefix: string) => queueRules.filter((r) => String(r.inputs['name']).startsWith(prefix)).map((r) => `arn:aws:events:us-east-1:123456789012:rule/${String(r.id)}`);
    for (const policy of queuePolicies) {
      const security = policy.name.startsWith('shipscan-security-events-');
      const send = statement(parsePolicy(policy.inputs['policy'], 'queue policy'), security ? 'SecurityEventRulesSend' : 'DeploymentRulesSend');
      expect(send.Principal).to.deep.equal({ Service: 'events.amazonaws.com' });
      expect(list(send.Condition?.['ArnEquals']?.['aws:SourceArn'])).to.have.members(rulesOf(security ? 'shipscan-prod-security' : 'shipscan-prod-deployments'));
    }
  });

  it('keeps results in a private, KMS-encrypted, versioned bucket that expires them', function () {
    const results = 'shipscan-results';
    const bucket = oneOfType(plan, T.bucket, results).id;
    expect(oneOfType(plan, T.sse, results).inputs).to.deep.include({
      bucket,
      rules: [{ applyServerSideEncryptionByDefault: { kmsMasterKeyId: keyArn, sseAlgorithm: 'aws:kms' }, bucketKeyEnabled: true }],
    });
    expect(oneOfType(plan, T.pab, results).inputs).to.deep.include({ bucket, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(oneOfType(plan, T.versioning, results).inputs['versioningConfiguration']).to.deep.equal({ status: 'Enabled' });
    const [rule] = oneOfType(plan, T.lifecycle, results).inputs['rules'] as Record<string, unknown>[];
    expect(rule).to.deep.include({ status: 'Enabled', expiration: { days: 365 }, noncurrentVersionExpiration: { noncurrentDays: 30 } });
    const deny = statement(parsePolicy(oneOfType(plan, T.bucketPolicy, results).inputs['policy'], 'bucket policy'), 'DenyInsecureTransport');
    expect(deny).to.deep.equal({
      Sid: 'DenyInsecureTransport',
      Effect: 'Deny',
      Principal: '*',
      Action: 's3:*',
      Resource: [`arn:aws:s3:::${String(bucket)}`, `arn:aws:s3:::${String(bucket)}/*`],
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    });
  });

  it('caches in an on-demand table with TTL, point-in-time recovery and the CMK', function () {
    expect(oneOfType(plan, T.table, 'shipscan-cache').inputs).to.deep.include({
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'pk',
      attributes: [{ name: 'pk', type: 'S' }],
      ttl: { attributeName: 'expiresAt', enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: keyArn },
    });
  });

  it('stores the Qualys token in a KMS-encrypted secret whose value is a masked secret', function () {
    expect(oneOfType(plan, T.secret).inputs).to.deep.include({ name: 'shipscan-prod/qualys-token', kmsKeyId: keyArn });
    expect(oneOfType(plan, T.secretVersion).inputs['secretString']).to.equal('[secret]');
    expect(JSON.stringify(plan)).not.to.include(QUALYS_TOKEN);
  });

  it('queues scan requests with a dead-letter queue after 8 receives and visibility 6x the timeout', function () {
    const [dlq, queue] = [oneOfType(plan, T.queue, 'shipscan-dlq'), oneOfType(plan, T.queue, 'shipscan-scans')];
    expect(queue.inputs).to.deep.include({ kmsMasterKeyId: keyArn, visibilityTimeoutSeconds: 5400, receiveWaitTimeSeconds: 20 });
    expect(dlq.inputs).to.deep.include({ kmsMasterKeyId: keyArn, messageRetentionSeconds: 1209600 });
    const redrive = JSON.parse(queue.inputs['redrivePolicy'] as string) as { deadLetterTargetArn: string; maxReceiveCount: number };
    expect(redrive.maxReceiveCount).to.equal(8);
    expect(redrive.deadLetterTargetArn).to.match(/^arn:aws:sqs:us-east-1:123456789012:shipscan-dlq-[0-9a-f]{7}$/);
    expect(dlq.id).to.equal(`https://sqs.us-east-1.amazonaws.com/123456789012/${redrive.deadLetterTargetArn.split(':').pop() ?? ''}`);
  });

  it('runs the scanner on Node 22 x86_64 with the configured sizes, the layer, X-Ray and its own log group', function () {
    const scanner = oneOfType(plan, T.fn, 'shipscan-scanner');
    expect(scanner.inputs).to.deep.include({
      name: 'shipscan-prod-scanner',
      runtime: 'nodejs22.x',
      architectures: ['x86_64'],
      handler: 'index.handler',
      memorySize: 2048,
      timeout: 900,
      ephemeralStorage: { size: 2048 },
      layers: [LAYER_ARN],
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: '/aws/lambda/shipscan-prod-scanner' },
      kmsKeyArn: keyArn,
    });
    expect(scanner.inputs['code']).to.deep.equal({ '@archive': path.join(placeholderBundles(), 'aws', 'scanner') });
    expect(oneOfType(plan, T.logGroup, 'shipscan-scanner-logs').inputs).to.deep.include({ name: '/aws/lambda/shipscan-prod-scanner', retentionInDays: 90, kmsKeyId: keyArn });
    const bulk = oneOfType(plan, T.fn, 'shipscan-bulk');
    expect(bulk.inputs).to.deep.include({ name: 'shipscan-prod-bulk', runtime: 'nodejs22.x', timeout: 900, tracingConfig: { mode: 'Active' } });
    expect(bulk.inputs['code']).to.deep.equal({ '@archive': path.join(placeholderBundles(), 'aws', 'bulk') });
  });

  it('gives the functions an environment the runtime accepts (parsed with the runtime own schema)', function () {
    const scanner = env(oneOfType(plan, T.fn, 'shipscan-scanner'));
    const parsed = loadScannerEnv({ ...scanner, AWS_REGION: 'us-east-1' });
    expect(parsed).to.deep.include({
      CACHE_TTL_DAYS: 30,
      SEVERITY_THRESHOLD: 'HIGH',
      TAG_FUNCTIONS: true,
      SELF_FUNCTION_NAMES: ['shipscan-prod-scanner', 'shipscan-prod-bulk'],
      SPOKE_ROLES: [],
      QSCANNER_PATH: '/opt/qscanner/qscanner',
      METRICS_NAMESPACE: 'Shipscan',
      QUALYS_POD: 'US2',
      SCAN_TIMEOUT_SEC: 870,
    });
    expect(parsed.RESULTS_BUCKET).to.equal(oneOfType(plan, T.bucket, 'shipscan-results').id);
    expect(parsed.CACHE_TABLE).to.equal(oneOfType(plan, T.table, 'shipscan-cache').id);
    expect(parsed.FINDINGS_TOPIC_ARN).to.equal(oneOfType(plan, T.topic).id);
    expect(parsed.QUALYS_SECRET_ARN).to.equal(oneOfType(plan, T.secret).id);
    expect(parsed.SCAN_QUEUE_URL).to.equal(oneOfType(plan, T.queue, 'shipscan-scans').id);
    const bulk = loadBulkEnv({ ...env(oneOfType(plan, T.fn, 'shipscan-bulk')), AWS_REGION: 'us-east-1' });
    expect(bulk).to.deep.include({ EXCLUDE_PATTERNS: [], SPOKE_ROLES: [], REGIONS: ['us-east-1'], METRICS_NAMESPACE: 'Shipscan' });
    expect(bulk.SCAN_QUEUE_URL).to.equal(parsed.SCAN_QUEUE_URL);
  });

  it('feeds the scanner from the queue one message at a time with bounded concurrency and partial failures', function () {
    const consume = statement(parsePolicy(oneOfType(plan, T.rolePolicy, 'shipscan-scanner-policy').inputs['policy'], 'scanner policy'), 'ConsumeScanQueue');
    expect(oneOfType(plan, T.esm, 'shipscan-scans').inputs).to.deep.include({
      eventSourceArn: consume.Resource,
      functionName: 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-scanner',
      batchSize: 1,
      functionResponseTypes: ['ReportBatchItemFailures'],
      scalingConfig: { maximumConcurrency: 10 },
    });
  });

  it('grants the scanner exactly its table of permissions, statement by statement', function () {
    const doc = parsePolicy(oneOfType(plan, T.rolePolicy, 'shipscan-scanner-policy').inputs['policy'], 'scanner policy');
    const bucket = String(oneOfType(plan, T.bucket, 'shipscan-results').id);
    const byStatement = Object.fromEntries(doc.Statement.map((s) => [s.Sid, { Action: s.Action, Resource: s.Resource, Condition: s.Condition }]));
    const queueArn = (byStatement['ConsumeScanQueue']?.Resource as string) ?? '';
    expect(queueArn).to.match(/^arn:aws:sqs:us-east-1:123456789012:shipscan-scans-[0-9a-f]{7}$/);
    expect(byStatement).to.deep.equal({
      WriteOwnLogs: {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: ['arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shipscan-prod-scanner', 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shipscan-prod-scanner:*'],
        Condition: undefined,
      },
      XRayTraces: { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*', Condition: undefined },
      PutShipscanMetrics: { Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'Shipscan' } } },
      UseStackKey: { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: undefined },
      ReadFunctions: { Action: ['lambda:GetFunction', 'lambda:ListTags'], Resource: 'arn:aws:lambda:*:123456789012:function:*', Condition: undefined },
      PullFunctionImages: {
        Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:DescribeImages'],
        Resource: 'arn:aws:ecr:*:123456789012:repository/*',
        Condition: undefined,
      },
      EcrLogin: { Action: 'ecr:GetAuthorizationToken', Resource: '*', Condition: undefined },
      TagShipscanKeysOnly: {
        Action: 'lambda:TagResource',
        Resource: 'arn:aws:lambda:*:123456789012:function:*',
        Condition: { 'ForAllValues:StringLike': { 'aws:TagKeys': ['Shipscan*'] }, Null: { 'aws:TagKeys': 'false' } },
      },
      ConsumeScanQueue: { Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], Resource: queueArn, Condition: undefined },
      CacheItems: {
        Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
        Resource: `arn:aws:dynamodb:us-east-1:123456789012:table/${String(oneOfType(plan, T.table, 'shipscan-cache').id)}`,
        Condition: undefined,
      },
      WriteResults: { Action: 's3:PutObject', Resource: `arn:aws:s3:::${bucket}/results/*`, Condition: undefined },
      PublishFindings: { Action: 'sns:Publish', Resource: oneOfType(plan, T.topic).id, Condition: undefined },
      ReadQualysToken: { Action: 'secretsmanager:GetSecretValue', Resource: oneOfType(plan, T.secret).id, Condition: undefined },
    });
    expect(doc.Statement.every((s) => s.Effect === 'Allow' && s.Principal === undefined)).to.equal(true);
  });

  it('grants the bulk function listing, tag lookup and enqueueing only, each on its resource', function () {
    const doc = parsePolicy(oneOfType(plan, T.rolePolicy, 'shipscan-bulk-policy').inputs['policy'], 'bulk policy');
    const logGroup = 'arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/shipscan-prod-bulk';
    expect(doc.Statement.map((s) => [s.Sid, s.Action, s.Resource])).to.deep.equal([
      ['WriteOwnLogs', ['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup, `${logGroup}:*`]],
      ['XRayTraces', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], '*'],
      ['PutShipscanMetrics', 'cloudwatch:PutMetricData', '*'],
      ['UseStackKey', ['kms:Decrypt', 'kms:GenerateDataKey'], keyArn],
      ['ListFunctions', 'lambda:ListFunctions', '*'],
      ['FindExcludedByTag', 'tag:GetResources', '*'],
      ['EnqueueScans', 'sqs:SendMessage', queueArnOf(oneOfType(plan, T.queue, 'shipscan-scans'))],
    ]);
    expect(statement(doc, 'PutShipscanMetrics').Condition).to.deep.equal({ StringEquals: { 'cloudwatch:namespace': 'Shipscan' } });
  });

  it('routes deployments from the default bus to the queue, allowed by a queue policy scoped to the rule', function () {
    const rule = oneOfType(plan, T.rule, 'shipscan-deployments');
    expect(rule.inputs['eventBusName']).to.equal(undefined);
    const ruleArn = `arn:aws:events:us-east-1:123456789012:rule/${String(rule.id)}`;
    const target = oneOfType(plan, T.target, 'shipscan-deployments');
    const scanPolicy = parsePolicy(oneOfType(plan, T.queuePolicy, 'shipscan-scans').inputs['policy'], 'queue policy');
    const send = statement(scanPolicy, 'DeploymentRulesSend');
    expect(send).to.deep.include({ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sqs:SendMessage', Condition: { ArnEquals: { 'aws:SourceArn': [ruleArn] } } });
    expect(target.inputs['arn']).to.equal(send.Resource);
    expect(target.inputs['rule']).to.equal(rule.id);
    expect((target.inputs['deadLetterConfig'] as { arn: string }).arn).to.match(/shipscan-dlq-/);
    const dlqSend = statement(parsePolicy(oneOfType(plan, T.queuePolicy, 'shipscan-dlq').inputs['policy'], 'dlq policy'), 'DeploymentRulesSend');
    expect(dlqSend.Condition).to.deep.equal({ ArnEquals: { 'aws:SourceArn': [ruleArn] } });
  });

  it('alarms to the findings topic at the documented thresholds', function () {
    const topicArn = oneOfType(plan, T.topic).id;
    const alarms = Object.fromEntries(
      ofType(plan, T.alarm).map((a) => [a.inputs['name'], [a.inputs['namespace'], a.inputs['metricName'], a.inputs['statistic'], a.inputs['comparisonOperator'], a.inputs['threshold'], a.inputs['period']]]),
    );
    expect(alarms).to.deep.equal({
      'shipscan-prod-scanner-errors': ['AWS/Lambda', 'Errors', 'Sum', 'GreaterThanThreshold', 5, 300],
      'shipscan-prod-scanner-throttles': ['AWS/Lambda', 'Throttles', 'Sum', 'GreaterThanThreshold', 0, 300],
      'shipscan-prod-scanner-duration': ['AWS/Lambda', 'Duration', 'Maximum', 'GreaterThanThreshold', 720000, 300],
      'shipscan-prod-dead-letters': ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 'GreaterThanThreshold', 0, 300],
      'shipscan-prod-scan-failures': ['Shipscan', 'ScanFailure', 'Sum', 'GreaterThanThreshold', 0, 300],
      'shipscan-prod-bulk-errors': ['AWS/Lambda', 'Errors', 'Sum', 'GreaterThanThreshold', 0, 300],
      'shipscan-prod-security-dead-letters': ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'Maximum', 'GreaterThanThreshold', 0, 300],
      'shipscan-prod-security-detector-errors': ['Shipscan', 'DetectorErrors', 'Sum', 'GreaterThanThreshold', 0, 300],
    });
    for (const alarm of ofType(plan, T.alarm)) {
      expect(alarm.inputs['alarmActions'], String(alarm.inputs['name'])).to.deep.equal([topicArn]);
      expect(alarm.inputs['evaluationPeriods']).to.equal(1);
    }
    const dlqName = oneOfType(plan, T.queue, 'shipscan-dlq').inputs['name'] ?? String(oneOfType(plan, T.queue, 'shipscan-dlq').id).split('/').pop();
    expect(ofType(plan, T.alarm).find((a) => a.inputs['name'] === 'shipscan-prod-dead-letters')?.inputs['dimensions']).to.deep.equal({ QueueName: dlqName });
  });

  it('draws scans, cache hits, vulnerabilities by severity, duration and DLQ depth on the dashboard', function () {
    const body = JSON.parse(oneOfType(plan, T.dashboard, 'shipscan-dashboard').inputs['dashboardBody'] as string) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
    const metrics = body.widgets.flatMap((w) => w.properties.metrics.map((m) => `${String(m[0])}/${String(m[1])}`));
    expect(body.widgets.map((w) => w.properties.title)).to.deep.equal(['Scans', 'Vulnerabilities by severity', 'Scan duration (ms)', 'Queue and dead letters']);
    for (const metric of ['Shipscan/ScanSuccess', 'Shipscan/ScanFailure', 'Shipscan/CacheHit', 'Shipscan/VulnerabilityCount', 'Shipscan/ScanDuration', 'AWS/SQS/ApproximateNumberOfMessagesVisible']) {
      expect(metrics).to.include(metric);
    }
    const severities = body.widgets[1]?.properties.metrics.map((m) => m[5]);
    expect(severities).to.deep.equal(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW']);
  });

  it('creates no trail, schedule or email subscription unless configured', function () {
    expect(ofType(plan, T.trail)).to.have.length(0);
    expect(ofType(plan, T.permission)).to.have.length(0);
    expect(ofType(plan, T.subscription)).to.have.length(0);
  });

  it('exports names and ARNs only', function () {
    expect(plan.outputs['aws']).to.have.all.keys('mode', 'resultsBucket', 'accessLogsBucket', 'cacheTable', 'findingsTopicArn', 'scanQueueUrl', 'scannerFunction', 'bulkFunction', 'findingsTable', 'securityEventsQueueUrl');
  });
});

describe('S3 server access logging (FSBP S3.9, CIS)', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  let logBucket: string;
  before(async function () {
    plan = await planMode('standalone-full');
    logBucket = String(oneOfType(plan, T.bucket, 'shipscan-access-logs').id);
  });

  it('logs the results and trail buckets into the log bucket, each under its own prefix, partitioned by date', function () {
    const loggings = ofType(plan, T.logging).map((l) => l.inputs);
    expect(loggings).to.deep.equal([
      { bucket: oneOfType(plan, T.bucket, 'shipscan-results').id, targetBucket: logBucket, targetPrefix: 'results/', targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } } },
      { bucket: oneOfType(plan, T.bucket, 'shipscan-trail-bucket').id, targetBucket: logBucket, targetPrefix: 'trail/', targetObjectKeyFormat: { partitionedPrefix: { partitionDateSource: 'EventTime' } } },
    ]);
    // Every bucket but the log bucket logs; the log bucket does not log its own deliveries.
    expect(ofType(plan, T.bucket).filter((b) => !ofType(plan, T.logging).some((l) => l.inputs['bucket'] === b.id)).map((b) => b.id)).to.deep.equal([logBucket]);
  });

  it('keeps the logs in a private bucket with SSE-S3 (log delivery cannot write to SSE-KMS), expiring after logRetentionDays', function () {
    const part = (type: string) => oneOfType(plan, type, 'shipscan-access-logs').inputs;
    expect(part(T.sse)).to.deep.equal({ bucket: logBucket, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: 'AES256' } }] });
    expect(part(T.pab)).to.deep.include({ blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true });
    expect(part('aws:s3/bucketOwnershipControls:BucketOwnershipControls')['rule']).to.deep.equal({ objectOwnership: 'BucketOwnerEnforced' });
    expect(part(T.versioning)['versioningConfiguration']).to.deep.equal({ status: 'Enabled' });
    const [rule] = part(T.lifecycle)['rules'] as Record<string, unknown>[];
    expect(rule).to.deep.include({ status: 'Enabled', expiration: { days: 30 } });
  });

  it('lets only S3 log delivery write, for each source bucket of this account under its prefix, and only over TLS', function () {
    const doc = parsePolicy(oneOfType(plan, T.bucketPolicy, 'shipscan-access-logs').inputs['policy'], 'log bucket policy');
    const arn = `arn:aws:s3:::${logBucket}`;
    expect(doc.Statement).to.deep.equal([
      { Sid: 'DenyInsecureTransport', Effect: 'Deny', Principal: '*', Action: 's3:*', Resource: [arn, `${arn}/*`], Condition: { Bool: { 'aws:SecureTransport': 'false' } } },
      ...[
        ['AccessLogsFromResults', 'results', 'shipscan-results'],
        ['AccessLogsFromTrail', 'trail', 'shipscan-trail-bucket'],
      ].map(([sid, prefix, source]) => ({
        Sid: sid,
        Effect: 'Allow',
        Principal: { Service: 'logging.s3.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: `${arn}/${String(prefix)}/*`,
        Condition: { ArnEquals: { 'aws:SourceArn': `arn:aws:s3:::${String(oneOfType(plan, T.bucket, String(source)).id)}` }, StringEquals: { 'aws:SourceAccount': '123456789012' } },
      })),
    ]);
  });

  it('switches on the logging only once delivery is allowed', function () {
    const index = (r: PlannedResource) => plan.resources.indexOf(r);
    const policy = oneOfType(plan, T.bucketPolicy, 'shipscan-access-logs');
    for (const logging of ofType(plan, T.logging)) expect(index(logging)).to.be.greaterThan(index(policy));
  });

  it('is off with aws.accessLogging false: no log bucket, no logging configuration, every bucket under the CMK', async function () {
    const off = await planMode('standalone-no-access-logs');
    expect(ofType(off, T.logging)).to.deep.equal([]);
    expect(ofType(off, T.bucket).map((b) => b.name).sort()).to.deep.equal(['shipscan-results', 'shipscan-trail-bucket']);
    for (const sse of ofType(off, T.sse)) expect(JSON.stringify(sse.inputs['rules'])).to.include('aws:kms');
    expect(off.outputs['aws']).to.not.have.property('accessLogsBucket');
  });
});

describe('AWS standalone stack (every option on)', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let plan: PlanResult;
  before(async function () {
    plan = await planMode('standalone-full');
  });

  it('takes sizes, concurrency, cache, severity, retention and exclusions from config', function () {
    const scanner = oneOfType(plan, T.fn, 'shipscan-scanner');
    expect(scanner.inputs).to.deep.include({ memorySize: 3008, timeout: 600, ephemeralStorage: { size: 4096 } });
    const parsed = loadScannerEnv({ ...env(scanner), AWS_REGION: 'us-east-1' });
    expect(parsed).to.deep.include({ CACHE_TTL_DAYS: 14, SEVERITY_THRESHOLD: 'CRITICAL', SCAN_TIMEOUT_SEC: 570, LOCK_TTL_SEC: 660, QUALYS_GATEWAY });
    expect(env(scanner)).not.to.have.property('QUALYS_POD');
    // Event-driven scans honour the exclusions too, not only the bulk scan.
    expect(JSON.parse(String(env(scanner)['EXCLUDE_PATTERNS']))).to.deep.equal(['^test-', 'sandbox']);
    expect(loadBulkEnv({ ...env(oneOfType(plan, T.fn, 'shipscan-bulk')), AWS_REGION: 'us-east-1' }).EXCLUDE_PATTERNS).to.deep.equal(['^test-', 'sandbox']);
    expect(oneOfType(plan, T.esm, 'shipscan-scans').inputs['scalingConfig']).to.deep.equal({ maximumConcurrency: 25 });
    expect(oneOfType(plan, T.queue, 'shipscan-scans').inputs['visibilityTimeoutSeconds']).to.equal(3600);
    expect(ofType(plan, T.logGroup).map((g) => g.inputs['retentionInDays'])).to.deep.equal([30, 30, 30]);
    const results = ofType(plan, T.lifecycle).map((l) => (l.inputs['rules'] as { expiration?: { days: number } }[])[0]?.expiration?.days);
    expect(results).to.include(180);
    expect(ofType(plan, T.alarm).find((a) => a.inputs['name'] === 'shipscan-prod-scanner-duration')?.inputs['threshold']).to.equal(480000);
  });

  it('subscribes the alert address to the findings topic', function () {
    expect(oneOfType(plan, T.subscription).inputs).to.deep.include({ protocol: 'email', endpoint: 'security@example.com', topic: oneOfType(plan, T.topic).id });
  });

  it('schedules the bulk scan with a rule that alone may invoke the bulk function', function () {
    const schedule = oneOfType(plan, T.rule, 'shipscan-bulk-schedule');
    expect(schedule.inputs['scheduleExpression']).to.equal('cron(0 3 ? * SUN *)');
    expect(oneOfType(plan, T.target, 'shipscan-bulk-schedule').inputs['arn']).to.equal('arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-bulk');
    expect(oneOfType(plan, T.permission).inputs).to.deep.include({
      action: 'lambda:InvokeFunction',
      principal: 'events.amazonaws.com',
      function: 'shipscan-prod-bulk',
      sourceArn: `arn:aws:events:us-east-1:123456789012:rule/${String(schedule.id)}`,
      sourceAccount: '123456789012',
    });
  });

  it('creates a multi-region trail with validation and KMS into a bucket with the documented policy', function () {
    const trail = oneOfType(plan, T.trail);
    const keyArn = oneOfType(plan, T.fn, 'shipscan-scanner').inputs['kmsKeyArn'];
    expect(trail.inputs).to.deep.include({
      name: 'shipscan-prod-trail',
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableLogFileValidation: true,
      kmsKeyId: keyArn,
      eventSelectors: [{ includeManagementEvents: true, readWriteType: 'WriteOnly' }],
    });
    const trailBucket = String(trail.inputs['s3BucketName']);
    const policy = ofType(plan, T.bucketPolicy).find((p) => p.inputs['bucket'] === trailBucket);
    const doc = parsePolicy(policy?.inputs['policy'], 'trail bucket policy');
    const trailArn = 'arn:aws:cloudtrail:us-east-1:123456789012:trail/shipscan-prod-trail';
    expect(statement(doc, 'AWSCloudTrailAclCheck')).to.deep.include({
      Principal: { Service: 'cloudtrail.amazonaws.com' },
      Action: 's3:GetBucketAcl',
      Resource: `arn:aws:s3:::${trailBucket}`,
      Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
    });
    expect(statement(doc, 'AWSCloudTrailWrite')).to.deep.include({
      Action: 's3:PutObject',
      Resource: `arn:aws:s3:::${trailBucket}/AWSLogs/123456789012/*`,
      Condition: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', 'aws:SourceArn': trailArn } },
    });
    const keyDoc = parsePolicy(oneOfType(plan, T.key).inputs['policy'], 'key policy');
    expect(statement(keyDoc, 'CloudTrailEncryptLogs').Condition).to.deep.equal({
      StringEquals: { 'aws:SourceArn': trailArn },
      StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': 'arn:aws:cloudtrail:*:123456789012:trail/*' },
    });
  });
});

type Envelope = Record<string, Json>;

/** Variant: a raw CloudTrail record from the corpus wrapped in the EventBridge envelope AWS sends. */
function envelope(record: Record<string, Json>): Envelope {
  return {
    version: '0',
    id: 'variant-envelope',
    'detail-type': 'AWS API Call via CloudTrail',
    source: 'aws.lambda',
    account: '123456789012',
    time: '2026-01-01T00:00:00Z',
    region: 'us-east-1',
    resources: [],
    detail: record,
  };
}

function first(record: unknown): Record<string, Json> {
  return (Array.isArray(record) ? record[0] : record) as Record<string, Json>;
}

function variant(record: Record<string, Json>, changes: Record<string, Json>): Record<string, Json> {
  return { ...structuredClone(record), ...changes };
}

describe('AWS deployment event pattern against corpus events', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  let defaults: Record<string, Json>;
  let full: Record<string, Json>;
  const create = first(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'));
  const update = first(loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json'));
  const configuration = first(loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json'));
  const addPermission = first(loadCorpus('aws/cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json'));
  const createBucket = loadCorpus<Envelope>('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json');

  before(async function () {
    defaults = JSON.parse(oneOfType(await planMode('standalone-defaults'), T.rule, 'shipscan-deployments').inputs['eventPattern'] as string) as Record<string, Json>;
    full = JSON.parse(oneOfType(await planMode('standalone-full'), T.rule, 'shipscan-deployments').inputs['eventPattern'] as string) as Record<string, Json>;
  });

  it('is the documented pattern', function () {
    const scannerArn = 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-scanner';
    const bulkArn = 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-bulk';
    expect(defaults).to.deep.equal({
      source: ['aws.lambda'],
      'detail-type': ['AWS API Call via CloudTrail'],
      detail: {
        eventSource: ['lambda.amazonaws.com'],
        eventName: ['CreateFunction', { prefix: 'CreateFunction20' }, 'UpdateFunctionCode', { prefix: 'UpdateFunctionCode20' }],
        errorCode: [{ exists: false }],
        $or: [
          { responseElements: { functionArn: [{ 'anything-but': { prefix: 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-' } }] } },
          {
            responseElements: { functionArn: [{ exists: false }] },
            requestParameters: {
              functionName: [
                {
                  'anything-but': [
                    'shipscan-prod-scanner',
                    scannerArn,
                    '123456789012:function:shipscan-prod-scanner',
                    'shipscan-prod-bulk',
                    bulkArn,
                    '123456789012:function:shipscan-prod-bulk',
                  ],
                },
              ],
            },
          },
        ],
      },
    });
  });

  it('matches CreateFunction and UpdateFunctionCode with and without the date suffix', function () {
    expect(matchesPattern(defaults, envelope(create))).to.equal(true);
    expect(matchesPattern(defaults, envelope(update))).to.equal(true);
    expect(matchesPattern(defaults, envelope(variant(create, { eventName: 'CreateFunction' })))).to.equal(true);
    expect(matchesPattern(defaults, envelope(variant(update, { eventName: 'UpdateFunctionCode' })))).to.equal(true);
    expect(matchesPattern(defaults, envelope(variant(update, { eventName: 'UpdateFunctionCode20250101' })))).to.equal(true);
  });

  it('matches UpdateFunctionConfiguration only when scanOnConfigurationChange is set', function () {
    expect(matchesPattern(defaults, envelope(configuration))).to.equal(false);
    expect(matchesPattern(full, envelope(configuration))).to.equal(true);
    expect(matchesPattern(full, envelope(variant(configuration, { eventName: 'UpdateFunctionConfiguration' })))).to.equal(true);
  });

  it('ignores failed calls, other Lambda APIs with a shared prefix, and other services', function () {
    expect(matchesPattern(defaults, envelope(variant(create, { errorCode: 'AccessDenied', errorMessage: 'denied' })))).to.equal(false);
    expect(matchesPattern(defaults, envelope(addPermission))).to.equal(false);
    expect(matchesPattern(defaults, envelope(variant(create, { eventName: 'CreateFunctionUrlConfig20211031' })))).to.equal(false);
    expect(matchesPattern(defaults, createBucket)).to.equal(false);
  });

  /** UpdateFunctionCode of `functionName` (as the caller wrote it), answered with `functionArn`, or with no response at all. */
  const deployment = (functionName: string, functionArn: string | null) => {
    const record = variant(update, { requestParameters: { ...(update['requestParameters'] as Record<string, Json>), functionName } });
    if (functionArn === null) delete record['responseElements'];
    else record['responseElements'] = { ...(update['responseElements'] as Record<string, Json>), functionArn };
    return envelope(record);
  };
  const scannerArn = 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-scanner';

  it('excludes the stack own functions however the request names them, by the ARN in the response', function () {
    for (const [requested, answered] of [
      ['shipscan-prod-scanner', scannerArn],
      [scannerArn, scannerArn],
      // Partial and qualified forms, which an exact list of names and ARNs let through.
      ['123456789012:function:shipscan-prod-scanner', scannerArn],
      ['shipscan-prod-scanner:live', `${scannerArn}:7`],
      ['arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-bulk:$LATEST', 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-prod-bulk'],
    ] as const) {
      expect(matchesPattern(defaults, deployment(requested, answered)), requested).to.equal(false);
      expect(matchesPattern(full, deployment(requested, answered)), `${requested} (every option on)`).to.equal(false);
    }
  });

  it('still matches other functions, including same-named ones in other accounts and regions', function () {
    expect(matchesPattern(defaults, deployment('someone-elses-function', 'arn:aws:lambda:us-east-1:123456789012:function:someone-elses-function'))).to.equal(true);
    expect(matchesPattern(defaults, deployment('shipscan-production-api', 'arn:aws:lambda:us-east-1:123456789012:function:shipscan-production-api:3'))).to.equal(true);
    expect(matchesPattern(defaults, deployment('shipscan-prod-scanner', 'arn:aws:lambda:us-east-1:222222222222:function:shipscan-prod-scanner'))).to.equal(true);
    expect(matchesPattern(defaults, deployment('shipscan-prod-scanner', 'arn:aws:lambda:eu-west-1:123456789012:function:shipscan-prod-scanner'))).to.equal(true);
    expect(matchesPattern(defaults, envelope(update))).to.equal(true);
  });

  it('falls back to the exact request forms for a record without a response', function () {
    for (const requested of ['shipscan-prod-scanner', scannerArn, '123456789012:function:shipscan-prod-bulk']) {
      expect(matchesPattern(defaults, deployment(requested, null)), requested).to.equal(false);
    }
    expect(matchesPattern(defaults, deployment('someone-elses-function', null))).to.equal(true);
  });
});

describe('event pattern matcher', function () {
  it('matches $or when any alternative matches, and treats a missing object as having no leaves', function () {
    const pattern = { detail: { $or: [{ a: ['x'] }, { b: { c: [{ exists: false }] } }] } } as Record<string, Json>;
    expect(matchesPattern(pattern, { detail: { a: 'x', b: { c: 1 } } })).to.equal(true);
    expect(matchesPattern(pattern, { detail: { a: 'y' } })).to.equal(true);
    expect(matchesPattern(pattern, { detail: { a: 'y', b: null } })).to.equal(true);
    expect(matchesPattern(pattern, { detail: { a: 'y', b: { c: 1 } } })).to.equal(false);
  });

  it('rejects a malformed $or instead of guessing', function () {
    expect(() => matchesPattern({ $or: [{ a: ['x'] }] }, { a: 'x' })).to.throw(/two or more/);
  });
});
