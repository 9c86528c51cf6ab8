import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsConfig } from '../shared/config';
import { assertBundles } from './bundles';
import { awsContext, METRICS_NAMESPACE, type AwsContext } from './context';
import { objectCreatedPattern, objectWritePattern, type ObjectPatternOptions } from './artifact-patterns';
import { shipscanFunction } from './lambda';
import { policyDocument, policyJson, type PolicyStatement } from './policy';
import { allowRulesToSend, scanQueues } from './queues';
import { QSCANNER_PATH, type AwsScanner } from './scanner';
import { forwarderTemplate } from './stackset-template';

/** Receives before an object event is dead-lettered (a busy lock or a not-ready report spends receives too). */
const OBJECT_MAX_RECEIVE_COUNT = 6;
export const OBJECTS_SERVICE_NAME = 'shipscan-objects';

export interface AwsArtifactsArgs {
  config: AwsConfig;
  /** The stack's scanner: its key, cache table, results bucket, Qualys secret, layer, central bus and own buckets. */
  scanner: AwsScanner;
  qualys: { pod?: string; gateway?: string };
  secretExternalIds?: boolean;
}

/** The bucket ARNs object reads are limited to: the configured buckets, or every bucket when the stack says so. */
export function objectReadResources(cfg: AwsConfig['artifacts'], partition: pulumi.Input<string> = 'aws'): pulumi.Output<string>[] {
  if (cfg.buckets.include.length === 0 && cfg.allBuckets) return [pulumi.interpolate`arn:${partition}:s3:::*/*`];
  return cfg.buckets.include.map((bucket) => pulumi.interpolate`arn:${partition}:s3:::${bucket}/*`);
}

/**
 * New-artifact scanning of a standalone or hub stack: the object queue (+ DLQ, stack key), the object scanner
 * Lambda (QScanner layer, ephemeral storage sized for the object and its extraction, maximum concurrency), rules
 * for S3 object writes (CloudTrail data events) and S3 "Object Created" events on the default bus and, in hub
 * mode, on the central bus (its policy admits the organisation or the listed accounts only), and for a whole
 * organisation a service-managed StackSet with auto-deployment that puts the forwarding rule and the reader role
 * into every account of the configured OUs. ECR pushes go to the scanner's own queue (AwsScanner).
 */
