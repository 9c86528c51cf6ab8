import { expect } from 'chai';
import { runPlanDetailed, PlanError, type PlanResult, type PlannedResource } from '../../local/plan';
import { loadSecurityEventsEnv } from '../../functions/aws/security-events/env';
import { cloudTrailEnvelope } from '../../local/start/kinds/aws-routing';
import { matchesPattern, type EventPattern } from '../../shared/event-pattern/match';
import { ConfigError, validateConfig } from '../../shared/config';
import { DEFAULT_REGISTRY, securityEventPatterns } from '../../shared/rules/aws';
import { loadCorpus } from '../support/corpus';
import { recordIn, type Json } from '../rules/aws/support/records';
import { securityEventMix } from '../rules/aws/support/mix';
import { checkAwsInvariants, invariantContext } from './support/aws-invariants';
import { HUB_BUS_ARN, LAYER_ARN, MODES, QUALYS, awsConfig, list, ofType, oneOfType, parsePolicy, placeholderBundles, planMode, type Statement } from './support/aws-plans';

/**
 * The security-events pipeline as planned for every mode (aws/security-events.ts, the spoke's forwarding
 * rules, the findings table wired in deployAws): resources and counts, the rules' patterns against the
 * corpus, the role's exact permissions, the notify secret and the SES grant, and the invariants.
 */

const T = {
  component: 'shipscan:aws:AwsSecurityEvents',
  queue: 'aws:sqs/queue:Queue',
  queuePolicy: 'aws:sqs/queuePolicy:QueuePolicy',
  rule: 'aws:cloudwatch/eventRule:EventRule',
  target: 'aws:cloudwatch/eventTarget:EventTarget',
  fn: 'aws:lambda/function:Function',
  esm: 'aws:lambda/eventSourceMapping:EventSourceMapping',
  rolePolicy: 'aws:iam/rolePolicy:RolePolicy',
  alarm: 'aws:cloudwatch/metricAlarm:MetricAlarm',
  dashboard: 'aws:cloudwatch/dashboard:Dashboard',
  secret: 'aws:secretsmanager/secret:Secret',
  secretVersion: 'aws:secretsmanager/secretVersion:SecretVersion',
  table: 'aws:dynamodb/table:Table',
  topic: 'aws:sns/topic:Topic',
  bucket: 'aws:s3/bucket:Bucket',
  key: 'aws:kms/key:Key',
} as const;

const ACCOUNT = '123456789012';
const PREFIX = 'shipscan-prod';
const SLACK = 'https://hooks.slack.com/services/T000/B000/planned-secret-Hq2';
const SMTP_PASSWORD = 'smtp-password-under-test-Rt5';

/** The resources of the AwsSecurityEvents component (and the component). */
function securityResources(plan: PlanResult): PlannedResource[] {
  const component = plan.resources.find((r) => r.type === T.component);
  // By name: the plan lists resources as their inputs resolved, which is no order to test.
  return component ? [component, ...plan.resources.filter((r) => r.parent === component.urn).sort((a, b) => a.name.localeCompare(b.name))] : [];
}

function counts(resources: readonly PlannedResource[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of resources) out[r.type] = (out[r.type] ?? 0) + 1;
  return out;
}

function queueArnOf(queue: PlannedResource): string {
  const [account, name] = String(queue.id).split('/').slice(-2);
  return `arn:aws:sqs:us-east-1:${String(account)}:${String(name)}`;
}

function env(plan: PlanResult): Record<string, string> {
  return (oneOfType(plan, T.fn, 'shipscan-security-events-fn').inputs['environment'] as { variables: Record<string, string> }).variables;
}

function rolePolicy(plan: PlanResult) {
  return parsePolicy(oneOfType(plan, T.rolePolicy, 'shipscan-security-events-fn-policy').inputs['policy'], 'security-events policy');
}

function bySid(statements: readonly Statement[]): Record<string, { Action: unknown; Resource: unknown; Condition: unknown }> {
  return Object.fromEntries(statements.map((s) => [s.Sid, { Action: s.Action, Resource: s.Resource, Condition: s.Condition }]));
}

/** The planned patterns of the rules that target the security-events queue, by rule name. */
function securityPatterns(plan: PlanResult): Map<string, EventPattern> {
  return new Map(
    securityResources(plan)
      .filter((r) => r.type === T.rule)
      .map((r) => [String(r.inputs['name']), JSON.parse(String(r.inputs['eventPattern'])) as EventPattern]),
  );
}

