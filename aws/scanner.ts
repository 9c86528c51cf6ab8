import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ConfigError, type AwsConfig } from '../shared/config';
import { assertBundles } from './bundles';
import { awsContext, arn, METRICS_NAMESPACE, LAMBDA_RUNTIME, LAMBDA_ARCHITECTURE, type AwsContext } from './context';
import { lambdaEventPattern } from './event-pattern';
import { functionAccessStatements, assumeSpokeRolesStatement } from './iam';
import { createKey } from './kms';
import { secureBucket } from './buckets';
import { shipscanFunction } from './lambda';
import { createAlarms, createDashboard, SCANNER_SERVICE_NAME, BULK_SERVICE_NAME } from './monitoring';
import { denyInsecureTransport, policyDocument, policyJson } from './policy';
import { createTrail } from './trail';

export const QSCANNER_PATH = '/opt/qscanner/qscanner';

export interface QualysSettings {
  pod?: string;
  gateway?: string;
  /** Wrapped in pulumi.secret() by the component whatever it is given. */
  accessToken: pulumi.Input<string>;
}

export interface AwsScannerArgs {
  /** Validated `shipscan:aws` config (mode standalone or hub). */
  config: AwsConfig;
  qualys: QualysSettings;
  /** Messages per scanner invocation (default 1: one scan can take the whole timeout). */
  batchSize?: number;
  /** Receives before a scan request moves to the dead-letter queue (default 5). */
  maxReceiveCount?: number;
  /** Scanner errors per 5 minutes above which the errors alarm fires (default 5). */
  errorAlarmThreshold?: number;
}

export interface SpokeRoleRef {
  accountId: string;
  roleArn: string;
  externalId: string;
}

/** Role ARNs of the configured spokes (hub mode), with the ExternalId each one expects. */
export function spokeRoles(ctx: AwsContext, config: AwsConfig): pulumi.Output<SpokeRoleRef[]> {
  return ctx.partition.apply((partition) =>
    config.spokes.map((spoke) => ({ accountId: spoke.accountId, roleArn: `arn:${partition}:iam::${spoke.accountId}:role/${spoke.roleName}`, externalId: spoke.externalId })),
  );
}

/**
 * The Lambda scanner of one account (standalone) or of a whole estate (hub): KMS key, results
 * bucket, cache table, findings topic, Qualys token secret, scan queue + DLQ, scanner and bulk
 * functions, EventBridge rule(s) on the default bus (and the central bus in hub mode), optional
 * trail, alarms and a dashboard.
 */
export class AwsScanner extends pulumi.ComponentResource {
  readonly key: aws.kms.Key;
  readonly resultsBucket: aws.s3.Bucket;
  readonly cacheTable: aws.dynamodb.Table;
  readonly findingsTopic: aws.sns.Topic;
  readonly qualysSecret: aws.secretsmanager.Secret;
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly scanner: aws.lambda.Function;
  readonly bulk: aws.lambda.Function;
  readonly rules: aws.cloudwatch.EventRule[];
  readonly centralBus?: aws.cloudwatch.EventBus;
  readonly trail?: aws.cloudtrail.Trail;