export class AwsArtifacts extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  readonly fn: aws.lambda.Function;
  readonly role: aws.iam.Role;
  readonly rules: aws.cloudwatch.EventRule[];
  readonly stackSet?: aws.cloudformation.StackSet;

  constructor(name: string, args: AwsArtifactsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:aws:AwsArtifacts', name, {}, opts);
    const cfg = args.config;
    const artifacts = cfg.artifacts;
    if (cfg.mode === 'spoke' || !artifacts.enabled) throw new Error('AwsArtifacts deploys with aws.artifacts.enabled in standalone and hub stacks');
    assertBundles(['artifacts']);
    const ctx = awsContext(this);
    const scanner = args.scanner;
    const functionName = `${ctx.prefix}-objects`;
    const queues = scanQueues(`${name}`, ctx, scanner.key, { functionTimeoutSec: cfg.timeoutSec, maxReceiveCount: OBJECT_MAX_RECEIVE_COUNT }, this);
    this.queue = queues.queue;
    this.deadLetterQueue = queues.deadLetterQueue;

    const ownBuckets = pulumi
      .all([scanner.resultsBucket.bucket, scanner.accessLogsBucket?.bucket ?? '', ...scanner.trailBuckets.map((b) => b.bucket)])
      .apply((names) => names.filter((n) => n.length > 0));
    const filters = ownBuckets.apply(
      (own): ObjectPatternOptions => ({
        includeBuckets: artifacts.buckets.include,
        excludeBuckets: artifacts.buckets.exclude,
        includePrefixes: artifacts.prefixes.include,
        excludePrefixes: artifacts.prefixes.exclude,
        ownBuckets: own,
      }),
    );

    const spokes = ctx.partition.apply((partition) =>
      cfg.spokes.map((spoke) => ({ accountId: spoke.accountId, roleArn: `arn:${partition}:iam::${spoke.accountId}:role/${artifacts.crossAccountRoleName}`, externalId: spoke.externalId })),
    );
    const spokesText = spokes.apply((roles) => JSON.stringify(roles));
    const organisationWide = cfg.mode === 'hub' && artifacts.organizationUnitIds.length > 0 && cfg.organizationId !== undefined;
    const assume: PolicyStatement[] = [];
    if (cfg.spokes.length > 0) {
      assume.push({ Sid: 'AssumeSpokeObjectReaders', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: cfg.spokes.map((_, i) => spokes.apply((roles) => roles[i]!.roleArn)) });
    }
    if (organisationWide) {
      // Any account, but only inside the organisation, and only the reader role the StackSet creates.
      assume.push({
        Sid: 'AssumeOrganisationObjectReaders',
        Effect: 'Allow',
        Action: 'sts:AssumeRole',
        Resource: pulumi.interpolate`arn:${ctx.partition}:iam::*:role/${artifacts.crossAccountRoleName}`,
        Condition: { StringEquals: { 'aws:ResourceOrgID': cfg.organizationId! } },
      });
    }
    const reads = objectReadResources(artifacts, ctx.partition);
    const mib = (mb: number) => String(mb);
    const object = shipscanFunction(
      `${name}-scanner`,
      ctx,
      {
        bundle: 'artifacts',
        functionName,
        key: scanner.key,
        logRetentionDays: cfg.logRetentionDays,
        memoryMb: artifacts.memoryMb,
        timeoutSec: cfg.timeoutSec,
        ephemeralMb: artifacts.ephemeralMb,
        layers: [scanner.qscannerLayerArn],
        environment: {
          RESULTS_BUCKET: scanner.resultsBucket.bucket,
          CACHE_TABLE: scanner.cacheTable.name,
          QUALYS_SECRET_ARN: scanner.qualysSecret.arn,
          ...(args.qualys.gateway ? { QUALYS_GATEWAY: args.qualys.gateway } : { QUALYS_POD: args.qualys.pod ?? '' }),
          INCLUDE_BUCKETS: JSON.stringify(artifacts.buckets.include),
          EXCLUDE_BUCKETS: JSON.stringify(artifacts.buckets.exclude),
          INCLUDE_PREFIXES: JSON.stringify(artifacts.prefixes.include),
          EXCLUDE_PREFIXES: JSON.stringify(artifacts.prefixes.exclude),
          OWN_BUCKETS: ownBuckets.apply((names) => names.join(',')),
          MAX_OBJECT_MB: mib(artifacts.maxObjectMb),
          EXCLUDED_MIME_TYPES: artifacts.excludedMimeTypes.join(','),
          SPOKE_OBJECT_ROLES: args.secretExternalIds === false ? spokesText : pulumi.secret(spokesText),
          ...(organisationWide ? { ORG_ROLE_NAME: artifacts.crossAccountRoleName } : {}),
          EXTRACT_MAX_MB: mib(artifacts.extractMaxMb),
          EXTRACT_MAX_ENTRIES: String(artifacts.extractMaxEntries),
          EXTRACT_MAX_RATIO: String(artifacts.extractMaxRatio),
          EXTRACT_MAX_DEPTH: String(artifacts.extractMaxDepth),
          QSCANNER_PATH,
          SCAN_TIMEOUT_SEC: String(Math.max(1, cfg.timeoutSec - 30)),
          LOCK_TTL_SEC: String(cfg.timeoutSec + 60),
          CACHE_TTL_DAYS: String(cfg.cacheTtlDays),
          METRICS_NAMESPACE,
          POWERTOOLS_SERVICE_NAME: OBJECTS_SERVICE_NAME,
          OBJECT_QUEUE_URL: this.queue.url,
        },
        statements: [
          {
            Sid: 'ConsumeObjectQueue',
            Effect: 'Allow',
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'],
            Resource: this.queue.arn,
          },
          { Sid: 'CacheItems', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], Resource: scanner.cacheTable.arn },
          // A cache hit reads the result it reuses: object results only.
          { Sid: 'ObjectResults', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: pulumi.interpolate`${scanner.resultsBucket.arn}/results/objects/*` },
          { Sid: 'ReadQualysToken', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: scanner.qualysSecret.arn },
          reads.length > 0 ? { Sid: 'ReadConfiguredObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: reads } : undefined,
          ...assume,
        ],
      },
      this,
    );
    this.fn = object.fn;
    this.role = object.role;
    new aws.lambda.EventSourceMapping(
      `${name}-objects`,
      {
        eventSourceArn: this.queue.arn,
        functionName: this.fn.arn,
        batchSize: 1,
        functionResponseTypes: ['ReportBatchItemFailures'],
        scalingConfig: { maximumConcurrency: artifacts.maxConcurrency },
      },
      { parent: this },
    );

    const buses: { suffix: string; bus?: aws.cloudwatch.EventBus }[] = [{ suffix: 'objects' }, ...(scanner.centralBus ? [{ suffix: 'central-objects', bus: scanner.centralBus }] : [])];
    this.rules = buses.flatMap(({ suffix, bus }) =>
      (
        [
          [`${suffix}`, 'S3 object writes (CloudTrail data events)', filters.apply((f) => JSON.stringify(objectWritePattern(f)))],
          [`${suffix}-created`, 'S3 Object Created events', filters.apply((f) => JSON.stringify(objectCreatedPattern(f)))],
        ] as const
      ).map(([ruleSuffix, description, pattern]) => {
        const onBus = bus ? { eventBusName: bus.name } : {};
        const rule = new aws.cloudwatch.EventRule(`${name}-${ruleSuffix}`, { name: `${ctx.prefix}-${ruleSuffix}`, description: `shipscan: ${description}`, eventPattern: pattern, ...onBus, tags: ctx.tags }, { parent: this });
        new aws.cloudwatch.EventTarget(
          `${name}-${ruleSuffix}`,
          { rule: rule.name, ...onBus, arn: this.queue.arn, retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 }, deadLetterConfig: { arn: this.deadLetterQueue.arn } },
          { parent: this },
        );
        return rule;
      }),
    );
    allowRulesToSend(name, queues, this.rules.map((rule) => rule.arn), this);

    // Object events that failed every receive wait in the DLQ: tell the findings topic, as for the scan queue.
    new aws.cloudwatch.MetricAlarm(
      `${name}-dlq`,
      {
        name: `${ctx.prefix}-objects-dlq`,
        alarmDescription: 'shipscan: object events in the dead-letter queue',
        namespace: 'AWS/SQS',
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: this.deadLetterQueue.name },
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 1,
        threshold: 0,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
        alarmActions: [scanner.findingsTopic.arn],
        okActions: [scanner.findingsTopic.arn],
        tags: ctx.tags,
      },
      { parent: this },
    );

    if (organisationWide && scanner.centralBus) this.stackSet = this.forwarders(name, ctx, cfg, scanner.centralBus, object.role);
    this.registerOutputs({ objectQueueUrl: this.queue.url, objectDeadLetterQueueUrl: this.deadLetterQueue.url, objectScanner: this.fn.name, stackSet: this.stackSet?.name });
  }

  /** The StackSet (service-managed, auto-deployment) and one instance per region for the configured OUs. */
  private forwarders(name: string, ctx: AwsContext, cfg: AwsConfig, bus: aws.cloudwatch.EventBus, role: aws.iam.Role): aws.cloudformation.StackSet {
    const artifacts = cfg.artifacts;
    const regions = artifacts.stackSetRegions.length > 0 ? artifacts.stackSetRegions : undefined;
    const template = pulumi.all([bus.arn, role.arn, ctx.region, ctx.partition]).apply(([busArn, roleArn, region, partition]) =>
      JSON.stringify(
        forwarderTemplate({
          busArn,
          scannerRoleArn: roleArn,
          organizationId: cfg.organizationId!,
          readerRoleName: artifacts.crossAccountRoleName,
          primaryRegion: regions?.[0] ?? region,
          readBuckets: artifacts.buckets.include,
          allBuckets: artifacts.allBuckets,
          ecrPushes: artifacts.ecrPushes,
          filters: { includeBuckets: artifacts.buckets.include, excludeBuckets: artifacts.buckets.exclude, includePrefixes: artifacts.prefixes.include, excludePrefixes: artifacts.prefixes.exclude },
          partition,
        }),
      ),
    );
    const stackSet = new aws.cloudformation.StackSet(
      `${name}-forwarders`,
      {
        name: `${ctx.prefix}-artifact-forwarders`,
        description: 'shipscan: forward new-artifact events to the hub and let the hub read new objects',
        permissionModel: 'SERVICE_MANAGED',
        autoDeployment: { enabled: true, retainStacksOnAccountRemoval: false },
        capabilities: ['CAPABILITY_NAMED_IAM'],
        managedExecution: { active: true },
        templateBody: template,
        tags: ctx.tags,
      },
      { parent: this },
    );
    for (const region of regions ?? [undefined]) {
      new aws.cloudformation.StackSetInstance(
        `${name}-forwarders${region ? `-${region}` : ''}`,
        {
          stackSetName: stackSet.name,
          deploymentTargets: { organizationalUnitIds: artifacts.organizationUnitIds },
          ...(region ? { stackSetInstanceRegion: region } : {}),
          operationPreferences: { failureTolerancePercentage: 10, maxConcurrentPercentage: 25, regionConcurrencyType: 'PARALLEL' },
        },
        { parent: this },
      );
    }
    return stackSet;
  }
}
