import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ConfigError, type AwsConfig } from '../shared/config';
import type { FindingsConfig } from '../shared/findings/config';
import { notifySecretsOf, withoutNotifySecrets } from '../shared/findings/notify-secrets';
import { AWS_ACTIVITY_DETECTORS, createRegistry, securityEventPatterns, type EventPattern } from '../shared/rules/aws';
import { assertBundles } from './bundles';
import { arn, awsContext, METRICS_NAMESPACE, type AwsContext } from './context';
import { shipscanFunction } from './lambda';
import type { PolicyStatement } from './policy';
import { allowRulesToSend, scanQueues, type ScanQueues } from './queues';

/**
 * Security-event detection on AWS (issue 14): CloudTrail -> EventBridge rule(s) rendered from the detector
 * registry (the default bus, and the hub's central bus that spokes forward to) -> SQS + DLQ (stack key) ->
 * the `security-events` Lambda -> findings (the shared DynamoDB table), notifications (the findings topic,
 * SES email or SMTP, Slack / Teams), metrics, alarms, a dashboard.
 */

export const SECURITY_EVENTS_SERVICE_NAME = 'shipscan-security-events';
export const UNPROCESSABLE_PREFIX = 'security-events/unprocessable';

/**
 * Lambda holds at most 4 KB of environment; the other variables take well under 1 KB, so the findings
 * settings (suppressions and allow-lists, mostly) get this much. A bigger config fails preview, naming it.
 */
const SETTINGS_MAX_CHARS = 2800;

/**
 * The rule patterns: the registry's events minus `findings.disabledRules`, so a disabled detector's calls
 * never reach the queue. Each pattern is at most 2048 characters (one rule each).
 */
export function securityPatternsFor(findings: Pick<FindingsConfig, 'disabledRules'>): EventPattern[] {
  return securityEventPatterns(createRegistry(AWS_ACTIVITY_DETECTORS, { disabledRules: findings.disabledRules }));
}

/** `security`, `security-2`...: one rule per pattern, names short enough for the 64-character limit. */
export function securityRuleSuffix(index: number, bus?: 'central'): string {
  return `${bus ? `${bus}-` : ''}security${index === 0 ? '' : `-${index + 1}`}`;
}

export interface AwsSecurityEventsArgs {
  /** Validated `shipscan:aws` config (standalone or hub): log retention and `securityEvents`. */
  config: AwsConfig;
  /** `shipscan:findings`: recipients, threshold, suppressions, allow-lists, channel secrets. */
  findings: FindingsConfig;
  /** The stack key (AwsScanner.key): queues, log group, environment, the notify secret. */
  key: aws.kms.Key;
  /** Where notices go (AwsScanner.findingsTopic; its policy lets this stack's alarms publish too). */
  findingsTopic: aws.sns.Topic;
  /** Unprocessable events are recorded under `security-events/unprocessable/` here (AwsScanner.resultsBucket). */
  resultsBucket: aws.s3.Bucket;
  /** The stack's findings table (aws/findings-table.ts, created once in deployAws). */
  findingsTable: aws.dynamodb.Table;
  /** Hub mode: the central bus spokes forward to (AwsScanner.centralBus). */
  centralBus?: aws.cloudwatch.EventBus;
}

/** The SES resources `ses:SendEmail` is checked against: the sender as an address and as a domain identity, and the configuration set. */
export function sesResources(ctx: AwsContext, email: NonNullable<FindingsConfig['email']>): pulumi.Output<string>[] {
  const domain = email.from.slice(email.from.lastIndexOf('@') + 1);
  // SES authorises against the verified identity the sender falls under: the address itself, or its domain.
  const resources = [arn(ctx, 'ses', `identity/${email.from}`), arn(ctx, 'ses', `identity/${domain}`)];
  if (email.sesConfigurationSet) resources.push(arn(ctx, 'ses', `configuration-set/${email.sesConfigurationSet}`));
  return resources;
}

