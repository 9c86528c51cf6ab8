import type { BlobServiceClient, ContainerClient } from '@azure/storage-blob';
import type { TableClient } from '@azure/data-tables';
import { parseScanResult, type ScanResult } from '../../shared/scan-result';
import { blobPath, sha256, tableKey } from './keys';
import { createOnce, isNotFound } from './storage-clients';
import type { ContainerType } from './telemetry-names';
import type { CachedScan } from './scan-locks';
import { redactor } from './log';
import type { SeverityCounts } from '../../shared/severity';

/** The image as the store names it. */
export interface StoredImage {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** Canonical reference (or the raw text of an unparsable one). */
  reference: string;
}

/** Statuses of a scan of our own. */
/** SKIPPED: deliberately not scanned (a ScanResult v1 status; the container path never produces it). */
export type RowStatus = 'COMPLETED' | 'PARTIAL' | 'FAILED' | 'TIMEOUT' | 'SKIPPED';
/** A row can also record a cache hit: the workload's image was answered by a recent scan of the same content. */
export type RowStatusColumn = RowStatus | 'CACHED';

export interface StoreRequest {
  result: ScanResult;
  image: StoredImage | { unparsable: string };
  containerType: ContainerType;
  resourceId: string;
  /** Table Status; TIMEOUT is stored as a FAILED ScanResult with error.code SCAN_TIMEOUT. */
  status: RowStatus;
  reason?: string;
}

export interface StoredScan {
  partitionKey: string;
  scanId: string;
  blobPath: string;
}

/** The count columns of a ScanMetadata row (and of the ContainerScan event, which uses the same names). */
export function vulnColumns(c: SeverityCounts): Pick<ScanRow, 'VulnCritical' | 'VulnHigh' | 'VulnMedium' | 'VulnLow' | 'VulnInformational' | 'VulnTotal'> {
  return { VulnCritical: c.critical, VulnHigh: c.high, VulnMedium: c.medium, VulnLow: c.low, VulnInformational: c.informational, VulnTotal: c.total };
}

/**
 * The ScanMetadata columns (the seed's, plus Digest, ResourceId, VulnInformational, Reason, CompletedAt,
 * Engine, CacheHit, SourceScanId). A cache hit has a row of its own (Status CACHED, CacheHit true), so every
 * workload has a row per image: its BlobPath and counts are those of the reused scan, SourceScanId names it.
 */
export interface ScanRow {
  partitionKey: string;
  rowKey: string;
  Image: string;
  Status: RowStatusColumn;
  ContainerType: ContainerType;
  VulnCritical: number;
  VulnHigh: number;
  VulnMedium: number;
  VulnLow: number;
  VulnInformational: number;
  VulnTotal: number;
  CompliancePassed: number;
  ComplianceFailed: number;
  BlobPath: string;
  Digest: string;
  ResourceId: string;
  Reason: string;
  CompletedAt: string;
  Engine: string;
  CacheHit: boolean;
  /** The scan whose result a cache hit reused; empty for a scan of its own. */
  SourceScanId: string;
}

/** A cache hit to record for a workload. */
export interface CacheHitRequest {
  scanId: string;
  image: StoredImage;
  containerType: ContainerType;
  resourceId: string;
  cached: CachedScan;
  at: Date;
}

/** PartitionKey of an image: every scan of `registry/repository:tag` (or of the digest alone) shares it. */
export function imagePartitionKey(image: StoredImage | { unparsable: string }): string {
  if ('unparsable' in image) return tableKey(`unparsable:${image.unparsable}`);
  const name = `${image.registry}/${image.repository}`;
  return tableKey(image.tag ? `${name}:${image.tag}` : image.digest ? `${name}@${image.digest}` : `${name}:latest`);
}

/** `<registry>/<repository>/<content id>/<scanId>.json`, under `errors/` for failures. */
export function resultBlobPath(image: StoredImage | { unparsable: string }, scanId: string, failed: boolean): string {
  // A digest names the content better than a tag; `sha256-<hex>` reads better than the escaped colon.
  const segments =
    'unparsable' in image
      ? ['unparsable', sha256(image.unparsable).slice(0, 16)]
      : [image.registry, image.repository, (image.digest ?? image.tag ?? 'latest').replace(':', '-')];
  return blobPath(...(failed ? ['errors'] : []), ...segments, `${scanId}.json`);
}

export class ScanStore {
  private readonly container: ContainerClient;

  constructor(
    blobs: BlobServiceClient,
    containerName: string,
    private readonly table: TableClient,
  ) {
    this.container = blobs.getContainerClient(containerName);
  }

  /** Creates the container and table when missing (in Azure the infrastructure already did). */
  readonly ensure = createOnce(
    () => this.container.createIfNotExists(),
    () => this.table.createTable(),
  );

