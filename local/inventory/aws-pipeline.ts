import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoFindingStore } from '../../functions/aws/findings-store';
import { mapLimit } from '../../functions/aws/inventory/calls';
import type { ClientFactory } from '../../functions/aws/inventory/clients';
import { EvaluationRequestSchema, runEvaluation, type EvaluationSummary } from '../../functions/aws/inventory/evaluation';
import { collectShard, InventoryRequestSchema, startInventory, type PlannedRun, type ShardMessage, type ShardOutcome } from '../../functions/aws/inventory/inventory';
import { createPostureHook, type PostureHook } from '../../functions/aws/inventory/posture-hook';
import { MemoryConfigBlobs, ResourceStore } from '../../functions/aws/inventory/resource-store';
import { newRunId, RunStore, type RunRecord } from '../../functions/aws/inventory/runs';
import type { NotificationChannel } from '../../shared/findings/notifier';
import { FindingRecorder } from '../../shared/findings/recorder';
import { findingsTableSchema } from '../../shared/findings/tables';
import { resourcesTableSchema } from '../../shared/inventory/tables';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { createPostureRegistry, type PostureRegistry } from '../../shared/rules/aws/posture/registry';
import type { RuleScope } from '../../shared/rules/aws/posture/scope';
import { DEFAULT_POSTURE_SETTINGS, INVENTORY_SERVICES, type InventoryService } from '../../shared/rules/aws/posture/types';

/**
 * The AWS inventory wired in process over DynamoDB (dynalite on the local stack and in tests): the planner
 * enqueues into an in-memory queue that `drain` works off with bounded concurrency, as the SQS event source
 * would; shards that throw are retried up to `maxReceives` times and then reported failed (the DLQ case).
 * The same functions the Lambdas run; only the queue and the clients differ.
 */

export interface LocalAwsInventoryOptions {
  /** A DynamoDB endpoint (dynalite). */
  endpoint: string;
  clients: () => ClientFactory;
  accounts: readonly string[];
  regions: readonly string[];
  services?: readonly InventoryService[];
  channels?: readonly NotificationChannel[];
  scopes?: Readonly<Record<string, RuleScope>>;
  registry?: PostureRegistry;
  /** Collector invocations at once (the SQS event source's maximum concurrency). */
  maxConcurrency?: number;
  /** Resources described at once within a shard. */
  shardConcurrency?: number;
  /** Deliveries of one shard message before it goes to the DLQ. */
  maxReceives?: number;
  now?: () => Date;
  /** Table names (each pipeline on one endpoint needs its own). */
  tablePrefix?: string;
  /** Use these existing tables instead of creating new ones (a second configuration over the same data). */
  sharedTables?: { resources: string; findings: string };
}

export interface DrainOutcome {
  shards: ShardOutcome[];
  /** Messages that went to the DLQ after their last delivery. */
  deadLettered: { message: ShardMessage; error: string }[];
}

export class LocalAwsInventory {
  readonly resources: ResourceStore;
  readonly runs: RunStore;
  readonly findings: DynamoFindingStore;
  readonly registry: PostureRegistry;
  readonly hook: PostureHook;
  readonly queue: ShardMessage[] = [];
  private readonly raw: DynamoDBClient;
  private readonly doc: DynamoDBDocumentClient;

