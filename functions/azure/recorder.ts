import { randomUUID } from 'node:crypto';
import { emptyCounts, type Severity } from '../../shared/severity';
import { SCHEMA_VERSION, type ScanResult, type ScanTarget } from '../../shared/scan-result';
import { vulnColumns, type ScanStore, type StoredImage, type RowStatus, type StoredScan } from './scan-store';
import type { ScanLocks, CachedScan } from './scan-locks';
import type { Telemetry } from './telemetry';
import type { Logger } from './log';
import { sendAlert, type AlertInput } from './notify/scan-alerts';
import { COMPONENTS, SCAN_EVENT_TYPES, type ContainerType } from './telemetry-names';

/** The deployment a scan belongs to. */
export interface WorkloadInfo {
  resourceId: string;
  subscriptionId: string;
  resourceGroup: string;
  location?: string;
}

export function newScanId(): string {
  return randomUUID();
}

const WORKLOAD_TYPES: Record<ContainerType, 'aci' | 'aca' | 'registry'> = { ACI: 'aci', ACA: 'aca', ACR: 'registry' };

export function scanTarget(image: StoredImage | undefined, containerType: ContainerType, workload: WorkloadInfo): ScanTarget {
  return {
    cloud: 'azure',
    kind: 'container-image',
    ...(image
      ? { image: { registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reference: image.reference } }
      : {}),
    workload: {
      resourceId: workload.resourceId,
      type: WORKLOAD_TYPES[containerType],
      account: workload.subscriptionId,
      region: workload.location ?? 'unknown',
      resourceGroup: workload.resourceGroup,
    },
  };
}

export function failureResult(input: {
  scanId: string;
  target: ScanTarget;
  code: string;
  message: string;
  retryable: boolean;
  startedAt: string;
  now: Date;
}): ScanResult {
  return {
    schemaVersion: SCHEMA_VERSION,
    scanId: input.scanId,
    status: 'FAILED',
    target: input.target,
    engine: { name: 'qualys-csapi' },
    startedAt: input.startedAt,
    completedAt: input.now.toISOString(),
    counts: emptyCounts(),
    vulnerabilities: [],
    error: { code: input.code, message: input.message.slice(0, 2000), retryable: input.retryable },
  };
}

export interface RecordContext {
  store: ScanStore;
  locks: ScanLocks;
  telemetry: Telemetry;
  log: Logger;
  alert?: { url: string; threshold: Severity; send?: typeof sendAlert };
}

export interface OutcomeInput {
  result: ScanResult;
  image: StoredImage | { unparsable: string };
  containerType: ContainerType;
  workload: WorkloadInfo;
  status: RowStatus;
  reason?: string;
  /** The content lock this scan holds (released here; completed scans also become its cache entry). */
  contentKey?: string;
  /** The deployment that owns the lock, kept with the cache entry. */
  owner?: string;
  durationMs: number;
}

/**
 * Stores one outcome (blob, then row), then finishes it (finishOutcome). The row is the commit point:
 * a delivery that dies after it is finished by its redelivery.
 */
export async function recordOutcome(ctx: RecordContext, input: OutcomeInput): Promise<StoredScan> {
  const stored = await ctx.store.save({
    result: input.result,
    image: input.image,
    containerType: input.containerType,
    resourceId: input.workload.resourceId,
    status: input.status,
    reason: input.reason,
  });
  await finishOutcome(ctx, input, stored);
  return stored;
}

/**
 * Everything after the row: the cache entry and the lock release, the ContainerScan event and, for
 * findings at or over the threshold, the webhook alert. The lock goes first, so a held lock after a
 * stored row means none of the rest happened yet (what a redelivery checks before finishing). The
 * alert runs last and never throws: the result is already safe by then.
 */
export async function finishOutcome(ctx: RecordContext, input: OutcomeInput, stored: StoredScan): Promise<void> {
  if (input.contentKey) {
    const cacheable = input.status === 'COMPLETED' || input.status === 'PARTIAL';
    const c = input.result.counts;
    const cached: CachedScan | undefined = cacheable
      ? {
          scanId: stored.scanId,
          status: input.status,
          completedAt: input.result.completedAt,
          blobPath: stored.blobPath,
          partitionKey: stored.partitionKey,
          ...(input.owner ? { owner: input.owner } : {}),
          ...c,
        }
      : undefined;
    await ctx.locks.complete(input.contentKey, input.result.scanId, cached);
  }
  const imageText = 'unparsable' in input.image ? input.image.unparsable : input.image.reference;
  const c = input.result.counts;
  ctx.telemetry.containerScan({
    EventType:
      input.status === 'TIMEOUT' ? SCAN_EVENT_TYPES.timeout : input.status === 'FAILED' ? SCAN_EVENT_TYPES.failed : SCAN_EVENT_TYPES.completed,
    Image: imageText,
    ContainerType: input.containerType,
    ScanId: input.result.scanId,
    Status: input.status,
    ...vulnColumns(c),
    Duration: Math.round(input.durationMs),
    Digest: 'unparsable' in input.image ? undefined : input.image.digest,
    ResourceId: input.workload.resourceId,
    Reason: input.reason,
    BlobPath: stored.blobPath,
  });
  const level = input.status === 'COMPLETED' || input.status === 'PARTIAL' ? 'info' : 'warn';
  ctx.log[level](`scan ${input.status.toLowerCase()}`, {
    scanId: input.result.scanId,
    image: imageText,
    status: input.status,
    critical: c.critical,
    high: c.high,
    total: c.total,
    blobPath: stored.blobPath,
    ...(input.reason ? { reason: input.reason } : {}),
  });
  if (ctx.alert && (input.status === 'COMPLETED' || input.status === 'PARTIAL')) {
    const alertInput: AlertInput = {
      result: input.result,
      image: imageText,
      containerType: input.containerType,
      resourceId: input.workload.resourceId,
      blobPath: stored.blobPath,
    };
    try {
      const sent = await (ctx.alert.send ?? sendAlert)(alertInput, { url: ctx.alert.url, threshold: ctx.alert.threshold });
      if (sent) ctx.log.info('findings alert sent', { scanId: input.result.scanId });
    } catch (error) {
      ctx.log.error('findings alert failed; the result is stored', { scanId: input.result.scanId, error });
      ctx.telemetry.exception(error, COMPONENTS.alert, { ScanId: input.result.scanId });
    }
  }
}
