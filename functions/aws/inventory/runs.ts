import { randomBytes } from 'node:crypto';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RESOURCES_DYNAMO } from '../../../shared/inventory/tables';

/**
 * Run records, in the resources table (`pk` = `run`, `sk` = run id). An inventory run knows how many shards
 * it expects; each shard reports once (a conditional update keyed by the shard, so an SQS redelivery cannot
 * count twice); the report that brings `reported` to `expected` with no failure lets its collector claim the
 * completion (a second conditional update from `running` to `completing`, so one collector completes), which
 * deletes what the run no longer saw. A failed shard marks the run `incomplete`, and an incomplete run never
 * completes: it deletes nothing. Evaluation runs are records too (`lastEvaluatedAt` lives here, not on each
 * finding).
 */

const { partitionKey: PK, sortKey: SK } = RESOURCES_DYNAMO;
const RUNS = 'run';
/** Deletion candidates per item: ARNs are at most ~2 KB, so 100 keep an item far below 400 KB. */
const CANDIDATES_PER_ITEM = 100;

export type RunKind = 'inventory' | 'evaluation';
export type RunStatus = 'running' | 'completing' | 'complete' | 'incomplete';

export interface RunRecord {
  runId: string;
  kind: RunKind;
  status: RunStatus;
  /** What was asked for (`{"service":"s3","accountId":"..."}`), as given. */
  scope: Record<string, unknown>;
  trigger: string;
  startedAt: string;
  deadline?: string;
  completedAt?: string;
  expected: number;
  reported: number;
  failed: number;
  failedShards: string[];
  /** Counters the shards and the completion add to (written, unchanged, deleted, resolved, evaluated...). */
  counts: Record<string, number>;
  /** Evaluation runs: when the rules last looked at the scope's resources. */
  lastEvaluatedAt?: string;
  reason?: string;
}

