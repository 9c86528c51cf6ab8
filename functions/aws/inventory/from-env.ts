import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { z } from 'zod';
import { FindingRecorder, type RecordedTransition } from '../../../shared/findings/recorder';
import { eventContext, type ParsedCloudTrailEvent } from '../../../shared/rules/aws/parse';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import { AllowListsSchema } from '../../../shared/rules/allow-lists';
import { compileSuppressions, SuppressionSchema, type CompiledSuppression } from '../../../shared/findings/suppressions';
import { createPostureRegistry } from '../../../shared/rules/aws/posture/registry';
import { DEFAULT_POSTURE_SETTINGS, INVENTORY_SERVICES } from '../../../shared/rules/aws/posture/types';
import { accountOfFunctionArn, SpokeCredentials } from '../account-access';
import { EnvError, jsonOf, SpokeRoleSchema } from '../env';
import { DynamoFindingStore } from '../findings-store';
import { SnsChannel } from '../notify/sns-channel';
import { SdkClientFactory } from './clients';
import { EvaluationRequestSchema, runEvaluation, type EvaluationSummary } from './evaluation';
import { collectShard, InventoryRequestSchema, ShardMessageSchema, startInventory, type PlannedRun, type ShardMessage } from './inventory';
import { createPostureHook, type PostureHook } from './posture-hook';
import { ResourceStore, S3ConfigBlobs } from './resource-store';
import { newRunId, RunStore } from './runs';

/**
 * The inventory's Lambda entry points, configured from the environment the infrastructure sets
 * (aws/inventory.ts), validated at cold start:
 * - `planner`: the weekly schedule or a manual invocation (`{"service":"all"}`, `{"service":"s3","accountId":"..."}`);
 * - `collector`: the shard queue (one message per invocation; ReportBatchItemFailures);
 * - `evaluator`: the daily schedule or a manual invocation (`{}`, `{"ruleId":"..."}`, `{"service":"..."}`);
 * - `postureHookFromEnv()`: the real-time hook the security-events function calls for each CloudTrail record.
 */

const region = z.string().regex(/^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$/, 'an AWS region');

export const InventoryEnvSchema = z.object({
  RESOURCES_TABLE: z.string().min(3),
  FINDINGS_TABLE: z.string().min(3),
  RESULTS_BUCKET: z.string().min(3),
  SHARD_QUEUE_URL: z.string().url().optional(),
  FINDINGS_TOPIC_ARN: z.string().regex(/^arn:aws[a-z-]*:sns:/, 'an SNS topic ARN').optional(),
  /** The spokes' read-only inventory roles with their ExternalIds. */
  SPOKE_ROLES: jsonOf(z.array(SpokeRoleSchema), 'an array of {accountId, roleArn, externalId}').default([]),
  REGIONS: jsonOf(z.array(region).min(1), 'an array of AWS regions'),
  SERVICES: jsonOf(z.array(z.enum(INVENTORY_SERVICES)).min(1), 'an array of inventory services').default([...INVENTORY_SERVICES]),
  RULE_SCOPES: jsonOf(z.record(z.string(), z.strictObject({ accounts: z.array(z.string()).optional(), tags: z.record(z.string(), z.string()).optional() })), 'an object of rule scopes').default({}),
  POSTURE_SETTINGS: jsonOf(
    z.strictObject({ accessKeyMaxAgeDays: z.number(), accessKeyUnusedDays: z.number(), passwordMinLength: z.number(), passwordReusePrevention: z.number() }).partial(),
    'posture settings',
  ).default({}),
  ALLOW_LISTS: jsonOf(AllowListsSchema, 'allow lists').default(AllowListsSchema.parse({})),
  SEVERITY_THRESHOLD: z.enum(['CRITICAL', 'HIGH', 'MEDIUM', 'LOW', 'INFORMATIONAL']).default('HIGH'),
  NOTIFY_ON_RESOLVE: z.enum(['true', 'false']).default('false').transform((flag) => flag === 'true'),
  /** shipscan:findings.suppressions (accepted risks) and disabledRules. */
  SUPPRESSIONS: jsonOf(z.array(SuppressionSchema), 'an array of suppressions').default([]),
  DISABLED_RULES: jsonOf(z.array(z.string().min(1)), 'an array of rule ids').default([]),
  MAX_RECEIVES: z.coerce.number().int().min(1).max(1000).default(3),
  RUN_DEADLINE_HOURS: z.coerce.number().int().min(1).max(48).default(6),
  SHARD_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(8),
});

