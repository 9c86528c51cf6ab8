import { existsSync } from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { ConfigError, type AwsConfig } from '../shared/config';
import { assertBundles } from './bundles';
import { accessLogging, secureBucket, type AccessLogSource } from './buckets';
import { awsContext, METRICS_NAMESPACE, LAMBDA_RUNTIME, LAMBDA_ARCHITECTURE, type AwsContext } from './context';
import { centralBus, deploymentRules } from './deployment-rules';
import { functionAccessStatements, assumeSpokeRolesStatement } from './iam';
import { createKey } from './kms';
import { shipscanFunction } from './lambda';
import { createAlarms, createDashboard, SCANNER_SERVICE_NAME, BULK_SERVICE_NAME } from './monitoring';
import { allowRulesToSend, scanQueues } from './queues';
import { cacheTable, findingsTopic, qualysTokenSecret } from './stores';
import { createTrail } from './trail';
import { ecrPushPattern } from './artifact-patterns';

/**
 * Receives before a scan request is dead-lettered. Waiting for a report or for another invocation's
 * scan of the same code spends receives too (60, 120, 240... s apart), so the budget covers the
 * longest in-flight lock (timeout + 60 s) with room for genuine retries.
 */
const DEFAULT_MAX_RECEIVE_COUNT = 8;

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
  /**
   * Keep the spokes' ExternalIds (the functions' SPOKE_ROLES variable) encrypted in the state.
   * Default true; the composition root passes false only when the stack holds them in plain text.
   */
  secretExternalIds?: boolean;
  /** Messages per scanner invocation (default 1: one scan can take the whole timeout). */
  batchSize?: number;
  /** Receives before a scan request moves to the dead-letter queue (default 8, see DEFAULT_MAX_RECEIVE_COUNT). */
  maxReceiveCount?: number;
  /** Scanner errors per 5 minutes above which the errors alarm fires (default 5). */
  errorAlarmThreshold?: number;
  /** Bulk function memory (MB, default 512) and timeout (s, default 900). */
  bulkMemoryMb?: number;
  bulkTimeoutSec?: number;
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

/** The QScanner layer: the configured layer version, or one published from `qscannerZip`. */
function qscannerLayer(name: string, ctx: AwsContext, cfg: AwsConfig, parent: pulumi.Resource): pulumi.Input<string> {
  if (cfg.qscannerLayerArn) return cfg.qscannerLayerArn;
  const zip = path.resolve(cfg.qscannerZip ?? '');
  if (!cfg.qscannerZip || !existsSync(zip)) {
    throw new ConfigError([{ key: 'aws.qscannerZip', value: cfg.qscannerZip, message: `no such file ${zip} (a zip holding qscanner/qscanner)` }]);
  }
  return new aws.lambda.LayerVersion(
    name,
    {
      layerName: `${ctx.prefix}-qscanner`,
      code: new pulumi.asset.FileArchive(zip),
      compatibleRuntimes: [LAMBDA_RUNTIME],
      compatibleArchitectures: [LAMBDA_ARCHITECTURE],
      description: `Qualys QScanner binary at ${QSCANNER_PATH}`,
    },
    { parent },
  ).arn;
}

