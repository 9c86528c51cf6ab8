import type { TableClient } from '@azure/data-tables';
import type { ScanTicket } from '../../shared/qualys/contracts';
import type { SeverityCounts } from '../../shared/severity';
import { tableKey } from './keys';
import { createOnce, isConflict, isNotFound, isPreconditionFailed } from './storage-clients';

/**
 * Per-content state in the LOCK_TABLE, one partition per content key (the image digest, else the
 * canonical reference):
 *   RowKey `inflight`: the lock a scan holds from submit to store (a Table insert conflicts for the
 *   second taker, which is how duplicates are avoided);
 *   RowKey `latest`: the last stored scan, the cache consulted before any Qualys call.
 * Both are point reads: no table filters (Azurite's filtering differs from Azure's).
 */

const INFLIGHT = 'inflight';
const LATEST = 'latest';

export interface CachedScan extends SeverityCounts {
  scanId: string;
  status: string;
  completedAt: string;
  blobPath: string;
  partitionKey: string;
  /** The deployment whose scan this is: its own redelivery must not take its result for a cache hit. */
  owner?: string;
}

export type LockOutcome =
  | { kind: 'acquired'; scanId: string }
  /** The same deployment event took this lock before (a redelivery): carry on from where it stopped. */
  | { kind: 'resumed'; scanId: string; ticket?: ScanTicket }
  | { kind: 'held'; scanId: string; owner: string; since: string; expiresAt: string };

interface LockEntity {
  partitionKey: string;
  rowKey: string;
  ScanId: string;
  Owner: string;
  Image: string;
  LockedAt: string;
  ExpiresAt: string;
  Ticket?: string;
  etag?: string;
}

interface LatestEntity {
  partitionKey: string;
  rowKey: string;
  ScanId: string;
  Status: string;
  CompletedAt: string;
  BlobPath: string;
  ScanPartitionKey: string;
  Owner?: string;
  Critical: number;
  High: number;
  Medium: number;
  Low: number;
  Informational: number;
  Total: number;
}

export class ScanLocks {
  constructor(private readonly table: TableClient) {}

  readonly ensure = createOnce(() => this.table.createTable());

  async latest(contentKey: string): Promise<CachedScan | undefined> {
    try {
      const e = await this.table.getEntity<LatestEntity>(tableKey(contentKey), LATEST);
      return {
        scanId: e.ScanId,
        status: e.Status,
        completedAt: e.CompletedAt,
        blobPath: e.BlobPath,
        partitionKey: e.ScanPartitionKey,
        ...(e.Owner ? { owner: e.Owner } : {}),
        critical: e.Critical,
        high: e.High,
        medium: e.Medium,
        low: e.Low,
        informational: e.Informational,
        total: e.Total,
      };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async acquire(contentKey: string, claim: { scanId: string; owner: string; image: string; ttlMs: number; now?: Date }): Promise<LockOutcome> {
    const now = claim.now ?? new Date();
    const entity: LockEntity = {
      partitionKey: tableKey(contentKey),
      rowKey: INFLIGHT,
      ScanId: claim.scanId,
      Owner: claim.owner,
      Image: claim.image,
      LockedAt: now.toISOString(),
      ExpiresAt: new Date(now.getTime() + claim.ttlMs).toISOString(),
    };
    for (let attempt = 0; attempt < 3; attempt += 1) {
      try {
        await this.table.createEntity(entity);
        return { kind: 'acquired', scanId: claim.scanId };
      } catch (error) {
        if (!isConflict(error)) throw error;
      }
      let held: LockEntity;
      try {
        held = await this.table.getEntity<LockEntity>(entity.partitionKey, INFLIGHT);
      } catch (error) {
        if (isNotFound(error)) continue; // released between our insert and our read: try again
        throw error;
      }
      if (held.Owner === claim.owner) {
        return { kind: 'resumed', scanId: held.ScanId, ticket: held.Ticket ? (JSON.parse(held.Ticket) as ScanTicket) : undefined };
      }
      if (Date.parse(held.ExpiresAt) > now.getTime()) {
        return { kind: 'held', scanId: held.ScanId, owner: held.Owner, since: held.LockedAt, expiresAt: held.ExpiresAt };
      }
      // A lock past its deadline belongs to a scan that died: take it over, but only if nobody else did.
      try {
        await this.table.updateEntity(entity, 'Replace', { etag: held.etag });
        return { kind: 'acquired', scanId: claim.scanId };
      } catch (error) {
        if (!isPreconditionFailed(error) && !isNotFound(error)) throw error;
      }
    }
    throw new Error(`could not settle the scan lock for ${contentKey} after 3 attempts`);
  }

  /** Stores the ticket with the lock so a redelivered deployment event resumes instead of submitting again. */
  async markSubmitted(contentKey: string, scanId: string, ticket: ScanTicket): Promise<void> {
    await this.table.updateEntity({ partitionKey: tableKey(contentKey), rowKey: INFLIGHT, ScanId: scanId, Ticket: JSON.stringify(ticket) }, 'Merge');
  }

  /** Records the stored scan as the cache entry (completed scans only) and drops our lock. */
  async complete(contentKey: string, scanId: string, cached?: CachedScan): Promise<void> {
    const pk = tableKey(contentKey);
    if (cached) {
      const latest: LatestEntity = {
        partitionKey: pk,
        rowKey: LATEST,
        ScanId: cached.scanId,
        Status: cached.status,
        CompletedAt: cached.completedAt,
        BlobPath: cached.blobPath,
        ScanPartitionKey: cached.partitionKey,
        ...(cached.owner ? { Owner: cached.owner } : {}),
        Critical: cached.critical,
        High: cached.high,
        Medium: cached.medium,
        Low: cached.low,
        Informational: cached.informational,
        Total: cached.total,
      };
      await this.table.upsertEntity(latest, 'Replace');
    }
    await this.release(contentKey, scanId);
  }

  /** Deletes the in-flight lock if it is still ours (a takeover after expiry belongs to someone else). */
  async release(contentKey: string, scanId: string): Promise<void> {
    const pk = tableKey(contentKey);
    try {
      const held = await this.table.getEntity<LockEntity>(pk, INFLIGHT);
      if (held.ScanId !== scanId) return;
      await this.table.deleteEntity(pk, INFLIGHT, { etag: held.etag });
    } catch (error) {
      if (isNotFound(error) || isPreconditionFailed(error)) return;
      throw error;
    }
  }

  async inflight(contentKey: string): Promise<{ scanId: string; owner: string } | undefined> {
    try {
      const held = await this.table.getEntity<LockEntity>(tableKey(contentKey), INFLIGHT);
      return { scanId: held.ScanId, owner: held.Owner };
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }
}