  /**
   * Writes the blob, then the row that points at it. Both are keyed by scanId, so a redelivered
   * message overwrites the same two items instead of adding a second result.
   */
  async save(req: StoreRequest): Promise<StoredScan> {
    const parsed = parseScanResult(req.result);
    // Error texts come from Qualys, ARM and our own clients: they may quote a token or a password.
    const result = parsed.error ? { ...parsed, error: { ...parsed.error, message: redactor.redact(parsed.error.message) } } : parsed;
    const failed = req.status === 'FAILED' || req.status === 'TIMEOUT';
    const path = resultBlobPath(req.image, result.scanId, failed);
    const body = JSON.stringify(result);
    const imageText = 'unparsable' in req.image ? req.image.unparsable : req.image.reference;
    await this.container.getBlockBlobClient(path).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      // Metadata values travel as HTTP headers: ASCII only.
      metadata: {
        image: asciiHeader(imageText),
        scanid: asciiHeader(result.scanId),
        containertype: req.containerType,
        status: req.status,
      },
    });
    const partitionKey = imagePartitionKey(req.image);
    const row: ScanRow = {
      partitionKey,
      rowKey: tableKey(result.scanId),
      // An unparsable image is whatever text ARM held; the blob keeps the start of it too.
      Image: column(imageText),
      Status: req.status,
      ContainerType: req.containerType,
      ...vulnColumns(result.counts),
      CompliancePassed: result.compliance?.passed ?? 0,
      ComplianceFailed: result.compliance?.failed ?? 0,
      BlobPath: path,
      Digest: 'unparsable' in req.image ? '' : (req.image.digest ?? ''),
      ResourceId: column(req.resourceId),
      Reason: column(redactor.redact(req.reason ?? result.error?.message ?? '')),
      CompletedAt: result.completedAt,
      Engine: result.engine.name,
      CacheHit: false,
      SourceScanId: '',
    };
    await this.table.upsertEntity(row, 'Replace');
    return { partitionKey, scanId: result.scanId, blobPath: path };
  }

  /** Writes the row of a cache hit (no blob: BlobPath points at the reused result). Keyed by scanId, so a redelivery overwrites it. */
  async saveCacheHit(req: CacheHitRequest): Promise<StoredScan> {
    const partitionKey = imagePartitionKey(req.image);
    const c = req.cached;
    const row: ScanRow = {
      partitionKey,
      rowKey: tableKey(req.scanId),
      Image: req.image.reference,
      Status: 'CACHED',
      ContainerType: req.containerType,
      ...vulnColumns(c),
      // The cache keeps counts only; the reused document (BlobPath) has the compliance numbers.
      CompliancePassed: 0,
      ComplianceFailed: 0,
      BlobPath: c.blobPath,
      Digest: req.image.digest ?? '',
      ResourceId: req.resourceId,
      Reason: `reused scan ${c.scanId} (${c.status}) completed ${c.completedAt}`,
      CompletedAt: req.at.toISOString(),
      // The Azure runtime scans with the Container Security API only; the cache entry came from it.
      Engine: 'qualys-csapi',
      CacheHit: true,
      SourceScanId: c.scanId,
    };
    await this.table.upsertEntity(row, 'Replace');
    return { partitionKey, scanId: req.scanId, blobPath: c.blobPath };
  }

  async getRow(partitionKey: string, scanId: string): Promise<ScanRow | undefined> {
    try {
      return await this.table.getEntity<ScanRow>(partitionKey, tableKey(scanId));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async readResult(path: string): Promise<ScanResult> {
    const buffer = await this.container.getBlockBlobClient(path).downloadToBuffer();
    return parseScanResult(JSON.parse(buffer.toString('utf8')));
  }

  /**
   * Records what is not a scan but must not be lost unseen: a malformed message (`messages`), a
   * workload deleted before we read it (`resources`), an event that kept failing (`events`).
   */
  async saveErrorRecord(kind: 'messages' | 'resources' | 'events', name: string, record: Record<string, unknown>): Promise<string> {
    const path = blobPath('errors', kind, `${name}.json`);
    // Reasons quote error texts and rejected bodies: redact them like a log line.
    const body = JSON.stringify(redactor.redactDeep(record));
    await this.container.getBlockBlobClient(path).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
    });
    return path;
  }
}

/** Characters a free-text column keeps (a Table string property holds 32K); more is cut, with the count said. */
const COLUMN_MAX = 4000;

function column(value: string): string {
  if (value.length <= COLUMN_MAX) return value;
  const note = `...[${value.length - COLUMN_MAX} more characters]`;
  return `${value.slice(0, COLUMN_MAX - note.length)}${note}`;
}

function asciiHeader(value: string): string {
  return value.replace(/[^\x20-\x7e]/g, '?').slice(0, 1024);
}