/**
 * The Lambda scanner of one account (standalone) or of a whole estate (hub): KMS key, results
 * bucket, cache table, findings topic, Qualys token secret, scan queue + DLQ, scanner and bulk
 * functions, EventBridge rule(s) on the default bus (and the central bus in hub mode), optional
 * trail, S3 server access logs of the results and trail buckets, alarms and a dashboard.
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
  /** The roles that assume spoke roles (scanner, bulk): what a spoke's trust policy names. */
  readonly spokeAccessRoles: aws.iam.Role[];
  readonly rules: aws.cloudwatch.EventRule[];
  readonly centralBus?: aws.cloudwatch.EventBus;
  readonly trail?: aws.cloudtrail.Trail;
  /** Where the results and trail buckets' S3 server access logs go (aws.accessLogging). */
  readonly accessLogsBucket?: aws.s3.Bucket;
  /** The QScanner layer the functions run with (the object scanner shares it). */
  readonly qscannerLayerArn: pulumi.Input<string>;
  /** Buckets of the trails this stack writes (never scanned as artifacts: a loop). */
  readonly trailBuckets: aws.s3.Bucket[] = [];
  /** The organisation trail of S3 object writes (aws.artifacts.createOrgTrail). */
  readonly orgTrail?: aws.cloudtrail.Trail;

  constructor(name: string, args: AwsScannerArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:aws:AwsScanner', name, {}, opts);
    const cfg = args.config;
    if (cfg.mode === 'spoke') throw new Error('AwsScanner deploys standalone and hub stacks; spoke stacks use AwsSpoke');
    assertBundles(cfg.inventory.enabled ? ['scanner', 'bulk', 'inventory'] : ['scanner', 'bulk']);
    const ctx = awsContext(this);
    const scannerName = `${ctx.prefix}-scanner`;
    const bulkName = `${ctx.prefix}-bulk`;
    const trailName = cfg.createTrail ? `${ctx.prefix}-trail` : undefined;
    const artifacts = cfg.artifacts.enabled ? cfg.artifacts : undefined;
    const orgTrailName = artifacts?.createOrgTrail && cfg.organizationId ? `${ctx.prefix}-org-trail` : undefined;

    const key = createKey(
      `${name}-key`,
      ctx,
      { logGroupPrefix: `/aws/lambda/${ctx.prefix}-`, allowEventsAndAlarms: true, ...(trailName ? { trailName } : {}), ...(orgTrailName ? { orgTrailName } : {}) },
      this,
    );
    this.key = key;
    const resultsName = `${name}-results`;
    this.resultsBucket = secureBucket(resultsName, ctx, { key, expireAfterDays: cfg.resultRetentionDays }, this).bucket;
    const loggedBuckets: AccessLogSource[] = [{ name: resultsName, prefix: 'results', bucket: this.resultsBucket }];
    this.cacheTable = cacheTable(`${name}-cache`, ctx, key, this);
    this.findingsTopic = findingsTopic(`${name}-findings`, ctx, key, cfg.alertEmail, this);
    this.qualysSecret = qualysTokenSecret(`${name}-qualys-token`, ctx, key, args.qualys.accessToken, this);
    const queues = scanQueues(name, ctx, key, { functionTimeoutSec: cfg.timeoutSec, maxReceiveCount: args.maxReceiveCount ?? DEFAULT_MAX_RECEIVE_COUNT }, this);
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;
    const layerArn = qscannerLayer(`${name}-qscanner`, ctx, cfg, this);
    this.qscannerLayerArn = layerArn;

    if (cfg.mode === 'hub' && cfg.organizationId && cfg.spokes.length === 0) {
      void pulumi.log.warn(
        'shipscan:aws: the hub accepts events from the whole organization but lists no spokes: functions in other accounts are enqueued but cannot be read (add spokes [{accountId, externalId, roleName}])',
        this,
      );
    }
    const spokes = spokeRoles(ctx, cfg);
    const spokeRoleArns = cfg.spokes.map((_, index) => spokes.apply((roles) => roles[index]?.roleArn ?? ''));
    // The ExternalIds travel in this variable; the role ARNs above stay plain (the IAM policies use them).
    const spokesText = spokes.apply((roles) => JSON.stringify(roles));
    const spokesJson = args.secretExternalIds === false ? spokesText : pulumi.secret(spokesText);
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
          FINDINGS_TOPIC_ARN: this.findingsTopic.arn,
          QUALYS_SECRET_ARN: this.qualysSecret.arn,
          ...qualysEndpoint,
          CACHE_TTL_DAYS: String(cfg.cacheTtlDays),
          SEVERITY_THRESHOLD: cfg.severityThreshold,
          TAG_FUNCTIONS: String(cfg.tagFunctions),
          SELF_FUNCTION_NAMES: selfNames,
          EXCLUDE_PATTERNS: JSON.stringify(cfg.excludePatterns),
          SPOKE_ROLES: spokesJson,
          QSCANNER_PATH,
          // Leave the scan a margin to record its result before the function times out.
          SCAN_TIMEOUT_SEC: String(Math.max(1, cfg.timeoutSec - 30)),
          LOCK_TTL_SEC: String(cfg.timeoutSec + 60),
          METRICS_NAMESPACE,
          POWERTOOLS_SERVICE_NAME: SCANNER_SERVICE_NAME,
          SCAN_QUEUE_URL: this.queue.url,
        },
        statements: [
          ...functionAccessStatements(ctx, { tagFunctions: cfg.tagFunctions, listFunctions: false }),
          {
            Sid: 'ConsumeScanQueue',
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
            Resource: this.queue.arn,
          },
          { Sid: 'CacheItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: this.cacheTable.arn },
          { Sid: 'WriteResults', Effect: 'Allow', Action: 's3:PutObject', Resource: pulumi.interpolate`${this.resultsBucket.arn}/results/*` },
          { Sid: 'PublishFindings', Effect: 'Allow', Action: 'sns:Publish', Resource: this.findingsTopic.arn },
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
        eventSourceArn: this.queue.arn,
        functionName: this.scanner.arn,
        batchSize: args.batchSize ?? 1,
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
        memoryMb: args.bulkMemoryMb ?? 512,
        timeoutSec: args.bulkTimeoutSec ?? 900,
        environment: {
          SCAN_QUEUE_URL: this.queue.url,
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
          { Sid: 'EnqueueScans', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: this.queue.arn },
          assumeSpokeRolesStatement(spokeRoleArns),
        ],
      },
      this,
    );
    this.bulk = bulk.fn;
    this.spokeAccessRoles = [scanner.role, bulk.role];
    if (cfg.bulkSchedule) this.scheduleBulkScan(`${name}-bulk-schedule`, ctx, cfg.bulkSchedule);

    if (cfg.mode === 'hub') this.centralBus = centralBus(`${name}-central`, ctx, cfg, this);
    this.rules = deploymentRules(
      name,
      ctx,
      queues,
      {
        includeConfigurationChanges: cfg.scanOnConfigurationChange,
        ownFunctions: [scannerName, bulkName],
        extraBuses: this.centralBus ? [{ suffix: 'central-deployments', bus: this.centralBus }] : [],
      },
      this,
    );
    // ECR pushes in this account (and, in hub mode, forwarded ones) go to the same scan queue, by digest.
    if (artifacts?.ecrPushes) this.rules.push(...this.ecrPushRules(name, ctx, queues));
    allowRulesToSend(name, queues, this.rules.map((rule) => rule.arn), this);

    if (trailName) {
      const trail = createTrail(`${name}-trail`, ctx, key, trailName, cfg.logRetentionDays, this);
      this.trail = trail.trail;
      this.trailBuckets.push(trail.bucket);
      loggedBuckets.push({ name: trail.bucketName, prefix: 'trail', bucket: trail.bucket });
    }
    if (orgTrailName && cfg.organizationId && artifacts) {
      const prefixes = artifacts.buckets.include.map((bucket) => `arn:aws:s3:::${bucket}/`);
      const trail = createTrail(`${name}-org-trail`, ctx, key, orgTrailName, cfg.logRetentionDays, this, { organizationId: cfg.organizationId, objectArnPrefixes: prefixes });
      this.orgTrail = trail.trail;
      this.trailBuckets.push(trail.bucket);
      loggedBuckets.push({ name: trail.bucketName, prefix: 'org-trail', bucket: trail.bucket });
    }
    if (cfg.accessLogging) this.accessLogsBucket = accessLogging(`${name}-access-logs`, ctx, { expireAfterDays: cfg.logRetentionDays, sources: loggedBuckets }, this).bucket;

    const monitoring = {
      scannerFunctionName: scannerName,
      bulkFunctionName: bulkName,
      timeoutSec: cfg.timeoutSec,
      queueName: this.queue.name,
      deadLetterQueueName: this.deadLetterQueue.name,
      topicArn: this.findingsTopic.arn,
      errorThreshold: args.errorAlarmThreshold ?? 5,
    };
    createAlarms(name, ctx, monitoring, this);
    createDashboard(`${name}-dashboard`, ctx, monitoring, this);

    this.registerOutputs({
      resultsBucket: this.resultsBucket.bucket,
      cacheTable: this.cacheTable.name,
      findingsTopicArn: this.findingsTopic.arn,
      scanQueueUrl: this.queue.url,
      deadLetterQueueUrl: this.deadLetterQueue.url,
      scannerFunction: this.scanner.name,
      bulkFunction: this.bulk.name,
      centralEventBusArn: this.centralBus?.arn,
      accessLogsBucket: this.accessLogsBucket?.bucket,
    });
  }

  /** `ECR Image Action` PUSH/SUCCESS rules on the default bus and the central bus, targeting the scan queue. */
  private ecrPushRules(name: string, ctx: AwsContext, queues: { queue: aws.sqs.Queue; deadLetterQueue: aws.sqs.Queue }): aws.cloudwatch.EventRule[] {
    const buses: { suffix: string; bus?: aws.cloudwatch.EventBus }[] = [{ suffix: 'ecr-pushes' }, ...(this.centralBus ? [{ suffix: 'central-ecr-pushes', bus: this.centralBus }] : [])];
    return buses.map(({ suffix, bus }) => {
      const onBus = bus ? { eventBusName: bus.name } : {};
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${suffix}`,
        { name: `${ctx.prefix}-${suffix}`, description: 'shipscan: images pushed to ECR, scanned by digest', eventPattern: JSON.stringify(ecrPushPattern()), ...onBus, tags: ctx.tags },
        { parent: this },
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${suffix}`,
        { rule: rule.name, ...onBus, arn: queues.queue.arn, retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 }, deadLetterConfig: { arn: queues.deadLetterQueue.arn } },
        { parent: this },
      );
      return rule;
    });
  }

  /** Runs the bulk scan on a schedule; only that rule may invoke the function. */
  private scheduleBulkScan(name: string, ctx: AwsContext, expression: string): void {
    const schedule = new aws.cloudwatch.EventRule(
      name,
      { description: 'shipscan: scheduled bulk scan of existing functions', scheduleExpression: expression, tags: ctx.tags },
      { parent: this },
    );
    new aws.cloudwatch.EventTarget(name, { rule: schedule.name, arn: this.bulk.arn, input: '{}' }, { parent: this });
    new aws.lambda.Permission(
      name,
      { action: 'lambda:InvokeFunction', function: this.bulk.name, principal: 'events.amazonaws.com', sourceArn: schedule.arn, sourceAccount: ctx.accountId },
      { parent: this },
    );
  }
}