export function newRunId(kind: RunKind, now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${kind}-${randomBytes(3).toString('hex')}`;
}

/** A shard of an inventory run: one account, one region (or `global`), one service. */
export function shardId(account: string, shard: string, service: string): string {
  return `${account}/${shard}/${service}`;
}

export interface ShardReport {
  ok: boolean;
  counts?: Record<string, number>;
  error?: string;
}

export interface ReportOutcome {
  run: RunRecord;
  /** The shard had already reported (a redelivered message). */
  duplicate: boolean;
  /** Every shard reported success: the run may complete. */
  allReported: boolean;
}

export interface DeletionCandidates {
  shard: string;
  account: string;
  service: string;
  /** When the shard read its resources: a candidate written again after this is not gone. */
  seenAt: string;
  arns: string[];
}

function isConditionFailure(error: unknown): boolean {
  return (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';
}

function toRun(item: Record<string, unknown>): RunRecord {
  const counts: Record<string, number> = {};
  for (const [key, value] of Object.entries(item)) if (key.startsWith('c_') && typeof value === 'number') counts[key.slice(2)] = value;
  const failedShards = item.failedShards instanceof Set ? [...(item.failedShards as Set<string>)] : Array.isArray(item.failedShards) ? (item.failedShards as string[]) : [];
  const run: RunRecord = {
    runId: String(item[SK]),
    kind: item.kind as RunKind,
    status: item.status as RunStatus,
    scope: JSON.parse(String(item.scope ?? '{}')) as Record<string, unknown>,
    trigger: String(item.trigger ?? 'manual'),
    startedAt: String(item.startedAt),
    expected: Number(item.expected ?? 0),
    reported: Number(item.reported ?? 0),
    failed: Number(item.failed ?? 0),
    failedShards: failedShards.sort(),
    counts,
  };
  if (typeof item.deadline === 'string') run.deadline = item.deadline;
  if (typeof item.completedAt === 'string') run.completedAt = item.completedAt;
  if (typeof item.lastEvaluatedAt === 'string') run.lastEvaluatedAt = item.lastEvaluatedAt;
  if (typeof item.reason === 'string') run.reason = item.reason;
  return run;
}

export class RunStore {
  /** Writes to the table, for the write budget. */
  writes = 0;

  constructor(
    private readonly doc: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async create(run: Pick<RunRecord, 'runId' | 'kind' | 'scope' | 'trigger' | 'startedAt' | 'expected'> & { deadline?: string }): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          [PK]: RUNS,
          [SK]: run.runId,
          kind: run.kind,
          status: 'running',
          scope: JSON.stringify(run.scope),
          trigger: run.trigger,
          startedAt: run.startedAt,
          ...(run.deadline ? { deadline: run.deadline } : {}),
          expected: run.expected,
          reported: 0,
          failed: 0,
        },
        ConditionExpression: 'attribute_not_exists(#pk)',
        ExpressionAttributeNames: { '#pk': PK },
      }),
    );
    this.writes += 1;
  }

  async get(runId: string): Promise<RunRecord | undefined> {
    const answer = await this.doc.send(new GetCommand({ TableName: this.table, Key: { [PK]: RUNS, [SK]: runId }, ConsistentRead: true }));
    return answer.Item ? toRun(answer.Item) : undefined;
  }

  /** The latest runs, newest first. */
  async recent(limit = 20): Promise<RunRecord[]> {
    const answer = await this.doc.send(
      new QueryCommand({ TableName: this.table, KeyConditionExpression: '#pk = :pk', ExpressionAttributeNames: { '#pk': PK }, ExpressionAttributeValues: { ':pk': RUNS }, ScanIndexForward: false, Limit: limit }),
    );
    return (answer.Items ?? []).map(toRun);
  }

  /** Reports a shard once; a failure marks the run incomplete. */
  async report(runId: string, shard: string, report: ShardReport): Promise<ReportOutcome> {
    const names: Record<string, string> = { '#pk': PK, '#reported': 'reported', '#shards': 'reportedShards' };
    const values: Record<string, unknown> = { ':one': 1, ':shard': new Set([shard]) };
    const adds = ['#reported :one', '#shards :shard'];
    const sets: string[] = [];
    Object.entries(report.counts ?? {}).forEach(([key, value], index) => {
      names[`#c${index}`] = `c_${key}`;
      values[`:c${index}`] = value;
      adds.push(`#c${index} :c${index}`);
    });
    if (!report.ok) {
      Object.assign(names, { '#failed': 'failed', '#failedShards': 'failedShards', '#status': 'status', '#reason': 'reason' });
      Object.assign(values, { ':incomplete': 'incomplete', ':reason': `shard ${shard} failed: ${(report.error ?? 'unknown error').slice(0, 500)}` });
      adds.push('#failed :one', '#failedShards :shard');
      sets.push('#status = :incomplete', '#reason = if_not_exists(#reason, :reason)');
    }
    try {
      const answer = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: RUNS, [SK]: runId },
          UpdateExpression: `ADD ${adds.join(', ')}${sets.length > 0 ? ` SET ${sets.join(', ')}` : ''}`,
          ConditionExpression: 'attribute_exists(#pk) AND NOT contains(#shards, :shardId)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: { ...values, ':shardId': shard },
          ReturnValues: 'ALL_NEW',
        }),
      );
      this.writes += 1;
      const run = toRun(answer.Attributes ?? {});
      return { run, duplicate: false, allReported: run.reported >= run.expected && run.failed === 0 && run.status === 'running' };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const run = await this.get(runId);
      if (!run) throw new Error(`run ${runId} does not exist (the planner writes it before it enqueues a shard)`);
      return { run, duplicate: true, allReported: run.reported >= run.expected && run.failed === 0 && (run.status === 'running' || run.status === 'completing') };
    }
  }

  /**
   * Takes the completion of a fully reported run; true for one caller (and again for a caller retrying a
   * completion that did not finish, which is safe: every completion step is idempotent).
   */
  async claimCompletion(runId: string): Promise<boolean> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { [PK]: RUNS, [SK]: runId },
          UpdateExpression: 'SET #status = :completing',
          ConditionExpression: '(#status = :running OR #status = :completing) AND #reported >= #expected AND #failed = :zero',
          ExpressionAttributeNames: { '#status': 'status', '#reported': 'reported', '#expected': 'expected', '#failed': 'failed' },
          ExpressionAttributeValues: { ':completing': 'completing', ':running': 'running', ':zero': 0 },
        }),
      );
      this.writes += 1;
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** Ends a run: complete (with counts) or incomplete (with the reason). */
  async finish(runId: string, outcome: { status: 'complete' | 'incomplete'; at: string; counts?: Record<string, number>; reason?: string; lastEvaluatedAt?: string }): Promise<RunRecord> {
    const names: Record<string, string> = { '#status': 'status', '#at': 'completedAt' };
    const values: Record<string, unknown> = { ':status': outcome.status, ':at': outcome.at };
    const sets = ['#status = :status', '#at = :at'];
    Object.entries(outcome.counts ?? {}).forEach(([key, value], index) => {
      names[`#c${index}`] = `c_${key}`;
      values[`:c${index}`] = value;
      sets.push(`#c${index} = :c${index}`);
    });
    if (outcome.reason) {
      names['#reason'] = 'reason';
      values[':reason'] = outcome.reason.slice(0, 1000);
      sets.push('#reason = :reason');
    }
    if (outcome.lastEvaluatedAt) {
      names['#evaluated'] = 'lastEvaluatedAt';
      values[':evaluated'] = outcome.lastEvaluatedAt;
      sets.push('#evaluated = :evaluated');
    }
    const answer = await this.doc.send(
      new UpdateCommand({ TableName: this.table, Key: { [PK]: RUNS, [SK]: runId }, UpdateExpression: `SET ${sets.join(', ')}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: 'ALL_NEW' }),
    );
    this.writes += 1;
    return toRun(answer.Attributes ?? {});
  }

  /** Keeps a shard's deletion candidates until the run completes (chunks, so no item nears 400 KB). */
  async putCandidates(runId: string, candidates: DeletionCandidates): Promise<void> {
    for (let i = 0, chunk = 0; i < candidates.arns.length; i += CANDIDATES_PER_ITEM, chunk++) {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            [PK]: `${RUNS}#${runId}`,
            [SK]: `${candidates.shard}#${String(chunk).padStart(5, '0')}`,
            shard: candidates.shard,
            account: candidates.account,
            service: candidates.service,
            seenAt: candidates.seenAt,
            arns: candidates.arns.slice(i, i + CANDIDATES_PER_ITEM),
          },
        }),
      );
      this.writes += 1;
    }
  }

  async candidates(runId: string): Promise<DeletionCandidates[]> {
    const out: DeletionCandidates[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: '#pk = :pk',
          ExpressionAttributeNames: { '#pk': PK },
          ExpressionAttributeValues: { ':pk': `${RUNS}#${runId}` },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        out.push({ shard: String(item.shard), account: String(item.account), service: String(item.service), seenAt: String(item.seenAt), arns: (item.arns as string[] | undefined) ?? [] });
      }
      start = page.LastEvaluatedKey;
    } while (start);
    return out;
  }
}
