import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsConfig, FindingsConfig } from '../shared/config';
import { inventoryPolicyGroups, operationResourceArn } from '../shared/inventory/operations';
import { resourcesTableSchema, LARGE_CONFIG_PREFIX } from '../shared/inventory/tables';
import { METRICS_NAMESPACE, type AwsContext } from './context';
import { findingsTable } from './findings-table';
import { shipscanFunction } from './lambda';
import { denyInsecureTransport, policyDocument, policyJson, serviceTrust, type PolicyStatement } from './policy';

/**
 * The scheduled inventory and posture evaluation (shipscan:aws.inventory, seed 001), hub or standalone:
 * - EventBridge Scheduler: the weekly inventory and the daily evaluation, cron and time zone from config;
 * - planner -> shard queue (+ DLQ) -> collector (SQS event source, bounded concurrency) -> resources table;
 * - evaluator over the resources table into the findings table; digests to the findings topic;
 * - the collectors read with a NARROW read-only policy rendered from shared/inventory/operations.ts (the 35
 *   actions they call), not AWS's managed SecurityAudit (hundreds of read actions across every service,
 *   including reads of data the rules never need); spokes get the same policy in a role the collector
 *   assumes with the spoke's ExternalId (spokeInventoryRole below).
 */

/** Deliveries of a shard message before the DLQ: throttling is retried inside the SDK already. */
export const SHARD_MAX_RECEIVES = 3;
const COLLECTOR_TIMEOUT_SEC = 900;

/** The read-only collector statements for one account (the hub's own, or a spoke's in its own role). */
export function inventoryReadStatements(partition: pulumi.Input<string>, account: pulumi.Input<string>, services?: AwsConfig['inventory']['services']): PolicyStatement[] {
  return inventoryPolicyGroups(services).map(({ resource, actions }) => ({
    Sid: `InventoryRead${resource === 'any' ? 'Lists' : resource[0]!.toUpperCase() + resource.slice(1)}`,
    Effect: 'Allow' as const,
    Action: actions,
    Resource: pulumi.all([partition, account]).apply(([p, a]) => operationResourceArn(resource, p, a)),
  }));
}

export interface InventorySpoke {
  accountId: string;
  externalId: string;
}

export interface AwsInventoryArgs {
  config: AwsConfig;
  key: aws.kms.Key;
  resultsBucket: aws.s3.Bucket;
  findingsTopic: aws.sns.Topic;
  /** The stack's findings table when another part declares it; otherwise the inventory declares one. */
  findingsTable?: aws.dynamodb.Table;
  /** The spokes' ExternalIds stay encrypted in the state unless false. */
  secretExternalIds?: boolean;
  /** shipscan:findings: notify threshold, accepted risks, disabled rules, allow-lists (defaults when absent). */
  findings?: FindingsConfig;
}

export interface AwsInventory {
  resourcesTable: aws.dynamodb.Table;
  findingsTable: aws.dynamodb.Table;
  queue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
  planner: aws.lambda.Function;
  collector: aws.lambda.Function;
  evaluator: aws.lambda.Function;
  /** The role that assumes the spokes' inventory roles (what a spoke's inventory role trusts). */
  collectorRole: aws.iam.Role;
  /**
   * What the security-events function needs to run the real-time posture hook (securityEventsPostureHook):
   * the inventory's environment and the collector's reads, the resources table and the spokes' inventory roles.
   */
  hook: { environment: Record<string, pulumi.Input<string>>; statements: PolicyStatement[] };
  schedules: aws.scheduler.Schedule[];
}

function resourcesTable(name: string, ctx: AwsContext, key: aws.kms.Key, parent: pulumi.Resource): aws.dynamodb.Table {
  const schema = resourcesTableSchema();
  return new aws.dynamodb.Table(
    name,
    {
      billingMode: schema.BillingMode,
      hashKey: schema.KeySchema.find((k) => k.KeyType === 'HASH')!.AttributeName,
      rangeKey: schema.KeySchema.find((k) => k.KeyType === 'RANGE')!.AttributeName,
      attributes: schema.AttributeDefinitions.map((a) => ({ name: a.AttributeName, type: a.AttributeType })),
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
      tags: ctx.tags,
    },
    { parent },
  );
}