export type InventoryEnv = z.infer<typeof InventoryEnvSchema>;

export function loadInventoryEnv(env: Readonly<Record<string, string | undefined>> = process.env): InventoryEnv {
  const parsed = InventoryEnvSchema.safeParse(env);
  if (!parsed.success) throw new EnvError(parsed.error.issues.map((issue) => ({ variable: String(issue.path[0] ?? '?'), message: issue.message })));
  return parsed.data;
}

interface Runtime {
  env: InventoryEnv;
  resources: ResourceStore;
  runs: RunStore;
  findings: DynamoFindingStore;
  spokes: SpokeCredentials;
  channels: NotificationChannel[];
  sqs: SQSClient;
  suppressions: CompiledSuppression[];
  registry: ReturnType<typeof createPostureRegistry>;
}

function runtime(env: InventoryEnv): Runtime {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
  const channels: NotificationChannel[] = env.FINDINGS_TOPIC_ARN ? [new SnsChannel({ client: new SNSClient({}), topicArn: env.FINDINGS_TOPIC_ARN })] : [];
  return {
    env,
    resources: new ResourceStore(doc, env.RESOURCES_TABLE, new S3ConfigBlobs(new S3Client({}), env.RESULTS_BUCKET)),
    runs: new RunStore(doc, env.RESOURCES_TABLE),
    findings: new DynamoFindingStore(doc, env.FINDINGS_TABLE),
    spokes: new SpokeCredentials(new STSClient({}), env.SPOKE_ROLES, 'shipscan-inventory'),
    channels,
    sqs: new SQSClient({}),
    suppressions: compileSuppressions(env.SUPPRESSIONS),
    registry: createPostureRegistry(undefined, { disabledRules: env.DISABLED_RULES }),
  };
}

function accounts(rt: Runtime): string[] {
  const own = rt.spokes.ownAccount;
  return [...(own ? [own] : []), ...rt.spokes.spokeAccounts().filter((a) => a !== own)];
}

function clientFactory(rt: Runtime): SdkClientFactory {
  return new SdkClientFactory({
    // The own account reads with the function's role; a spoke through its inventory role and ExternalId.
    credentialsFor: (account) => (rt.spokes.isSpoke(account) ? () => rt.spokes.forAccount(account).then((c) => c!) : undefined),
  });
}

function recorder(rt: Runtime, mode: 'immediate' | 'deferred', persistTouches: boolean): FindingRecorder {
  return new FindingRecorder({ store: rt.findings, channels: rt.channels, policy: { severityThreshold: rt.env.SEVERITY_THRESHOLD, notifyOnResolve: rt.env.NOTIFY_ON_RESOLVE, mode }, suppressions: rt.suppressions, persistTouches });
}

function context(env: InventoryEnv) {
  return { allowLists: env.ALLOW_LISTS, settings: { ...DEFAULT_POSTURE_SETTINGS, ...env.POSTURE_SETTINGS } };
}

let cached: Runtime | undefined;
function lazyRuntime(): Runtime {
  cached ??= runtime(loadInventoryEnv());
  return cached;
}

export async function planner(event: unknown, context_: Pick<Context, 'invokedFunctionArn'>): Promise<PlannedRun> {
  const rt = lazyRuntime();
  rt.spokes.setOwnAccount(accountOfFunctionArn(context_.invokedFunctionArn));
  const queueUrl = rt.env.SHARD_QUEUE_URL;
  if (!queueUrl) throw new EnvError([{ variable: 'SHARD_QUEUE_URL', message: 'the planner needs the shard queue' }]);
  return startInventory(InventoryRequestSchema.parse(event ?? {}), {
    runs: rt.runs,
    topology: { accounts: accounts(rt), regions: rt.env.REGIONS, services: rt.env.SERVICES },
    deadlineHours: rt.env.RUN_DEADLINE_HOURS,
    newRunId: (now) => newRunId('inventory', now),
    enqueue: async (messages: readonly ShardMessage[]) => {
      for (let i = 0; i < messages.length; i += 10) {
        const batch = messages.slice(i, i + 10);
        const answer = await rt.sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((m, j) => ({ Id: String(j), MessageBody: JSON.stringify(m) })) }));
        if ((answer.Failed ?? []).length > 0) throw new Error(`the shard queue refused ${answer.Failed!.length} message(s): ${answer.Failed!.map((f) => f.Code).join(', ')}`);
      }
    },
  });
}