/**
 * The role's permissions beyond logs, traces, metrics and the stack key (shipscanFunction adds those):
 * exactly what the handler calls. No describe call: the detectors read the event only.
 */
export function securityEventsStatements(
  ctx: AwsContext,
  args: { queueArn: pulumi.Input<string>; tableArn: pulumi.Input<string>; topicArn: pulumi.Input<string>; bucketArn: pulumi.Input<string>; notifySecretArn?: pulumi.Input<string>; email?: FindingsConfig['email'] },
): PolicyStatement[] {
  const statements: PolicyStatement[] = [
    // What the SQS event source mapping needs of the function's role.
    { Sid: 'ConsumeSecurityEvents', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes'], Resource: args.queueArn },
    // The recorder reads, writes conditionally and claims / settles notices (functions/aws/findings-store.ts);
    // it never queries, so no index is named.
    { Sid: 'FindingsItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'], Resource: args.tableArn },
    { Sid: 'PublishFindings', Effect: 'Allow', Action: 'sns:Publish', Resource: args.topicArn },
    { Sid: 'RecordUnprocessable', Effect: 'Allow', Action: 's3:PutObject', Resource: pulumi.interpolate`${args.bucketArn}/${UNPROCESSABLE_PREFIX}/*` },
  ];
  if (args.notifySecretArn) statements.push({ Sid: 'ReadNotifySecret', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: args.notifySecretArn });
  // SESv2 SendEmail (Nodemailer sends Content.Raw through it) is authorised by ses:SendEmail alone:
  // SendRawEmail is an SES v1 operation this function never calls.
  if (args.email && !args.email.smtp) statements.push({ Sid: 'SendFindingEmails', Effect: 'Allow', Action: 'ses:SendEmail', Resource: sesResources(ctx, args.email) });
  return statements;
}

export interface SecurityAlarmSpec {
  suffix: string;
  description: string;
  namespace: string;
  metricName: string;
  dimensions: Record<string, pulumi.Input<string>>;
  statistic: 'Sum' | 'Maximum';
  threshold: number;
}

/** The alarms, as data (tests and the README state them). Each notifies the findings topic. */
export function securityAlarmSpecs(deadLetterQueueName: pulumi.Input<string>): SecurityAlarmSpec[] {
  return [
    {
      suffix: 'security-dead-letters',
      description: 'security events reached the dead-letter queue (the findings store, a channel, the notify secret or S3 kept failing)',
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: deadLetterQueueName },
      statistic: 'Maximum',
      threshold: 0,
    },
    {
      suffix: 'security-detector-errors',
      description: 'a security-event detector failed (the other detectors of the event were recorded)',
      namespace: METRICS_NAMESPACE,
      metricName: 'DetectorErrors',
      dimensions: { service: SECURITY_EVENTS_SERVICE_NAME },
      statistic: 'Sum',
      threshold: 0,
    },
  ];
}

const SEVERITIES_SHOWN = ['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL'];

