import type { TableClient } from '@azure/data-tables';
import { safeTableKey } from '../../../shared/storage-keys';
import { createOnce, isConflict, isNotFound } from '../storage-clients';

/**
 * `InventoryRuns`: one row per inventory or evaluation run (PartitionKey `run`, RowKey the run id), so an operator
 * sees what each run did (`az storage entity query --table-name InventoryRuns`), and the claim that makes the
 * digest of a run go out once however often its message is delivered (PartitionKey `digest`, RowKey the run id).
 */

export interface RunRecord {
  runId: string;
  kind: 'inventory' | 'evaluation';
  trigger: 'schedule' | 'manual';
  request: string;
  startedAt: string;
  finishedAt?: string;
  /** complete: every query finished; incomplete: at least one failed, nothing was deleted. */
  status: 'running' | 'complete' | 'incomplete' | 'evaluated';
  counts?: Record<string, number>;
  errors?: string[];
  /**
   * When the rules last looked at the run's resources (the start of its evaluation), with the types it covered:
   * kept here, once per run, instead of a write on every resource or finding that did not change.
   */
  lastEvaluatedAt?: string;
  types?: string[];
  subscriptionCount?: number;
}

const RUN = 'run';
const DIGEST = 'digest';

export class TableRunStore {
  readonly ensure: () => Promise<void>;

  constructor(private readonly table: TableClient) {
    this.ensure = createOnce(() => this.table.createTable());
  }

  async save(record: RunRecord): Promise<void> {
    const { runId, counts, errors, types, ...rest } = record;
    await this.table.upsertEntity(
      {
        partitionKey: RUN,
        rowKey: safeTableKey(runId),
        RunId: runId,
        ...rest,
        ...(counts ? Object.fromEntries(Object.entries(counts).map(([k, v]) => [`Count${k[0]!.toUpperCase()}${k.slice(1)}`, v])) : {}),
        ...(errors && errors.length > 0 ? { Errors: JSON.stringify(errors.slice(0, 20)).slice(0, 30_000) } : {}),
        ...(types ? { types: types.join(',') } : {}),
      },
      'Replace',
    );
  }

  /** True for exactly one caller per run: the one that sends the run's digest. */
  async claimDigest(runId: string, at: string): Promise<boolean> {
    try {
      await this.table.createEntity({ partitionKey: DIGEST, rowKey: safeTableKey(runId), RunId: runId, ClaimedAt: at });
      return true;
    } catch (error) {
      if (isConflict(error)) return false;
      throw error;
    }
  }

  /** Gives the claim back when sending failed, so the redelivered run sends it. */
  async releaseDigest(runId: string): Promise<void> {
    try {
      await this.table.deleteEntity(DIGEST, safeTableKey(runId));
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }
}
