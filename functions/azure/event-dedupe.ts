import type { TableClient } from '@azure/data-tables';
import { tableKey } from './keys';
import { createOnce, isConflict, isNotFound } from './storage-clients';
import type { DeploymentEvent } from './deployment-event';

/**
 * One row per deployment (resource + ARM correlation id) in the DEDUPE_TABLE. Event Grid delivers at
 * least once, and one write can raise several events with the same correlation id: the first delivery
 * claims the row, later ones see it `done` and stop. A row still `processing` means an earlier
 * delivery died midway; the redelivery resumes (every later step is idempotent on its own).
 */

export type DedupeState = 'processing' | 'done' | 'gone';

/** What an image of the deployment came to in an earlier delivery (an ImageOutcome of on-deployment). */
export interface SettledImage {
  image: string;
  kind: string;
  scanId: string;
  [key: string]: unknown;
}

/**
 * How far a deployment got before it was re-sent for later (rate limit, or a scan of the same content
 * in flight elsewhere): the re-sent copy skips the images already settled, and the count bounds the waiting.
 */
export interface DeploymentProgress {
  /** Re-sends so far. */
  defers: number;
  firstDeferredAt?: string;
  settled: SettledImage[];
  /** Scan ids of other workloads' in-flight scans this deployment already reported waiting on. */
  waitedOn: string[];
}

/** What a claim is keyed by: the thing an event is about (a workload, a repository, a blob) and the change it announces. */
export type DedupeSubject = Pick<DeploymentEvent, 'id' | 'resourceId' | 'resourceKey' | 'correlationId'>;

export type ClaimOutcome =
  | { kind: 'new' }
  /** The same queue message again (a redelivery after a failure), or a claim abandoned long ago. */
  | { kind: 'resume'; progress?: DeploymentProgress }
  | { kind: 'duplicate'; state: DedupeState; firstEventId: string };

interface DedupeEntity {
  partitionKey: string;
  rowKey: string;
  ResourceId: string;
  CorrelationId: string;
  State: DedupeState;
  etag?: string;
  FirstEventId: string;
  FirstSeen: string;
  /** Queue message that holds the claim, and since when: a concurrent duplicate message must not run too. */
  ClaimedBy: string;
  ClaimedAt: string;
  Summary?: string;
  /** DeploymentProgress as JSON, written when the deployment is re-sent. */
  Progress?: string;
}

function parseProgress(text: string | undefined): DeploymentProgress | undefined {
  if (!text) return undefined;
  try {
    const p = JSON.parse(text) as Partial<DeploymentProgress>;
    return {
      defers: typeof p.defers === 'number' ? p.defers : 0,
      firstDeferredAt: typeof p.firstDeferredAt === 'string' ? p.firstDeferredAt : undefined,
      settled: Array.isArray(p.settled) ? p.settled.filter((i): i is SettledImage => typeof i?.image === 'string' && typeof i.kind === 'string') : [],
      waitedOn: Array.isArray(p.waitedOn) ? p.waitedOn.filter((i): i is string => typeof i === 'string') : [],
    };
  } catch {
    // Our own column; unreadable only if someone edited it. Starting over re-checks every image, which is safe.
    return undefined;
  }
}

function resume(seen: DedupeEntity): ClaimOutcome {
  const progress = parseProgress(seen.Progress);
  return progress ? { kind: 'resume', progress } : { kind: 'resume' };
}

export class EventDedupe {
  constructor(private readonly table: TableClient) {}

  readonly ensure = createOnce(() => this.table.createTable());

  private keys(event: DedupeSubject) {
    return { partitionKey: tableKey(event.resourceKey), rowKey: tableKey(event.correlationId) };
  }

  /**
   * `claimant` names the queue message. A claim still `processing` is resumed only by the same message
   * (its redelivery) or once it is older than `staleMs` (its message died for good); any other message
   * is a concurrent duplicate.
   */
  async claim(event: DedupeSubject, claimant: string, options: { staleMs: number; now?: Date }): Promise<ClaimOutcome> {
    const keys = this.keys(event);
    const now = options.now ?? new Date();
    const entity: DedupeEntity = {
      ...keys,
      ResourceId: event.resourceId,
      CorrelationId: event.correlationId,
      State: 'processing',
      FirstEventId: event.id,
      FirstSeen: now.toISOString(),
      ClaimedBy: claimant,
      ClaimedAt: now.toISOString(),
    };
    try {
      await this.table.createEntity(entity);
      return { kind: 'new' };
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    try {
      const seen = await this.table.getEntity<DedupeEntity>(keys.partitionKey, keys.rowKey);
      if (seen.State !== 'processing') return { kind: 'duplicate', state: seen.State, firstEventId: seen.FirstEventId };
      if (seen.ClaimedBy === claimant) return resume(seen);
      if (now.getTime() - Date.parse(seen.ClaimedAt) < options.staleMs) return { kind: 'duplicate', state: seen.State, firstEventId: seen.FirstEventId };
      // Take the abandoned claim over, unless another message just did.
      try {
        await this.table.updateEntity({ ...keys, ClaimedBy: claimant, ClaimedAt: now.toISOString() }, 'Merge', { etag: seen.etag });
        return resume(seen);
      } catch (error) {
        if ((error as { statusCode?: number }).statusCode === 412) return { kind: 'duplicate', state: seen.State, firstEventId: seen.FirstEventId };
        throw error;
      }
    } catch (error) {
      if (isNotFound(error)) return { kind: 'resume' };
      throw error;
    }
  }

  /**
   * Passes a `processing` claim from one queue message to its successor (a deferred re-send), so
   * the successor resumes the deployment instead of being taken for a concurrent duplicate. The claim
   * counts from `visibleAt` (when the successor shows up), so a long delay does not make it look abandoned.
   */
  async handOver(event: DedupeSubject, from: string, to: string, now = new Date(), progress?: DeploymentProgress, visibleAt?: Date): Promise<void> {
    const keys = this.keys(event);
    const seen = await this.table.getEntity<DedupeEntity>(keys.partitionKey, keys.rowKey);
    if (seen.State !== 'processing' || seen.ClaimedBy !== from) {
      throw new Error(`dedupe claim of ${event.resourceId} (${event.correlationId}) is ${seen.State} by ${seen.ClaimedBy}, not processing by ${from}; cannot hand it over`);
    }
    const claimedAt = (visibleAt && visibleAt.getTime() > now.getTime() ? visibleAt : now).toISOString();
    await this.table.updateEntity(
      { ...keys, ClaimedBy: to, ClaimedAt: claimedAt, ...(progress ? { Progress: JSON.stringify(progress).slice(0, 30000) } : {}) },
      'Merge',
      { etag: seen.etag },
    );
  }

  async finish(event: DedupeSubject, state: Exclude<DedupeState, 'processing'>, summary: Record<string, unknown>): Promise<void> {
    await this.table.updateEntity({ ...this.keys(event), State: state, Summary: JSON.stringify(summary).slice(0, 30000) }, 'Merge');
  }
}