function dashboardBody(region: string, queue: string, dlq: string, functionName: string): string {
  const service = ['service', SECURITY_EVENTS_SERVICE_NAME];
  const bySeverity = (metric: string) => SEVERITIES_SHOWN.map((severity) => [METRICS_NAMESPACE, metric, ...service, 'Severity', severity]);
  return JSON.stringify({
    widgets: [
      { type: 'metric', x: 0, y: 0, width: 12, height: 6, properties: { title: 'Findings opened by severity', region, stat: 'Sum', period: 300, view: 'timeSeries', stacked: true, metrics: bySeverity('FindingsOpened') } },
      { type: 'metric', x: 12, y: 0, width: 12, height: 6, properties: { title: 'Findings resolved by severity', region, stat: 'Sum', period: 300, view: 'timeSeries', stacked: true, metrics: bySeverity('FindingsResolved') } },
      {
        type: 'metric', x: 0, y: 6, width: 12, height: 6,
        properties: {
          title: 'Events, detector errors, unprocessable and failed records', region, stat: 'Sum', period: 300, view: 'timeSeries',
          metrics: ['EventsEvaluated', 'DetectorErrors', 'MalformedEvents', 'UnknownEvents', 'RecordFailures'].map((name) => [METRICS_NAMESPACE, name, ...service]),
        },
      },
      {
        type: 'metric', x: 12, y: 6, width: 12, height: 6,
        properties: {
          title: 'Queue, dead letters and duration', region, period: 300, view: 'timeSeries',
          metrics: [
            ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', queue, { stat: 'Maximum' }],
            ['AWS/SQS', 'ApproximateNumberOfMessagesVisible', 'QueueName', dlq, { stat: 'Maximum' }],
            ['AWS/Lambda', 'Duration', 'FunctionName', functionName, { stat: 'p95', yAxis: 'right' }],
          ],
        },
      },
    ],
  });
}

/**
 * The security-events pipeline of a standalone or hub stack. Rules are named `<prefix>-security[-n]` (and
 * `<prefix>-central-security[-n]` on the central bus); the queue policy lets exactly them send, and the
 * stack key lets EventBridge encrypt into the queues (aws/kms.ts).
 */