/** What EventBridge matches: the envelope (a raw record wrapped the way EventBridge delivers it). */
function asDelivered(input: Json): Json {
  return 'detail' in input ? input : cloudTrailEnvelope(input);
}

function firstRecord(file: string): Json {
  const loaded = loadCorpus<Json | Json[]>(`aws/${file}`);
  return Array.isArray(loaded) ? loaded[0]! : loaded;
}

const SECURITY_CORPUS = [
  'cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json',
  'eventbridge-cloudtrail-ec2-AuthorizeSecurityGroupIngress.cloud-buddy.json',
  'cloudtrail-raw-CreateAccessKey.stratus.json',
  'cloudtrail-raw-StopLogging.stratus.json',
  'cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json',
  'eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json',
];

describe('AWS security events (aws/security-events.ts) under the Pulumi mocks', function () {
  this.timeout(240_000);

  describe('standalone (defaults)', () => {
    let plan: PlanResult;
    before(async () => {
      plan = await planMode('standalone-defaults');
    });

    it('declares one component holding queue + DLQ, two rules with targets, the function, its event source, two alarms and a dashboard', () => {
      expect(counts(securityResources(plan))).to.deep.equal({
        [T.component]: 1,
        [T.queue]: 2,
        [T.queuePolicy]: 2,
        [T.rule]: 2,
        [T.target]: 2,
        'aws:cloudwatch/logGroup:LogGroup': 1,
        'aws:iam/role:Role': 1,
        [T.rolePolicy]: 1,
        [T.fn]: 1,
        [T.esm]: 1,
        [T.alarm]: 2,
        [T.dashboard]: 1,
      });
      // No notify secret without a secret setting, and the findings table is created once, for the stack.
      expect(securityResources(plan).filter((r) => r.type === T.secret)).to.deep.equal([]);
      expect(ofType(plan, T.table).map((t) => t.name)).to.deep.equal(['shipscan-cache', 'shipscan-findings']);
      expect(checkAwsInvariants(plan, invariantContext(MODES['standalone-defaults']))).to.deep.equal([]);
    });

    it('exports the findings table and the security-events queue URL', () => {
      const outputs = plan.outputs['aws'] as Record<string, unknown>;
      expect(outputs['findingsTable']).to.equal(oneOfType(plan, T.table, 'shipscan-findings').id);
      expect(outputs['securityEventsQueueUrl']).to.equal(oneOfType(plan, T.queue, 'shipscan-security-events-queue').id);
    });

    it('queues under the stack key with a DLQ after 5 receives, hidden 6 times the timeout', () => {
      const keyArn = oneOfType(plan, T.fn, 'shipscan-scanner').inputs['kmsKeyArn'];
      const queue = oneOfType(plan, T.queue, 'shipscan-security-events-queue');
      const dlq = oneOfType(plan, T.queue, 'shipscan-security-events-dlq');
      for (const q of [queue, dlq]) expect(q.inputs['kmsMasterKeyId'], q.name).to.equal(keyArn);
      expect(queue.inputs['visibilityTimeoutSeconds']).to.equal(360);
      expect(JSON.parse(String(queue.inputs['redrivePolicy']))).to.deep.equal({ deadLetterTargetArn: queueArnOf(dlq), maxReceiveCount: 5 });
    });

    it('renders the rules from the registry, one per pattern, each under 2048 characters, targeting the queue with the DLQ', () => {
      const expected = securityEventPatterns(DEFAULT_REGISTRY);
      const rules = securityResources(plan).filter((r) => r.type === T.rule);
      expect(rules.map((r) => [r.inputs['name'], r.inputs['eventBusName']])).to.deep.equal([
        [`${PREFIX}-security`, undefined],
        [`${PREFIX}-security-2`, undefined],
      ]);
      expect(rules.map((r) => JSON.parse(String(r.inputs['eventPattern'])))).to.deep.equal(expected);
      for (const rule of rules) expect(String(rule.inputs['eventPattern']).length, rule.name).to.be.at.most(2048);
      const queueArn = queueArnOf(oneOfType(plan, T.queue, 'shipscan-security-events-queue'));
      const dlqArn = queueArnOf(oneOfType(plan, T.queue, 'shipscan-security-events-dlq'));
      for (const target of securityResources(plan).filter((r) => r.type === T.target)) {
        expect(target.inputs).to.deep.include({ arn: queueArn, deadLetterConfig: { arn: dlqArn } });
        expect(rules.map((r) => r.id)).to.include(target.inputs['rule']);
      }
      // Exactly these rules may send, to the queue and to its DLQ.
      const ruleArns = rules.map((r) => `arn:aws:events:us-east-1:${ACCOUNT}:rule/${String(r.id)}`);
      for (const name of ['shipscan-security-events-queue', 'shipscan-security-events-dlq']) {
        const send = parsePolicy(oneOfType(plan, T.queuePolicy, name).inputs['policy'], name).Statement.find((s) => s.Sid === 'SecurityEventRulesSend');
        expect(Object.keys(send?.Condition ?? {})).to.deep.equal(['ArnEquals']);
        expect(list(send?.Condition?.['ArnEquals']?.['aws:SourceArn'])).to.have.members(ruleArns);
      }
    });

    it('the planned patterns match every corpus security call and no failed call, Lambda deployment or call no detector handles', () => {
      const patterns = [...securityPatterns(plan).values()];
      const matching = (event: Json) => patterns.filter((p) => matchesPattern(p, event)).length;
      for (const file of SECURITY_CORPUS) {
        const event = asDelivered(firstRecord(file));
        expect(matching(event), file).to.equal(1);
        const failed = structuredClone(event);
        Object.assign(recordIn(failed), { errorCode: 'AccessDenied', errorMessage: 'User is not authorized' });
        expect(matching(failed), `${file} failed`).to.equal(0);
      }
      for (const file of ['cloudtrail-raw-lambda-CreateFunction20150331.elastic.json', 'cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json', 'eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json']) {
        expect(matching(asDelivered(firstRecord(file))), file).to.equal(0);
      }
      // And the deployment rule takes none of the security calls.
      const deployments = JSON.parse(String(oneOfType(plan, T.rule, 'shipscan-deployments').inputs['eventPattern'])) as EventPattern;
      for (const file of SECURITY_CORPUS) expect(matchesPattern(deployments, asDelivered(firstRecord(file))), file).to.equal(false);
    });

    it('over the corpus-derived mix, a call reaches exactly one rule when a detector handles it and it succeeded, otherwise none', () => {
      const patterns = [...securityPatterns(plan).values()];
      let delivered = 0;
      for (const entry of securityEventMix()) {
        const event = asDelivered(entry.input);
        const record = recordIn(event);
        const handled = DEFAULT_REGISTRY.detectorsFor(String(record.eventSource), String(record.eventName)).length > 0 && record.errorCode === undefined;
        const matches = patterns.filter((p) => matchesPattern(p, event)).length;
        expect(matches, entry.name).to.equal(handled ? 1 : 0);
        if (handled) delivered += 1;
      }
      expect(delivered, 'the mix exercises the rules').to.be.greaterThan(30);
    });

    it('runs the function with its settings and no secret in the environment; the runtime accepts what is planned', () => {
      const vars = env(plan);
      const parsed = loadSecurityEventsEnv({ ...vars, AWS_REGION: 'us-east-1' });
      expect(parsed.FINDINGS_TABLE).to.equal(oneOfType(plan, T.table, 'shipscan-findings').id);
      expect(parsed.FINDINGS_TOPIC_ARN).to.equal(oneOfType(plan, T.topic).id);
      expect(parsed.RESULTS_BUCKET).to.equal(oneOfType(plan, T.bucket, 'shipscan-results').id);
      expect(parsed.UNPROCESSABLE_PREFIX).to.equal('security-events/unprocessable');
      expect(parsed.POWERTOOLS_SERVICE_NAME).to.equal('shipscan-security-events');
      expect(parsed.FINDINGS_SETTINGS?.severityThreshold).to.equal('HIGH');
      expect(vars).to.not.have.property('NOTIFY_SECRET_ARN');
      const fn = oneOfType(plan, T.fn, 'shipscan-security-events-fn');
      expect(fn.inputs).to.deep.include({ name: `${PREFIX}-security-events`, memorySize: 512, timeout: 60, handler: 'index.handler', runtime: 'nodejs22.x' });
      expect(oneOfType(plan, T.esm, 'shipscan-security-events-events').inputs).to.deep.include({
        eventSourceArn: queueArnOf(oneOfType(plan, T.queue, 'shipscan-security-events-queue')),
        functionName: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:${PREFIX}-security-events`,
        batchSize: 10,
        functionResponseTypes: ['ReportBatchItemFailures'],
        scalingConfig: { maximumConcurrency: 5 },
      });
    });

    it('grants the role exactly what the handler calls: no describe, no query, no SES without email', () => {
      const doc = rolePolicy(plan);
      const keyArn = String(oneOfType(plan, T.fn, 'shipscan-scanner').inputs['kmsKeyArn']);
      const logGroup = `arn:aws:logs:us-east-1:${ACCOUNT}:log-group:/aws/lambda/${PREFIX}-security-events`;
      expect(bySid(doc.Statement)).to.deep.equal({
        WriteOwnLogs: { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: [logGroup, `${logGroup}:*`], Condition: undefined },
        XRayTraces: { Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*', Condition: undefined },
        PutShipscanMetrics: { Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'Shipscan' } } },
        UseStackKey: { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn, Condition: undefined },
        ConsumeSecurityEvents: { Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: queueArnOf(oneOfType(plan, T.queue, 'shipscan-security-events-queue')), Condition: undefined },
        FindingsItems: { Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/${String(oneOfType(plan, T.table, 'shipscan-findings').id)}`, Condition: undefined },
        PublishFindings: { Action: 'sns:Publish', Resource: oneOfType(plan, T.topic).id, Condition: undefined },
        RecordUnprocessable: { Action: 's3:PutObject', Resource: `arn:aws:s3:::${String(oneOfType(plan, T.bucket, 'shipscan-results').id)}/security-events/unprocessable/*`, Condition: undefined },
      });
      const actions = doc.Statement.flatMap((s) => list(s.Action));
      expect(actions.filter((a) => /:(Describe|List|Get(?!Item|QueueAttributes))/.test(a))).to.deep.equal([]);
    });

    it('alarms on dead letters and detector errors to the findings topic, and draws a dashboard', () => {
      const topic = oneOfType(plan, T.topic).id;
      const alarms = securityResources(plan).filter((r) => r.type === T.alarm);
      const dlqName = String(oneOfType(plan, T.queue, 'shipscan-security-events-dlq').id).split('/').pop();
      expect(alarms.map((a) => [a.inputs['name'], a.inputs['namespace'], a.inputs['metricName'], a.inputs['dimensions'], a.inputs['statistic'], a.inputs['threshold'], a.inputs['alarmActions']])).to.deep.equal([
        [`${PREFIX}-security-dead-letters`, 'AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: dlqName }, 'Maximum', 0, [topic]],
        [`${PREFIX}-security-detector-errors`, 'Shipscan', 'DetectorErrors', { service: 'shipscan-security-events' }, 'Sum', 0, [topic]],
      ]);
      const dashboard = oneOfType(plan, T.dashboard, 'shipscan-security-events-dashboard');
      expect(dashboard.inputs['dashboardName']).to.equal(`${PREFIX}-security-events`);
      const body = JSON.parse(String(dashboard.inputs['dashboardBody'])) as { widgets: { properties: { title: string; metrics: unknown[][] } }[] };
      expect(body.widgets.map((w) => w.properties.title)).to.deep.equal(['Findings opened by severity', 'Findings resolved by severity', 'Events, detector errors, unprocessable and failed records', 'Queue, dead letters and duration']);
      expect(body.widgets[0]?.properties.metrics.map((m) => m[5])).to.deep.equal(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL']);
    });
  });

  describe('hub', () => {
    let plan: PlanResult;
    before(async () => {
      plan = await planMode('hub');
    });

    it('applies the same rules on the default bus and the central bus, all into the one queue', () => {
      const rule = (suffix: string) => oneOfType(plan, T.rule, `shipscan-security-events-${suffix}`);
      const rules = ['security', 'security-2', 'central-security', 'central-security-2'].map(rule);
      expect(rules.map((r) => [r.inputs['name'], r.inputs['eventBusName'] ?? 'default'])).to.deep.equal([
        [`${PREFIX}-security`, 'default'],
        [`${PREFIX}-security-2`, 'default'],
        [`${PREFIX}-central-security`, `${PREFIX}-central`],
        [`${PREFIX}-central-security-2`, `${PREFIX}-central`],
      ]);
      expect(rules[2]?.inputs['eventPattern']).to.equal(rules[0]?.inputs['eventPattern']);
      expect(rules[3]?.inputs['eventPattern']).to.equal(rules[1]?.inputs['eventPattern']);
      const queueArn = queueArnOf(oneOfType(plan, T.queue, 'shipscan-security-events-queue'));
      for (const [index, suffix] of ['security', 'security-2', 'central-security', 'central-security-2'].entries()) {
        const target = oneOfType(plan, T.target, `shipscan-security-events-${suffix}`);
        expect(target.inputs, suffix).to.deep.include({ arn: queueArn, rule: rules[index]!.id });
        expect(target.inputs['eventBusName'], suffix).to.equal(rules[index]!.inputs['eventBusName']);
      }
      const send = parsePolicy(oneOfType(plan, T.queuePolicy, 'shipscan-security-events-queue').inputs['policy'], 'queue policy').Statement.find((s) => s.Sid === 'SecurityEventRulesSend');
      expect(list(send?.Condition?.['ArnEquals']?.['aws:SourceArn'])).to.have.members([
        `arn:aws:events:us-east-1:${ACCOUNT}:rule/${String(rules[0]?.id)}`,
        `arn:aws:events:us-east-1:${ACCOUNT}:rule/${String(rules[1]?.id)}`,
        `arn:aws:events:us-east-1:${ACCOUNT}:rule/${PREFIX}-central/${String(rules[2]?.id)}`,
        `arn:aws:events:us-east-1:${ACCOUNT}:rule/${PREFIX}-central/${String(rules[3]?.id)}`,
      ]);
      expect(counts(securityResources(plan))[T.rule]).to.equal(4);
      expect(checkAwsInvariants(plan, invariantContext(MODES.hub))).to.deep.equal([]);
    });
  });

  describe('spoke', () => {
    let plan: PlanResult;
    before(async () => {
      plan = await planMode('spoke');
    });

    it('forwards the security calls to the hub bus with the forwarder role, with the same patterns as the hub rules', () => {
      const forwards = ofType(plan, T.rule).filter((r) => r.name.startsWith('shipscan-spoke-security'));
      expect(forwards.map((r) => r.name)).to.deep.equal(['shipscan-spoke-security', 'shipscan-spoke-security-2']);
      expect(forwards.map((r) => JSON.parse(String(r.inputs['eventPattern'])))).to.deep.equal(securityEventPatterns(DEFAULT_REGISTRY));
      const forwarder = oneOfType(plan, 'aws:iam/role:Role', 'shipscan-spoke-forwarder');
      for (const name of ['shipscan-spoke-security', 'shipscan-spoke-security-2']) {
        expect(oneOfType(plan, T.target, name).inputs).to.deep.include({ arn: HUB_BUS_ARN, roleArn: `arn:aws:iam::${ACCOUNT}:role/${String(forwarder.id)}`, rule: oneOfType(plan, T.rule, name).id });
      }
      // The forwarder may still only put events on the hub bus.
      expect(ofType(plan, T.rolePolicy).find((p) => p.name === 'shipscan-spoke-forwarder')?.inputs['policy']).to.equal(JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'ForwardToHub', Effect: 'Allow', Action: 'events:PutEvents', Resource: HUB_BUS_ARN }] }));
      expect(plan.resources.filter((r) => r.type === T.component || r.type === T.fn || r.type === T.queue)).to.deep.equal([]);
      expect((plan.outputs['aws'] as Record<string, unknown>)['securityForwardRuleArns']).to.have.length(2);
    });
  });

  describe('notifications configured (SES with a configuration set, a Slack webhook, SMTP)', () => {
    let ses: PlanResult;
    let smtp: PlanResult;
    let disabled: PlanResult;
    let disabledSpoke: PlanResult;
    const sesConfig = awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN, securityEvents: { maxConcurrency: 20, memoryMb: 1024, timeoutSec: 30, maxReceiveCount: 3 } }, QUALYS);
    sesConfig['shipscan:findings'] = {
      severityThreshold: 'CRITICAL',
      email: { from: 'shipscan@alerts.example.com', to: ['secops@example.com'], sesConfigurationSet: 'shipscan-findings' },
      slackWebhookUrl: { secret: SLACK },
      disabledRules: ['aws.signin.root-console-login', 'aws.signin.console-login-without-mfa', 'aws.s3.bucket-public-acl'],
    };
    const smtpConfig = awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN }, QUALYS);
    smtpConfig['shipscan:findings'] = { email: { from: 'shipscan@example.com', to: ['secops@example.com'], smtp: { host: 'smtp.example.com', username: { secret: 'relay-user' }, password: { secret: SMTP_PASSWORD } } } };

    before(async () => {
      const options = { stack: 'prod', env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() } };
      [ses, smtp] = await Promise.all([runPlanDetailed({ ...options, config: sesConfig }), runPlanDetailed({ ...options, config: smtpConfig })]);
      [disabled, disabledSpoke] = await Promise.all([
        runPlanDetailed({ ...options, config: awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN, securityEvents: { enabled: false } }, QUALYS) }),
        runPlanDetailed({
          ...options,
          config: awsConfig({ mode: 'spoke', securityEvents: { enabled: false }, hub: { accountId: '111111111111', eventBusArn: HUB_BUS_ARN, roleArns: ['arn:aws:iam::111111111111:role/shipscan-prod-scanner'], externalId: 'hub-presents-this' } }, null),
        }),
      ]);
    });

    it('keeps the webhook in a KMS-encrypted notify secret the function reads, never in its environment', () => {
      const keyArn = oneOfType(ses, T.fn, 'shipscan-scanner').inputs['kmsKeyArn'];
      const secret = oneOfType(ses, T.secret, 'shipscan-security-events-notify');
      expect(secret.inputs).to.deep.include({ name: `${PREFIX}/notify`, kmsKeyId: keyArn, recoveryWindowInDays: 7 });
      expect(oneOfType(ses, T.secretVersion, 'shipscan-security-events-notify').inputs['secretString']).to.equal('[secret]');
      const vars = env(ses);
      expect(vars['NOTIFY_SECRET_ARN']).to.equal(secret.id);
      // The plan tool fails on any secret value in the plan; this says where it would have been.
      expect(JSON.stringify(ses)).to.not.include('planned-secret-Hq2');
      const settings = loadSecurityEventsEnv({ ...vars, AWS_REGION: 'us-east-1' }).FINDINGS_SETTINGS;
      expect(settings).to.deep.include({ severityThreshold: 'CRITICAL' });
      expect(settings).to.not.have.property('slackWebhookUrl');
      expect(statementOf(ses, 'ReadNotifySecret')).to.deep.equal({ Sid: 'ReadNotifySecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: secret.id });
      expect(checkAwsInvariants(ses, invariantContext(sesConfig))).to.deep.equal([]);
    });

    it('grants ses:SendEmail (the SESv2 call, also for raw MIME) on the sender identity, its domain and the configuration set only', () => {
      expect(statementOf(ses, 'SendFindingEmails')).to.deep.equal({
        Sid: 'SendFindingEmails',
        Effect: 'Allow',
        Action: 'ses:SendEmail',
        Resource: [
          `arn:aws:ses:us-east-1:${ACCOUNT}:identity/shipscan@alerts.example.com`,
          `arn:aws:ses:us-east-1:${ACCOUNT}:identity/alerts.example.com`,
          `arn:aws:ses:us-east-1:${ACCOUNT}:configuration-set/shipscan-findings`,
        ],
      });
      expect(rolePolicy(ses).Statement.flatMap((s) => list(s.Action)).filter((a) => a.startsWith('ses:'))).to.deep.equal(['ses:SendEmail']);
    });

    it('takes sizes and concurrency from aws.securityEvents, and leaves disabled detectors out of the rules', () => {
      expect(oneOfType(ses, T.fn, 'shipscan-security-events-fn').inputs).to.deep.include({ memorySize: 1024, timeout: 30 });
      expect(oneOfType(ses, T.esm, 'shipscan-security-events-events').inputs['scalingConfig']).to.deep.equal({ maximumConcurrency: 20 });
      const queue = oneOfType(ses, T.queue, 'shipscan-security-events-queue');
      expect(queue.inputs['visibilityTimeoutSeconds']).to.equal(180);
      expect((JSON.parse(String(queue.inputs['redrivePolicy'])) as { maxReceiveCount: number }).maxReceiveCount).to.equal(3);
      const patterns = [...securityPatterns(ses).values()];
      const text = JSON.stringify(patterns);
      expect(text).to.not.include('signin.amazonaws.com');
      expect(text).to.not.include('"PutBucketAcl"');
      expect(text).to.include('"PutBucketPolicy"');
    });

    it('with SMTP: the credentials in the notify secret, no SES grant', () => {
      expect(oneOfType(smtp, T.secretVersion, 'shipscan-security-events-notify').inputs['secretString']).to.equal('[secret]');
      expect(JSON.stringify(smtp)).to.not.include(SMTP_PASSWORD);
      const settings = loadSecurityEventsEnv({ ...env(smtp), AWS_REGION: 'us-east-1' }).FINDINGS_SETTINGS;
      expect(settings?.email?.smtp).to.deep.equal({ host: 'smtp.example.com', port: 587, secure: false });
      expect(rolePolicy(smtp).Statement.map((s) => s.Sid)).to.not.include('SendFindingEmails');
      expect(checkAwsInvariants(smtp, invariantContext(smtpConfig))).to.deep.equal([]);
    });

    it('aws.securityEvents.enabled false leaves the pipeline and the spoke forwarding out, and keeps the findings table', () => {
      expect(securityResources(disabled)).to.deep.equal([]);
      expect(ofType(disabled, T.table).map((t) => t.name)).to.deep.equal(['shipscan-cache', 'shipscan-findings']);
      expect(disabled.outputs['aws']).to.not.have.property('securityEventsQueueUrl');
      expect(ofType(disabledSpoke, T.rule).map((r) => r.name)).to.deep.equal(['shipscan-spoke-deployments']);
      expect(disabledSpoke.outputs['aws']).to.not.have.property('securityForwardRuleArns');
    });
  });

  describe('configuration', () => {
    it('validates aws.securityEvents with the key, the value and what is allowed', () => {
      const problem = (securityEvents: Record<string, unknown>) => {
        try {
          validateConfig({ aws: { securityEvents } });
        } catch (error) {
          expect(error).to.be.instanceOf(ConfigError);
          return (error as Error).message;
        }
        throw new Error(`accepted ${JSON.stringify(securityEvents)}`);
      };
      expect(problem({ maxConcurrency: 1 })).to.include('shipscan:aws.securityEvents.maxConcurrency = 1: Too small: expected number to be >=2');
      expect(problem({ memoryMb: 64 })).to.include('shipscan:aws.securityEvents.memoryMb = 64');
      expect(problem({ timeoutSec: 901 })).to.include('shipscan:aws.securityEvents.timeoutSec = 901');
      expect(problem({ maxConcurency: 3 })).to.include('did you mean shipscan:aws.securityEvents.maxConcurrency?');
      expect(validateConfig({}).aws.securityEvents).to.deep.equal({ enabled: true, maxConcurrency: 5, memoryMb: 512, timeoutSec: 60, maxReceiveCount: 5 });
    });

    it('fails the plan, naming the findings settings, when they would not fit the function environment', async () => {
      const config = awsConfig({ mode: 'standalone', qscannerLayerArn: LAYER_ARN }, QUALYS);
      config['shipscan:findings'] = {
        suppressions: Array.from({ length: 40 }, (_, i) => ({ ruleId: 'aws.ec2.sg-open-ingress', resource: `arn:aws:ec2:*:*:security-group/sg-${String(i).padStart(17, '0')}`, reason: 'accepted by the platform team for the load balancer', expiresAt: '2027-12-31T00:00:00Z' })),
      };
      let error: unknown;
      try {
        await runPlanDetailed({ config, stack: 'prod', env: { SHIPSCAN_BUNDLE_DIR: placeholderBundles() } });
      } catch (e) {
        error = e;
      }
      expect(error).to.be.instanceOf(PlanError);
      expect((error as Error).message).to.include('shipscan:findings');
      expect((error as Error).message).to.include('keep suppressions and allow-lists under 2800 characters of JSON');
    });
  });
});

function statementOf(plan: PlanResult, sid: string): Statement {
  const found = rolePolicy(plan).Statement.filter((s) => s.Sid === sid);
  if (found.length !== 1) throw new Error(`expected one statement ${sid}, found ${found.length}`);
  return found[0]!;
}