export async function collector(event: SQSEvent, context_: Pick<Context, 'invokedFunctionArn'>): Promise<SQSBatchResponse> {
  const rt = lazyRuntime();
  rt.spokes.setOwnAccount(accountOfFunctionArn(context_.invokedFunctionArn));
  const failures: SQSBatchResponse['batchItemFailures'] = [];
  for (const record of event.Records) {
    const parsed = ShardMessageSchema.safeParse((() => {
      try {
        return JSON.parse(record.body) as unknown;
      } catch {
        return undefined;
      }
    })());
    // A malformed message can never succeed: dropped (logged), not redelivered into the DLQ's way.
    if (!parsed.success) {
      console.error(JSON.stringify({ message: 'malformed shard message dropped', messageId: record.messageId, issues: parsed.error.issues.map((i) => i.message) }));
      continue;
    }
    const receives = Number(record.attributes.ApproximateReceiveCount ?? '1');
    const factory = clientFactory(rt);
    try {
      const outcome = await collectShard(parsed.data, { store: rt.resources, runs: rt.runs, recorder: recorder(rt, 'deferred', false), channels: rt.channels, clients: factory, concurrency: rt.env.SHARD_CONCURRENCY }, { finalAttempt: receives >= rt.env.MAX_RECEIVES });
      console.log(JSON.stringify({ message: 'shard collected', ...outcome, completion: outcome.completion ? { deleted: outcome.completion.deleted, resolved: outcome.completion.resolved } : undefined }));
    } catch (error) {
      console.error(JSON.stringify({ message: 'shard failed', shard: `${parsed.data.account}/${parsed.data.shard}/${parsed.data.service}`, receives, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) }));
      failures.push({ itemIdentifier: record.messageId });
    } finally {
      factory.destroy();
    }
  }
  return { batchItemFailures: failures };
}

export async function evaluator(event: unknown, context_: Pick<Context, 'invokedFunctionArn'>): Promise<EvaluationSummary> {
  const rt = lazyRuntime();
  rt.spokes.setOwnAccount(accountOfFunctionArn(context_.invokedFunctionArn));
  return runEvaluation(EvaluationRequestSchema.parse(event ?? {}), {
    source: rt.resources,
    runs: rt.runs,
    findings: rt.findings,
    recorder: recorder(rt, 'deferred', false),
    registry: rt.registry,
    context: context(rt.env),
    scopes: rt.env.RULE_SCOPES,
    suppressions: rt.suppressions,
    channels: rt.channels,
    accounts: accounts(rt),
    newRunId: (now) => newRunId('evaluation', now),
  });
}

/**
 * The real-time hook for the security-events function: `await hook(record, ctx)` after its detectors. It
 * needs the same environment as the evaluator (RESOURCES_TABLE, FINDINGS_TABLE, RESULTS_BUCKET, REGIONS,
 * SPOKE_ROLES with the inventory roles) and the collector's read-only permissions.
 */
export function postureHookFromEnv(ownAccount: () => string | undefined, env: Readonly<Record<string, string | undefined>> = process.env): PostureHook {
  const rt = runtime(loadInventoryEnv(env));
  return createPostureHook(hookDeps(rt, ownAccount, recorder(rt, 'immediate', true)));
}

function hookDeps(rt: Runtime, ownAccount: () => string | undefined, findingRecorder: FindingRecorder) {
  return {
    store: rt.resources,
    recorder: findingRecorder,
    clients: () => clientFactory(rt),
    registry: rt.registry,
    context: context(rt.env),
    scopes: rt.env.RULE_SCOPES,
    homeRegion: rt.env.REGIONS[0]!,
    accounts: () => {
      rt.spokes.setOwnAccount(ownAccount());
      return accounts(rt);
    },
  };
}

/**
 * The same hook in the shape the security-events pipeline calls it (`postureHook(event, { recorder })`, one
 * call per parsed event): the findings go through the pipeline's own recorder, so the posture transitions
 * share its store, channels and notices. Wiring it is one line in that function's from-env:
 * `postureHook: securityEventsPostureHook(() => ownAccount)`.
 */
export function securityEventsPostureHook(
  ownAccount: () => string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): (event: ParsedCloudTrailEvent, ctx: { recorder: FindingRecorder }) => Promise<RecordedTransition[]> {
  const rt = runtime(loadInventoryEnv(env));
  return async (event, ctx) => {
    const hook = createPostureHook(hookDeps(rt, ownAccount, ctx.recorder));
    return (await hook(event.record, eventContext(event, rt.env.ALLOW_LISTS))).transitions;
  };
}
