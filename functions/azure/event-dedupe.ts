import type { TableClient } from '@azure/data-tables';
import { tableKey } from './keys';
import { isConflict, isNotFound } from './storage-clients';
import type { DeploymentEvent } from './deployment-event';

/**
 * One row per deployment (resource + ARM correlation id) in the DEDUPE_TABLE. Event Grid delivers at
 * least once, and one write can raise several events with the same correlation id: the first delivery
 * claims the row, later ones see it `done` and stop. A row still `processing` means an earlier
 * delivery died midway; the redelivery resumes (every later step is idempotent on its own).
 */

export type DedupeState = 'processing' | 'done' | 'gone';
export type ClaimOutcome = { kind: 'new' } | { kind: 'resume' } | { kind: 'duplicate'; state: DedupeState; firstEventId: string };

interface DedupeEntity {
  partitionKey: string;
  rowKey: string;
  ResourceId: string;
  CorrelationId: string;
  State: DedupeState;
  FirstEventId: string;
  FirstSeen: string;
  Summary?: string;
}

export class EventDedupe {
  private ready?: Promise<unknown>;

  constructor(private readonly table: TableClient) {}

  async ensure(): Promise<void> {
    this.ready ??= this.table.createTable().catch((e: unknown) => {
      if (!isConflict(e)) throw e;
    });
    await this.ready;
  }

  private keys(event: DeploymentEvent) {
    return { partitionKey: tableKey(event.resourceKey), rowKey: tableKey(event.correlationId) };
  }

  async claim(event: DeploymentEvent): Promise<ClaimOutcome> {
    const keys = this.keys(event);
    const entity: DedupeEntity = {
      ...keys,
      ResourceId: event.resourceId,
      CorrelationId: event.correlationId,
      State: 'processing',
      FirstEventId: event.id,
      FirstSeen: new Date().toISOString(),
    };
    try {
      await this.table.createEntity(entity);
      return { kind: 'new' };
    } catch (error) {
      if (!isConflict(error)) throw error;
    }
    try {
      const seen = await this.table.getEntity<DedupeEntity>(keys.partitionKey, keys.rowKey);
      if (seen.State === 'processing') return { kind: 'resume' };
      return { kind: 'duplicate', state: seen.State, firstEventId: seen.FirstEventId };
    } catch (error) {
      if (isNotFound(error)) return { kind: 'resume' };
      throw error;
    }
  }

  async finish(event: DeploymentEvent, state: Exclude<DedupeState, 'processing'>, summary: Record<string, unknown>): Promise<void> {
    await this.table.updateEntity({ ...this.keys(event), State: state, Summary: JSON.stringify(summary).slice(0, 30000) }, 'Merge');
  }
}