export function awsInventory(name: string, ctx: AwsContext, args: AwsInventoryArgs, parent: pulumi.Resource): AwsInventory {
  const cfg = args.config;
  const inv = cfg.inventory;
  const opts = { parent };
  const key = args.key;
  const resources = resourcesTable(`${name}-resources`, ctx, key, parent);
  const findings = args.findingsTable ?? findingsTable(`${name}-findings`, ctx, key, parent);

  const deadLetterQueue = new aws.sqs.Queue(`${name}-shards-dlq`, { kmsMasterKeyId: key.arn, kmsDataKeyReusePeriodSeconds: 300, messageRetentionSeconds: 14 * 24 * 3600, tags: ctx.tags }, opts);
  const queue = new aws.sqs.Queue(
    `${name}-shards`,
    {
      kmsMasterKeyId: key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      visibilityTimeoutSeconds: 6 * COLLECTOR_TIMEOUT_SEC,
      messageRetentionSeconds: 2 * 24 * 3600,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: SHARD_MAX_RECEIVES }),
      tags: ctx.tags,
    },
    opts,
  );
  for (const [suffix, target] of [['shards', queue], ['shards-dlq', deadLetterQueue]] as const) {
    new aws.sqs.QueuePolicy(`${name}-${suffix}`, { queueUrl: target.url, policy: policyJson(policyDocument([denyInsecureTransport([target.arn], 'sqs:*')])) }, opts);
  }

  const plannerName = `${ctx.prefix}-inventory-planner`;
  const collectorName = `${ctx.prefix}-inventory-collector`;
  const evaluatorName = `${ctx.prefix}-inventory-evaluator`;
  const regions = inv.regions.length > 0 ? pulumi.output(JSON.stringify(inv.regions)) : ctx.region.apply((r) => JSON.stringify([r]));
  const spokeRoles = ctx.partition.apply((partition) =>
    JSON.stringify(cfg.spokes.map((s) => ({ accountId: s.accountId, roleArn: `arn:${partition}:iam::${s.accountId}:role/${inv.spokeRoleName}`, externalId: s.externalId }))),
  );
  const spokeRolesEnv = args.secretExternalIds === false ? spokeRoles : pulumi.secret(spokeRoles);
  const spokeRoleArns = cfg.spokes.map((s) => pulumi.interpolate`arn:${ctx.partition}:iam::${s.accountId}:role/${inv.spokeRoleName}`);
  const common = {
    RESOURCES_TABLE: resources.name,
    FINDINGS_TABLE: findings.name,
    RESULTS_BUCKET: args.resultsBucket.bucket,
    FINDINGS_TOPIC_ARN: args.findingsTopic.arn,
    REGIONS: regions,
    SERVICES: JSON.stringify(inv.services),
    SEVERITY_THRESHOLD: args.findings?.severityThreshold ?? 'HIGH',
    NOTIFY_ON_RESOLVE: String(args.findings?.notifyOnResolve ?? false),
    SUPPRESSIONS: JSON.stringify(args.findings?.suppressions ?? []),
    DISABLED_RULES: JSON.stringify(args.findings?.disabledRules ?? []),
    ...(args.findings ? { ALLOW_LISTS: JSON.stringify(args.findings.allowLists) } : {}),
    METRICS_NAMESPACE,
  };
  const table = (actions: string[], sid: string): PolicyStatement => ({ Sid: sid, Effect: 'Allow', Action: actions, Resource: resources.arn });
  const largeConfigs = pulumi.interpolate`${args.resultsBucket.arn}/${LARGE_CONFIG_PREFIX}*`;
  const publish: PolicyStatement = { Sid: 'PublishDigests', Effect: 'Allow', Action: 'sns:Publish', Resource: args.findingsTopic.arn };
  const findingsRw: PolicyStatement = {
    Sid: 'FindingsReadWrite',
    Effect: 'Allow',
    Action: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query', 'dynamodb:ConditionCheckItem'],
    Resource: [findings.arn, pulumi.interpolate`${findings.arn}/index/*`],
  };
  const assumeSpokes: PolicyStatement | undefined = spokeRoleArns.length > 0 ? { Sid: 'AssumeSpokeRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: spokeRoleArns } : undefined;

  const planner = shipscanFunction(
    `${name}-inventory-planner`,
    ctx,
    {
      bundle: 'inventory',
      handler: 'index.planner',
      functionName: plannerName,
      key,
      logRetentionDays: cfg.logRetentionDays,
      memoryMb: 256,
      timeoutSec: 60,
      environment: { ...common, SHARD_QUEUE_URL: queue.url, SPOKE_ROLES: spokeRolesEnv, RUN_DEADLINE_HOURS: String(inv.runDeadlineHours) },
      statements: [table(['dynamodb:PutItem'], 'CreateRuns'), { Sid: 'EnqueueShards', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: queue.arn }],
    },
    parent,
  );
  const collector = shipscanFunction(
    `${name}-inventory-collector`,
    ctx,
    {
      bundle: 'inventory',
      handler: 'index.collector',
      functionName: collectorName,
      key,
      logRetentionDays: cfg.logRetentionDays,
      memoryMb: 1024,
      timeoutSec: COLLECTOR_TIMEOUT_SEC,
      environment: { ...common, SPOKE_ROLES: spokeRolesEnv, MAX_RECEIVES: String(SHARD_MAX_RECEIVES) },
      statements: [
        ...inventoryReadStatements(ctx.partition, ctx.accountId, inv.services),
        assumeSpokes,
        table(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:DeleteItem', 'dynamodb:Query'], 'ResourcesAndRuns'),
        findingsRw,
        { Sid: 'LargeConfigurations', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], Resource: largeConfigs },
        { Sid: 'ConsumeShards', Effect: 'Allow', Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:GetQueueAttributes', 'sqs:ChangeMessageVisibility'], Resource: queue.arn },
        publish,
      ],
    },
    parent,
  );
  new aws.lambda.EventSourceMapping(
    `${name}-inventory-shards`,
    {
      eventSourceArn: queue.arn,
      functionName: collector.fn.arn,
      batchSize: 1,
      functionResponseTypes: ['ReportBatchItemFailures'],
      // The fan-out's bound: at most this many shards are collected at once (throttling stays per account).
      scalingConfig: { maximumConcurrency: inv.maxConcurrency },
    },
    opts,
  );
  const evaluator = shipscanFunction(
    `${name}-inventory-evaluator`,
    ctx,
    {
      bundle: 'inventory',
      handler: 'index.evaluator',
      functionName: evaluatorName,
      key,
      logRetentionDays: cfg.logRetentionDays,
      memoryMb: 1024,
      timeoutSec: 900,
      environment: {
        ...common,
        SPOKE_ROLES: spokeRolesEnv,
        RULE_SCOPES: JSON.stringify(inv.ruleScopes),
        POSTURE_SETTINGS: JSON.stringify({
          accessKeyMaxAgeDays: inv.accessKeyMaxAgeDays,
          accessKeyUnusedDays: inv.accessKeyUnusedDays,
          passwordMinLength: inv.passwordMinLength,
          passwordReusePrevention: inv.passwordReusePrevention,
        }),
      },
      statements: [
        table(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query'], 'ResourcesAndRuns'),
        findingsRw,
        { Sid: 'LargeConfigurations', Effect: 'Allow', Action: 's3:GetObject', Resource: largeConfigs },
        publish,
      ],
    },
    parent,
  );

  // EventBridge Scheduler invokes the planner and the evaluator with its own role, bound to this account.
  const schedulerRole = new aws.iam.Role(
    `${name}-inventory-scheduler`,
    { assumeRolePolicy: serviceTrust('scheduler.amazonaws.com', { StringEquals: { 'aws:SourceAccount': ctx.accountId } }), tags: ctx.tags },
    opts,
  );
  const schedulerPolicy = new aws.iam.RolePolicy(
    `${name}-inventory-scheduler`,
    {
      role: schedulerRole.id,
      policy: policyJson(
        policyDocument([
          { Sid: 'InvokeInventory', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: [planner.fn.arn, evaluator.fn.arn] },
          { Sid: 'DeadLetters', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: deadLetterQueue.arn },
          { Sid: 'UseStackKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: key.arn },
        ]),
      ),
    },
    opts,
  );
  const schedule = (suffix: string, description: string, expression: string, target: aws.lambda.Function, input: Record<string, unknown>) =>
    new aws.scheduler.Schedule(
      `${name}-${suffix}`,
      {
        description,
        scheduleExpression: expression,
        scheduleExpressionTimezone: inv.timezone,
        flexibleTimeWindow: { mode: 'OFF' },
        state: 'ENABLED',
        // The payload names a scope, nothing secret: the AWS owned key is enough and needs no key grant.
        target: {
          arn: target.arn,
          roleArn: schedulerRole.arn,
          input: JSON.stringify(input),
          retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
          deadLetterConfig: { arn: deadLetterQueue.arn },
        },
      },
      { parent, dependsOn: [schedulerPolicy] },
    );
  const schedules = [
    schedule('inventory-schedule', 'shipscan: weekly inventory of AWS resources', inv.inventorySchedule, planner.fn, { service: 'all', trigger: 'schedule' }),
    schedule('evaluation-schedule', 'shipscan: daily posture evaluation over the inventory', inv.evaluationSchedule, evaluator.fn, { trigger: 'schedule' }),
  ];

  return {
    resourcesTable: resources,
    findingsTable: findings,
    queue,
    deadLetterQueue,
    planner: planner.fn,
    collector: collector.fn,
    evaluator: evaluator.fn,
    collectorRole: collector.role,
    schedules,
    hook: {
      environment: {
        RESOURCES_TABLE: resources.name,
        REGIONS: regions,
        SERVICES: JSON.stringify(inv.services),
        SPOKE_ROLES: spokeRolesEnv,
        RULE_SCOPES: JSON.stringify(inv.ruleScopes),
        OWN_ACCOUNT_ID: ctx.accountId,
      },
      statements: [
        ...inventoryReadStatements(ctx.partition, ctx.accountId, inv.services),
        ...(assumeSpokes ? [{ ...assumeSpokes, Sid: 'AssumeSpokeInventoryRoles' }] : []),
        table(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'], 'InventoryResources'),
        { Sid: 'InventoryLargeConfigurations', Effect: 'Allow', Action: ['s3:PutObject', 's3:GetObject'], Resource: largeConfigs },
      ],
    },
  };
}

/**
 * Spoke mode with inventory enabled: the read-only role the hub's inventory collector assumes here (exactly
 * the hub roles of aws.hub.roleArns, presenting the ExternalId), with the collectors' narrow policy.
 */
export function spokeInventoryRole(name: string, ctx: AwsContext, cfg: AwsConfig, externalId: pulumi.Input<string>, parent: pulumi.Resource): aws.iam.Role {
  const hub = cfg.hub;
  if (!hub?.roleArns) throw new Error('the spoke inventory role needs shipscan:aws.hub.roleArns');
  const role = new aws.iam.Role(
    `${name}-inventory`,
    {
      name: cfg.inventory.spokeRoleName,
      description: `Lets the shipscan hub (account ${hub.accountId}) inventory this account's resources, read only`,
      maxSessionDuration: 3600,
      assumeRolePolicy: policyJson(
        policyDocument([
          { Sid: 'HubInventoryWithExternalId', Effect: 'Allow', Principal: { AWS: [...hub.roleArns] }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': externalId } } },
        ]),
      ),
      tags: ctx.tags,
    },
    { parent },
  );
  new aws.iam.RolePolicy(`${name}-inventory`, { role: role.id, policy: policyJson(policyDocument(inventoryReadStatements(ctx.partition, ctx.accountId, cfg.inventory.services))) }, { parent });
  return role;
}