  constructor(name: string, args: AwsScannerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:aws:AwsScanner', name, {}, opts);
    const cfg = args.config;
    if (cfg.mode === 'spoke') throw new Error('AwsScanner deploys standalone and hub stacks; spoke stacks use AwsSpoke');
    assertBundles(['scanner', 'bulk']);
    const ctx = awsContext(this);
    const scannerName = `${ctx.prefix}-scanner`;
    const bulkName = `${ctx.prefix}-bulk`;
    const trailName = cfg.createTrail ? `${ctx.prefix}-trail` : undefined;
    const batchSize = args.batchSize ?? 1;
    const maxReceiveCount = args.maxReceiveCount ?? 5;

    this.key = createKey(`${name}-key`, ctx, { logGroupPrefix: `/aws/lambda/${ctx.prefix}-`, allowEventsAndAlarms: true, ...(trailName ? { trailName } : {}) }, this);
    const key = this.key;

    this.resultsBucket = secureBucket(`${name}-results`, ctx, { key, expireAfterDays: cfg.resultRetentionDays }, this).bucket;

    this.cacheTable = new aws.dynamodb.Table(
      `${name}-cache`,
      {
        billingMode: 'PAY_PER_REQUEST',
        hashKey: 'pk',
        attributes: [{ name: 'pk', type: 'S' }],
        ttl: { attributeName: 'expiresAt', enabled: true },
        pointInTimeRecovery: { enabled: true },
        serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
        tags: ctx.tags,
      },
      { parent: this },
    );

    this.findingsTopic = new aws.sns.Topic(`${name}-findings`, { kmsMasterKeyId: key.arn, tags: ctx.tags }, { parent: this });
    const topic = this.findingsTopic;
    new aws.sns.TopicPolicy(
      `${name}-findings`,
      {
        arn: topic.arn,
        policy: policyJson(
          policyDocument([
            {
              Sid: 'AlarmsPublish',
              Effect: 'Allow',
              Principal: { Service: 'cloudwatch.amazonaws.com' },
              Action: 'sns:Publish',
              Resource: topic.arn,
              Condition: { ArnLike: { 'aws:SourceArn': arn(ctx, 'cloudwatch', 'alarm:*') } },
            },
            denyInsecureTransport([topic.arn], 'sns:Publish'),
          ]),
        ),
      },
      { parent: this },
    );
    if (cfg.alertEmail) {
      new aws.sns.TopicSubscription(`${name}-findings-email`, { topic: topic.arn, protocol: 'email', endpoint: cfg.alertEmail }, { parent: this });
    }

    this.qualysSecret = new aws.secretsmanager.Secret(
      `${name}-qualys-token`,
      { name: `${ctx.prefix}/qualys-token`, description: 'Qualys access token for QScanner', kmsKeyId: key.arn, recoveryWindowInDays: 7, tags: ctx.tags },
      { parent: this },
    );
    new aws.secretsmanager.SecretVersion(
      `${name}-qualys-token`,
      { secretId: this.qualysSecret.id, secretString: pulumi.secret(pulumi.output(args.qualys.accessToken).apply((accessToken) => JSON.stringify({ accessToken }))) },
      { parent: this },
    );

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { kmsMasterKeyId: key.arn, kmsDataKeyReusePeriodSeconds: 300, messageRetentionSeconds: 14 * 24 * 3600, tags: ctx.tags },
      { parent: this },
    );
    const dlq = this.deadLetterQueue;
    this.queue = new aws.sqs.Queue(
      `${name}-scans`,
      {
        kmsMasterKeyId: key.arn,
        kmsDataKeyReusePeriodSeconds: 300,
        // AWS's guidance for Lambda consumers: at least six times the function timeout.
        visibilityTimeoutSeconds: Math.min(43_200, 6 * cfg.timeoutSec),
        messageRetentionSeconds: 4 * 24 * 3600,
        receiveWaitTimeSeconds: 20,
        redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
        tags: ctx.tags,
      },
      { parent: this },
    );
    const queue = this.queue;

    let layerArn: pulumi.Input<string>;
    if (cfg.qscannerLayerArn) {
      layerArn = cfg.qscannerLayerArn;
    } else {
      const zip = path.resolve(cfg.qscannerZip ?? '');
      if (!cfg.qscannerZip || !existsSync(zip)) {
        throw new ConfigError([{ key: 'aws.qscannerZip', value: cfg.qscannerZip, message: `no such file ${zip} (a zip holding qscanner/qscanner)` }]);
      }
      layerArn = new aws.lambda.LayerVersion(
        `${name}-qscanner`,
        {
          layerName: `${ctx.prefix}-qscanner`,
          code: new pulumi.asset.FileArchive(zip),
          compatibleRuntimes: [LAMBDA_RUNTIME],
          compatibleArchitectures: [LAMBDA_ARCHITECTURE],
          description: 'Qualys QScanner binary at /opt/qscanner/qscanner',
        },
        { parent: this },
      ).arn;
    }

    if (cfg.mode === 'hub' && cfg.organizationId && cfg.spokes.length === 0) {
      void pulumi.log.warn(
        'shipscan:aws: the hub accepts events from the whole organization but lists no spokes: functions in other accounts are enqueued but cannot be read (add spokes [{accountId, externalId, roleName}])',
        this,
      );
    }
    const spokes = spokeRoles(ctx, cfg);
    const spokeRoleArns = cfg.spokes.map((_, index) => spokes.apply((roles) => roles[index]?.roleArn ?? ''));
    const spokesJson = spokes.apply((roles) => JSON.stringify(roles));
    const selfNames = `${scannerName},${bulkName}`;
    const qualysEndpoint: Record<string, string> = args.qualys.gateway ? { QUALYS_GATEWAY: args.qualys.gateway } : { QUALYS_POD: args.qualys.pod ?? '' };