  private constructor(
    private readonly options: LocalAwsInventoryOptions,
    readonly tables: { resources: string; findings: string },
  ) {
    this.raw = new DynamoDBClient({ endpoint: options.endpoint, region: options.regions[0] ?? 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } });
    this.doc = DynamoDBDocumentClient.from(this.raw, { marshallOptions: { removeUndefinedValues: true } });
    this.resources = new ResourceStore(this.doc, tables.resources, new MemoryConfigBlobs());
    this.runs = new RunStore(this.doc, tables.resources);
    this.findings = new DynamoFindingStore(this.doc, tables.findings);
    this.registry = options.registry ?? createPostureRegistry();
    this.hook = createPostureHook({
      store: this.resources,
      recorder: this.recorder('immediate', true),
      clients: options.clients,
      registry: this.registry,
      context: this.context(),
      scopes: options.scopes ?? {},
      homeRegion: this.homeRegion,
      accounts: () => options.accounts,
    });
  }

  static async create(options: LocalAwsInventoryOptions): Promise<LocalAwsInventory> {
    const prefix = options.tablePrefix ?? 'shipscan';
    if (options.sharedTables) return new LocalAwsInventory(options, options.sharedTables);
    const tables = { resources: `${prefix}-resources`, findings: `${prefix}-findings` };
    const pipeline = new LocalAwsInventory(options, tables);
    await pipeline.raw.send(new CreateTableCommand({ TableName: tables.resources, ...resourcesTableSchema() }));
    await pipeline.raw.send(new CreateTableCommand({ TableName: tables.findings, ...findingsTableSchema() }));
    return pipeline;
  }

  get homeRegion(): string {
    return this.options.regions[0] ?? 'us-east-1';
  }

  private context() {
    return { allowLists: DEFAULT_ALLOW_LISTS, settings: DEFAULT_POSTURE_SETTINGS };
  }

  /** Scheduled runs defer notices to their digest; events tell at once and keep lastSeenAt current. */
  recorder(mode: 'immediate' | 'deferred', persistTouches: boolean): FindingRecorder {
    return new FindingRecorder({
      store: this.findings,
      channels: this.options.channels ?? [],
      policy: { severityThreshold: 'HIGH', notifyOnResolve: true, mode },
      suppressions: [],
      persistTouches,
      ...(this.options.now ? { now: this.options.now } : {}),
    });
  }

  /** The planner: `{"service":"all"}`, `{"service":"s3","accountId":"..."}`. */
  async plan(payload: unknown): Promise<PlannedRun> {
    return startInventory(InventoryRequestSchema.parse(payload), {
      runs: this.runs,
      enqueue: async (messages) => {
        this.queue.push(...messages);
      },
      topology: { accounts: this.options.accounts, regions: this.options.regions, services: this.options.services ?? INVENTORY_SERVICES },
      deadlineHours: 6,
      newRunId: (now) => newRunId('inventory', now),
      ...(this.options.now ? { now: this.options.now } : {}),
    });
  }

  /** Works off the queue: the collectors, `maxConcurrency` at once, each message redelivered until `maxReceives`. */
  async drain(): Promise<DrainOutcome> {
    const messages = this.queue.splice(0);
    const maxReceives = this.options.maxReceives ?? 3;
    const clients = this.options.clients();
    const out: DrainOutcome = { shards: [], deadLettered: [] };
    await mapLimit(messages, this.options.maxConcurrency ?? 10, async (message) => {
      for (let receive = 1; receive <= maxReceives; receive++) {
        try {
          out.shards.push(
            await collectShard(
              message,
              {
                store: this.resources,
                runs: this.runs,
                recorder: this.recorder('deferred', false),
                channels: this.options.channels ?? [],
                clients,
                concurrency: this.options.shardConcurrency ?? 8,
                ...(this.options.now ? { now: this.options.now } : {}),
              },
              { finalAttempt: receive === maxReceives },
            ),
          );
          return;
        } catch (error) {
          if (receive === maxReceives) out.deadLettered.push({ message, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
        }
      }
    });
    clients.destroy?.();
    return out;
  }

  /** Plans and drains one inventory run; the run record as it ended. */
  async inventory(payload: unknown): Promise<{ planned: PlannedRun; drained: DrainOutcome; run: RunRecord }> {
    const planned = await this.plan(payload);
    const drained = await this.drain();
    const run = await this.runs.get(planned.runId);
    if (!run) throw new Error(`run ${planned.runId} vanished`);
    return { planned, drained, run };
  }

  /** The evaluator: `{}`, `{"ruleId":"..."}`, `{"service":"..."}`, `{"accountId":"..."}`. */
  async evaluate(payload: unknown): Promise<EvaluationSummary> {
    return runEvaluation(EvaluationRequestSchema.parse(payload), {
      source: this.resources,
      runs: this.runs,
      findings: this.findings,
      recorder: this.recorder('deferred', false),
      registry: this.registry,
      context: this.context(),
      scopes: this.options.scopes ?? {},
      suppressions: [],
      channels: this.options.channels ?? [],
      accounts: this.options.accounts,
      newRunId: (now) => newRunId('evaluation', now),
      ...(this.options.now ? { now: this.options.now } : {}),
    });
  }

  destroy(): void {
    this.raw.destroy();
  }
}