export class AwsSecurityEvents extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly rules: aws.cloudwatch.EventRule[];
  readonly fn: aws.lambda.Function;
  readonly role: aws.iam.Role;
  /** The SMTP credentials and webhook URLs, when the findings config sets any. */
  readonly notifySecret?: aws.secretsmanager.Secret;

  constructor(name: string, args: AwsSecurityEventsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:aws:AwsSecurityEvents', name, {}, opts);
    const cfg = args.config;
    const settings = cfg.securityEvents;
    if (cfg.mode === 'spoke') throw new Error('AwsSecurityEvents deploys standalone and hub stacks; spokes forward the events (AwsSpoke)');
    assertBundles(['security-events']);
    const ctx = awsContext(this);
    const parent = { parent: this };
    const functionName = `${ctx.prefix}-security-events`;

    const settingsJson = JSON.stringify(withoutNotifySecrets(args.findings));
    if (settingsJson.length > SETTINGS_MAX_CHARS) {
      throw new ConfigError([
        {
          key: 'findings',
          value: `${settingsJson.length} characters of settings`,
          message: `the security-events function carries the findings settings in its environment (4 KB in all); keep suppressions and allow-lists under ${SETTINGS_MAX_CHARS} characters of JSON`,
        },
      ]);
    }

    const queues: ScanQueues = scanQueues(name, ctx, args.key, { functionTimeoutSec: settings.timeoutSec, maxReceiveCount: settings.maxReceiveCount, suffix: 'queue' }, this);
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;

    const secrets = notifySecretsOf(args.findings);
    if (secrets) {
      this.notifySecret = new aws.secretsmanager.Secret(
        `${name}-notify`,
        { name: `${ctx.prefix}/notify`, description: 'shipscan finding notifications: SMTP credentials and webhook URLs', kmsKeyId: args.key.arn, recoveryWindowInDays: 7, tags: ctx.tags },
        parent,
      );
      new aws.secretsmanager.SecretVersion(`${name}-notify`, { secretId: this.notifySecret.id, secretString: pulumi.secret(JSON.stringify(secrets)) }, parent);
    }

    const fn = shipscanFunction(
      `${name}-fn`,
      ctx,
      {
        bundle: 'security-events',
        functionName,
        key: args.key,
        logRetentionDays: cfg.logRetentionDays,
        memoryMb: settings.memoryMb,
        timeoutSec: settings.timeoutSec,
        environment: {
          FINDINGS_TABLE: args.findingsTable.name,
          FINDINGS_TOPIC_ARN: args.findingsTopic.arn,
          RESULTS_BUCKET: args.resultsBucket.bucket,
          FINDINGS_SETTINGS: settingsJson,
          ...(this.notifySecret ? { NOTIFY_SECRET_ARN: this.notifySecret.arn } : {}),
          UNPROCESSABLE_PREFIX,
          METRICS_NAMESPACE,
          POWERTOOLS_SERVICE_NAME: SECURITY_EVENTS_SERVICE_NAME,
        },
        statements: securityEventsStatements(ctx, {
          queueArn: this.queue.arn,
          tableArn: args.findingsTable.arn,
          topicArn: args.findingsTopic.arn,
          bucketArn: args.resultsBucket.arn,
          ...(this.notifySecret ? { notifySecretArn: this.notifySecret.arn } : {}),
          email: args.findings.email,
        }),
      },
      this,
    );
    this.fn = fn.fn;
    this.role = fn.role;
    new aws.lambda.EventSourceMapping(
      `${name}-events`,
      {
        eventSourceArn: this.queue.arn,
        functionName: this.fn.arn,
        // One record is one event and takes milliseconds: batches keep invocations few in a burst.
        batchSize: 10,
        functionResponseTypes: ['ReportBatchItemFailures'],
        scalingConfig: { maximumConcurrency: settings.maxConcurrency },
      },
      parent,
    );

    const patterns = securityPatternsFor(args.findings).map((pattern) => JSON.stringify(pattern));
    const buses: { bus?: aws.cloudwatch.EventBus; label?: 'central' }[] = [{}, ...(args.centralBus ? [{ bus: args.centralBus, label: 'central' as const }] : [])];
    this.rules = buses.flatMap(({ bus, label }) =>
      patterns.map((pattern, index) => {
        const suffix = securityRuleSuffix(index, label);
        const onBus = bus ? { eventBusName: bus.name } : {};
        const rule = new aws.cloudwatch.EventRule(
          `${name}-${suffix}`,
          {
            name: `${ctx.prefix}-${suffix}`,
            description: `shipscan: risky API calls for the security-event detectors (CloudTrail), part ${index + 1} of ${patterns.length}`,
            eventPattern: pattern,
            ...onBus,
            tags: ctx.tags,
          },
          parent,
        );
        new aws.cloudwatch.EventTarget(
          `${name}-${suffix}`,
          {
            rule: rule.name,
            ...onBus,
            arn: this.queue.arn,
            retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
            deadLetterConfig: { arn: this.deadLetterQueue.arn },
          },
          parent,
        );
        return rule;
      }),
    );
    allowRulesToSend(name, queues, this.rules.map((rule) => rule.arn), this, { queueSuffix: 'queue', sid: 'SecurityEventRulesSend' });

    for (const spec of securityAlarmSpecs(this.deadLetterQueue.name)) {
      new aws.cloudwatch.MetricAlarm(
        `${name}-${spec.suffix}`,
        {
          name: `${ctx.prefix}-${spec.suffix}`,
          alarmDescription: `shipscan: ${spec.description}`,
          namespace: spec.namespace,
          metricName: spec.metricName,
          dimensions: spec.dimensions,
          statistic: spec.statistic,
          period: 300,
          evaluationPeriods: 1,
          threshold: spec.threshold,
          comparisonOperator: 'GreaterThanThreshold',
          treatMissingData: 'notBreaching',
          alarmActions: [args.findingsTopic.arn],
          okActions: [args.findingsTopic.arn],
          tags: ctx.tags,
        },
        parent,
      );
    }
    new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName: `${ctx.prefix}-security-events`,
        dashboardBody: pulumi.all([ctx.region, this.queue.name, this.deadLetterQueue.name]).apply(([region, queue, dlq]) => dashboardBody(region, queue, dlq, functionName)),
      },
      parent,
    );

    this.registerOutputs({
      queueUrl: this.queue.url,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      functionName: this.fn.name,
      ruleArns: this.rules.map((rule) => rule.arn),
    });
  }
}