    const scanner = shipscanFunction(
      `${name}-scanner`,
      ctx,
      {
        bundle: 'scanner',
        functionName: scannerName,
        key,
        logRetentionDays: cfg.logRetentionDays,
        memoryMb: cfg.memoryMb,
        timeoutSec: cfg.timeoutSec,
        ephemeralMb: cfg.ephemeralMb,
        layers: [layerArn],
        environment: {
          RESULTS_BUCKET: this.resultsBucket.bucket,
          CACHE_TABLE: this.cacheTable.name,
          FINDINGS_TOPIC_ARN: topic.arn,
          QUALYS_SECRET_ARN: this.qualysSecret.arn,
          ...qualysEndpoint,
          CACHE_TTL_DAYS: String(cfg.cacheTtlDays),
          SEVERITY_THRESHOLD: cfg.severityThreshold,
          TAG_FUNCTIONS: String(cfg.tagFunctions),
          SELF_FUNCTION_NAMES: selfNames,
          SPOKE_ROLES: spokesJson,
          QSCANNER_PATH,
          // Leave the scan a margin to record its result before the function times out.
          SCAN_TIMEOUT_SEC: String(Math.max(1, cfg.timeoutSec - 30)),
          LOCK_TTL_SEC: String(cfg.timeoutSec + 60),
          METRICS_NAMESPACE,
          POWERTOOLS_SERVICE_NAME: SCANNER_SERVICE_NAME,
          SCAN_QUEUE_URL: queue.url,
        },
        statements: [
          ...functionAccessStatements(ctx, { tagFunctions: cfg.tagFunctions, listFunctions: false }),
          {
            Sid: 'ConsumeScanQueue',
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
            Resource: queue.arn,
          },
          { Sid: 'CacheItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: this.cacheTable.arn },
          { Sid: 'WriteResults', Effect: 'Allow', Action: 's3:PutObject', Resource: pulumi.interpolate`${this.resultsBucket.arn}/results/*` },
          { Sid: 'PublishFindings', Effect: 'Allow', Action: 'sns:Publish', Resource: topic.arn },
          { Sid: 'ReadQualysToken', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: this.qualysSecret.arn },
          assumeSpokeRolesStatement(spokeRoleArns),
        ],
      },
      this,
    );
    this.scanner = scanner.fn;
    new aws.lambda.EventSourceMapping(
      `${name}-scans`,
      {
        eventSourceArn: queue.arn,
        functionName: scanner.fn.arn,
        batchSize,
        functionResponseTypes: ['ReportBatchItemFailures'],
        scalingConfig: { maximumConcurrency: cfg.maxConcurrency },
      },
      { parent: this },
    );

    const bulk = shipscanFunction(
      `${name}-bulk`,
      ctx,
      {
        bundle: 'bulk',
        functionName: bulkName,
        key,
        logRetentionDays: cfg.logRetentionDays,
        memoryMb: 512,
        timeoutSec: 900,
        environment: {
          SCAN_QUEUE_URL: queue.url,
          EXCLUDE_PATTERNS: JSON.stringify(cfg.excludePatterns),
          SPOKE_ROLES: spokesJson,
          REGIONS: ctx.region,
          SELF_FUNCTION_NAMES: selfNames,
          METRICS_NAMESPACE,
          POWERTOOLS_SERVICE_NAME: BULK_SERVICE_NAME,
        },
        statements: [
          { Sid: 'ListFunctions', Effect: 'Allow', Action: 'lambda:ListFunctions', Resource: '*' },
          { Sid: 'FindExcludedByTag', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' },
          { Sid: 'EnqueueScans', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue.arn },
          assumeSpokeRolesStatement(spokeRoleArns),
        ],
      },
      this,
    );
    this.bulk = bulk.fn;
    if (cfg.bulkSchedule) {
      const schedule = new aws.cloudwatch.EventRule(
        `${name}-bulk-schedule`,
        { description: 'shipscan: scheduled bulk scan of existing functions', scheduleExpression: cfg.bulkSchedule, tags: ctx.tags },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(`${name}-bulk-schedule`, { rule: schedule.name, arn: bulk.fn.arn, input: '{}' }, { parent: this });
      new aws.lambda.Permission(
        `${name}-bulk-schedule`,
        { action: 'lambda:InvokeFunction', function: bulk.fn.name, principal: 'events.amazonaws.com', sourceArn: schedule.arn, sourceAccount: ctx.accountId },
        { parent: this },
      );
    }

    // Deployments: the default bus of this account, plus the central bus spokes forward to (hub).
    const ownFunctions = pulumi
      .all([ctx.partition, ctx.region, ctx.accountId])
      .apply(([partition, region, account]) => [scannerName, bulkName].flatMap((fn) => [fn, `arn:${partition}:lambda:${region}:${account}:function:${fn}`]));
    const pattern = ownFunctions.apply((excludeFunctions) =>
      JSON.stringify(lambdaEventPattern({ includeConfigurationChanges: cfg.scanOnConfigurationChange, excludeFunctions })),
    );
    const buses: { suffix: string; bus?: aws.cloudwatch.EventBus }[] = [{ suffix: 'deployments' }];
    if (cfg.mode === 'hub') {
      this.centralBus = new aws.cloudwatch.EventBus(`${name}-central`, { name: `${ctx.prefix}-central`, tags: ctx.tags }, { parent: this });
      const bus = this.centralBus;
      const spokeAccounts = cfg.spokes.map((spoke) => pulumi.interpolate`arn:${ctx.partition}:iam::${spoke.accountId}:root`);
      new aws.cloudwatch.EventBusPolicy(
        `${name}-central`,
        {
          eventBusName: bus.name,
          policy: policyJson(
            policyDocument([
              spokeAccounts.length > 0 && { Sid: 'SpokeAccountsPutEvents', Effect: 'Allow', Principal: { AWS: spokeAccounts }, Action: 'events:PutEvents', Resource: bus.arn },
              cfg.organizationId !== undefined && {
                Sid: 'OrganizationPutEvents',
                Effect: 'Allow',
                Principal: '*',
                Action: 'events:PutEvents',
                Resource: bus.arn,
                Condition: { StringEquals: { 'aws:PrincipalOrgID': cfg.organizationId } },
              },
            ]),
          ),
        },
        { parent: this },
      );
      buses.push({ suffix: 'central-deployments', bus });
    }
    this.rules = buses.map(({ suffix, bus }) => {
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${suffix}`,
        {
          description: 'shipscan: Lambda functions created or updated (CloudTrail)',
          eventPattern: pattern,
          ...(bus ? { eventBusName: bus.name } : {}),
          tags: ctx.tags,
        },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${suffix}`,
        {
          rule: rule.name,
          ...(bus ? { eventBusName: bus.name } : {}),
          arn: queue.arn,
          retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
          deadLetterConfig: { arn: dlq.arn },
        },
        { parent: this },
      );
      return rule;
    });
    const ruleArns = this.rules.map((rule) => rule.arn);
    for (const [suffix, target] of [['scans', queue], ['dlq', dlq]] as const) {
      new aws.sqs.QueuePolicy(
        `${name}-${suffix}`,
        {
          queueUrl: target.url,
          policy: policyJson(
            policyDocument([
              {
                Sid: 'DeploymentRulesSend',
                Effect: 'Allow',
                Principal: { Service: 'events.amazonaws.com' },
                Action: 'sqs:SendMessage',
                Resource: target.arn,
                Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
              },
              denyInsecureTransport([target.arn], 'sqs:*'),
            ]),
          ),
        },
        { parent: this },
      );
    }

    if (trailName) this.trail = createTrail(`${name}-trail`, ctx, key, trailName, cfg.logRetentionDays, this);

    const monitoring = {
      scannerFunctionName: scannerName,
      bulkFunctionName: bulkName,
      timeoutSec: cfg.timeoutSec,
      queueName: queue.name,
      deadLetterQueueName: dlq.name,
      topicArn: topic.arn,
      errorThreshold: args.errorAlarmThreshold ?? 5,
    };
    createAlarms(name, ctx, monitoring, this);
    createDashboard(`${name}-dashboard`, ctx, monitoring, this);

    this.registerOutputs({
      resultsBucket: this.resultsBucket.bucket,
      cacheTable: this.cacheTable.name,
      findingsTopicArn: topic.arn,
      scanQueueUrl: queue.url,
      deadLetterQueueUrl: dlq.url,
      scannerFunction: this.scanner.name,
      bulkFunction: this.bulk.name,
      centralEventBusArn: this.centralBus?.arn,
    });
  }
}
