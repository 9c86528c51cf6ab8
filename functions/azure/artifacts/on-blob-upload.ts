import { randomUUID } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { InvocationContext } from '@azure/functions';
import type { ContainerClient } from '@azure/storage-blob';
import { DEFAULT_EXTRACT_LIMITS, extractArtifact, type ExtractLimits, type ExtractionReport } from '../../../shared/artifacts/extract';
import { sniffMime, type Mime } from '../../../shared/artifacts/mime';
import { redactSecretText } from '../../../shared/artifacts/redact';
import { spool, SpoolAbort, type Spooled } from '../../../shared/artifacts/spool';
import { decodeEvents, MessageFormatError } from '../../../shared/event-grid';
import { parseScanResult, type ScanResult, type ScanTarget } from '../../../shared/scan-result';
import { emptyCounts, type SeverityCounts } from '../../../shared/severity';
import type { ScanEngine } from '../../aws/scan-engine';
import { blobPath } from '../keys';
import { createLogger, redactor } from '../log';
import type { ScanLocks } from '../scan-locks';
import { createOnce } from '../storage-clients';
import type { Telemetry } from '../telemetry';
import { COMPONENTS, FUNCTION_NAMES, OBJECT_OUTCOMES, OBJECT_SCAN_EVENT, type ObjectOutcomeName } from '../telemetry-names';
import { classifyBlobCreated, type BlobEvent, type BlobRules } from './blob-event';
import { BlobAccessDeniedError, BlobGoneError, type BlobReader } from './blob-reader';

/**
 * `onBlobUpload` (queue `blob-uploads`): a new blob in a watched storage account, end to end: the rules again
 * (filters are a first cut) -> read with the managed identity as a stream -> one pass of SHA-256 + MIME sniff +
 * spool to the temporary disk (shared/artifacts, the same as the S3 object scanner) -> content cache by SHA-256
 * (the `latest` / `inflight` rows of the lock table, as images use them) -> safe extraction -> `qscanner repo`
 * (pkg, secret) when a QScanner package is configured -> a ScanResult v1 for THIS blob (`target.kind =
 * object`; a cache hit gets its own record naming the scan it reuses). Without an engine the blob is recorded
 * SKIPPED (NO_ENGINE) with its hash, type and size. Every blob that is not scanned is recorded SKIPPED with the
 * reason; a blob gone before it was read or not readable is recorded once and never retried.
 */

export interface BlobPipelineSettings {
  rules: BlobRules;
  maxObjectBytes: number;
  /** Parent of each blob's working directory (the Function App's temporary disk). */
  workDir: string;
  extractLimits: ExtractLimits;
  /** Scans of the same content younger than this are reused. */
  cacheHours: number;
  scanTimeoutMs: number;
  lockTtlMs: number;
  /** Part of the content key: results of other scan types are not interchangeable. */
  scanProfile: string;
  /** Where the Function App runs: the record's region (a blob event does not say where the account is). */
  region: string;
}

export interface BlobPipelineDeps {
  settings: BlobPipelineSettings;
  reader: BlobReader;
  /** The results container of the app's own account. */
  results: ContainerClient;
  locks: ScanLocks;
  /** QScanner; undefined when no package of it is configured for the Function App. */
  engine?: ScanEngine;
  telemetry: Telemetry;
  /** Puts the message back for later (another scan of the same bytes is in flight). */
  redeliver: (message: unknown, delaySec: number) => Promise<string>;
  queueDelaySec?: (sec: number) => number;
  now?: () => Date;
  newScanId?: () => string;
}

export type ObjectSummary = NonNullable<ScanTarget['object']>;

export type BlobOutcome =
  | { kind: 'scanned'; status: ScanResult['status']; scanId: string; resultPath: string; counts: SeverityCounts; secrets: number; object: ObjectSummary; limit?: string }
  | { kind: 'cache-hit'; scanId: string; resultPath: string; reusedScanId: string; reusedResultPath: string; counts: SeverityCounts; secrets: number; object: ObjectSummary }
  | { kind: 'skipped'; code: string; reason: string; resultPath: string; object: ObjectSummary }
  | { kind: 'failed'; code: string; reason: string; resultPath: string; object: ObjectSummary }
  | { kind: 'duplicate'; reason: string }
  | { kind: 'retry-later'; reason: string; delaySec: number }
  | { kind: 'ignored'; reason: string }
  | { kind: 'malformed'; reason: string };

export interface BlobUploadOutcome {
  messageId: string;
  blobs: BlobOutcome[];
}

/** Another scan of the same bytes is running: the message comes back after this long (simulated seconds locally). */
export const BUSY_RETRY_SEC = 30;
const RECORD_MARGIN_MS = 30_000;

/** `objects/<account>/<container>/<sha256 | unread>/<scanId>.json` in the results container. */
export function objectResultPath(parts: { account: string; container: string; sha256?: string; scanId: string }): string {
  return blobPath('objects', parts.account, parts.container, parts.sha256 ?? 'unread', `${parts.scanId}.json`);
}

export function objectContentKey(sha256: string, profile: string): string {
  return `object#sha256:${sha256}#${profile}`;
}

function messageIdOf(context: InvocationContext): string {
  const id = (context.triggerMetadata as Record<string, unknown> | undefined)?.id;
  return typeof id === 'string' && id ? id : context.invocationId;
}

export class BlobPipeline {
  private readonly now: () => Date;
  /** In Azure the infrastructure made the container; locally the first record does. */
  private readonly ensureResults = createOnce(() => this.deps.results.createIfNotExists());

  constructor(private readonly deps: BlobPipelineDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  private scanIdNow(): string {
    return this.deps.newScanId?.() ?? `${this.now().toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
  }

  private summary(blob: BlobEvent, known: Partial<Pick<ObjectSummary, 'sha256' | 'mime' | 'size'>> = {}): ObjectSummary {
    const size = known.size ?? blob.contentLength;
    return {
      bucket: `${blob.account}/${blob.container}`,
      key: blob.name,
      ...(known.sha256 ? { sha256: known.sha256 } : {}),
      ...(known.mime ? { mime: known.mime } : {}),
      ...(size !== undefined ? { size } : {}),
      account: blob.subscriptionId,
      region: this.deps.settings.region,
    };
  }

  private base(object: ObjectSummary, scanId: string, startedAt: Date): Omit<ScanResult, 'status'> {
    return {
      schemaVersion: 1,
      scanId,
      target: { cloud: 'azure', kind: 'object', object },
      engine: { name: 'qscanner' },
      startedAt: startedAt.toISOString(),
      completedAt: this.now().toISOString(),
      counts: emptyCounts(),
      vulnerabilities: [],
    };
  }

  private async put(resultPath: string, result: ScanResult): Promise<void> {
    await this.ensureResults();
    const body = JSON.stringify(parseScanResult(result));
    await this.deps.results.getBlockBlobClient(resultPath).upload(body, Buffer.byteLength(body), {
      blobHTTPHeaders: { blobContentType: 'application/json' },
      metadata: { scanid: result.scanId, status: result.status, kind: 'object' },
    });
  }

  private emit(outcome: ObjectOutcomeName, blob: BlobEvent | undefined, fields: { status?: string; object?: ObjectSummary; scanId?: string; resultPath?: string; reason?: string; counts?: SeverityCounts; secrets?: number; sourceScanId?: string }): void {
    const o = fields.object;
    this.deps.telemetry.event(OBJECT_SCAN_EVENT, {
      Outcome: outcome,
      Status: fields.status,
      Account: blob?.account,
      Container: blob?.container,
      // Names are chosen by whoever uploaded: bounded, and never a full path of folders in a dimension.
      Blob: blob?.name.slice(0, 256),
      Sha256: o?.sha256,
      Mime: o?.mime,
      Size: o?.size,
      ScanId: fields.scanId,
      BlobPath: fields.resultPath,
      Reason: fields.reason?.slice(0, 500),
      SourceScanId: fields.sourceScanId,
      VulnCritical: fields.counts?.critical,
      VulnHigh: fields.counts?.high,
      VulnMedium: fields.counts?.medium,
      VulnLow: fields.counts?.low,
      VulnTotal: fields.counts?.total,
      Secrets: fields.secrets,
    });
  }

  private async record(blob: BlobEvent, status: 'SKIPPED' | 'FAILED', code: string, reason: string, known: Partial<ObjectSummary>, startedAt: Date): Promise<BlobOutcome> {
    const scanId = this.scanIdNow();
    const object = this.summary(blob, known);
    const resultPath = objectResultPath({ account: blob.account, container: blob.container, ...(object.sha256 ? { sha256: object.sha256 } : {}), scanId });
    const base = this.base(object, scanId, startedAt);
    await this.put(
      resultPath,
      status === 'SKIPPED' ? { ...base, status, skipped: { code, reason } } : { ...base, status, error: { code, message: redactor.redact(reason).slice(0, 2000), retryable: false } },
    );
    this.emit(status === 'SKIPPED' ? OBJECT_OUTCOMES.skipped : OBJECT_OUTCOMES.failed, blob, { status, object, scanId, resultPath, reason: `${code}: ${reason}` });
    return status === 'SKIPPED' ? { kind: 'skipped', code, reason, resultPath, object } : { kind: 'failed', code, reason, resultPath, object };
  }

  async process(raw: unknown, context: { messageId: string; message: unknown; remainingMs?: () => number }): Promise<BlobOutcome> {
    const classified = classifyBlobCreated(raw, this.deps.settings.rules);
    if (classified.kind === 'malformed') {
      this.emit(OBJECT_OUTCOMES.malformed, undefined, { reason: classified.reason });
      return { kind: 'malformed', reason: classified.reason };
    }
    if (classified.kind === 'ignored') {
      this.emit(OBJECT_OUTCOMES.ignored, undefined, { reason: classified.reason });
      return { kind: 'ignored', reason: classified.reason };
    }
    const blob = classified.blob;
    const { settings } = this.deps;
    const startedAt = this.now();
    if (blob.contentLength !== undefined && blob.contentLength > settings.maxObjectBytes) {
      return this.record(blob, 'SKIPPED', 'OBJECT_TOO_LARGE', `${blob.contentLength} bytes, above the limit of ${settings.maxObjectBytes}`, {}, startedAt);
    }
    const scanId = this.scanIdNow();
    const dir = path.join(settings.workDir, `blob-${scanId}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      return await this.readAndScan(blob, scanId, dir, startedAt, context);
    } finally {
      // Warm instances reuse the temporary disk: nothing of a blob outlives its record.
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async readAndScan(blob: BlobEvent, scanId: string, dir: string, startedAt: Date, context: { messageId: string; message: unknown; remainingMs?: () => number }): Promise<BlobOutcome> {
    const { settings, locks } = this.deps;
    let opened;
    try {
      opened = await this.deps.reader.open(blob);
    } catch (error) {
      if (error instanceof BlobGoneError) return this.record(blob, 'SKIPPED', 'OBJECT_GONE', error.message, {}, startedAt);
      if (error instanceof BlobAccessDeniedError) return this.record(blob, 'FAILED', 'ACCESS_DENIED', error.message, {}, startedAt);
      throw error;
    }
    if (opened.contentLength !== undefined && opened.contentLength > settings.maxObjectBytes) {
      opened.body.destroy();
      return this.record(blob, 'SKIPPED', 'OBJECT_TOO_LARGE', `${opened.contentLength} bytes, above the limit of ${settings.maxObjectBytes}`, { size: opened.contentLength }, startedAt);
    }
    let sniffed: Mime | undefined;
    let spooled: Spooled;
    try {
      spooled = await spool(opened.body, {
        file: path.join(dir, 'object'),
        maxBytes: settings.maxObjectBytes,
        onHead: (head) => {
          sniffed = sniffMime(head);
          return undefined;
        },
      });
    } catch (error) {
      if (error instanceof SpoolAbort) return this.record(blob, 'SKIPPED', error.code, error.message, sniffed ? { mime: sniffed } : {}, startedAt);
      throw error;
    }
    const mime = sniffed ?? sniffMime(spooled.head);
    const known = { sha256: spooled.sha256, mime, size: spooled.size };
    if (!this.deps.engine) {
      return this.record(blob, 'SKIPPED', 'NO_ENGINE', 'not scanned: no engine (no QScanner package is configured for the Function App: azure.artifacts.qscanner)', known, startedAt);
    }

    const key = objectContentKey(spooled.sha256, settings.scanProfile);
    await locks.ensure();
    const owner = `blob:${blob.id}`;
    const latest = await locks.latest(key);
    if (latest && latest.owner === owner) {
      // This event was scanned (or reused) already: a redelivery adds no second record.
      this.emit(OBJECT_OUTCOMES.duplicate, blob, { scanId: latest.scanId, resultPath: latest.blobPath, reason: 'duplicate delivery of an event already recorded' });
      return { kind: 'duplicate', reason: `event ${blob.id} already recorded as ${latest.blobPath}` };
    }
    if (latest && this.fresh(latest.completedAt)) {
      const reused = await this.reuse(blob, known, latest.scanId, latest.blobPath, startedAt);
      if (reused) return reused;
    }
    const lock = await locks.acquire(key, { scanId, owner, image: `${blob.account}/${blob.container}/${blob.name}`.slice(0, 1024), ttlMs: settings.lockTtlMs, now: this.now() });
    if (lock.kind === 'held') {
      const delaySec = BUSY_RETRY_SEC;
      await this.deps.redeliver(context.message, this.deps.queueDelaySec ? this.deps.queueDelaySec(delaySec) : delaySec);
      const reason = `another scan of sha256 ${spooled.sha256} is in flight (scan ${lock.scanId}); the event comes back in ${delaySec} s`;
      this.emit(OBJECT_OUTCOMES.retryLater, blob, { object: this.summary(blob, known), reason });
      return { kind: 'retry-later', reason, delaySec };
    }
    const ownScanId = lock.scanId;
    try {
      return await this.scan(blob, { key, owner, scanId: ownScanId, dir, spooled, mime, startedAt }, context);
    } catch (error) {
      await locks.release(key, ownScanId).catch(() => undefined);
      throw error;
    }
  }

  private fresh(completedAt: string): boolean {
    const age = this.now().getTime() - Date.parse(completedAt);
    return Number.isFinite(age) && age < this.deps.settings.cacheHours * 3_600_000;
  }

  /** A record for this blob that repeats the findings of the earlier scan of the same bytes, or undefined when that result is gone. */
  private async reuse(blob: BlobEvent, known: Pick<ObjectSummary, 'sha256' | 'mime' | 'size'>, reusedScanId: string, reusedResultPath: string, startedAt: Date): Promise<BlobOutcome | undefined> {
    let original: ScanResult;
    try {
      const buffer = await this.deps.results.getBlobClient(reusedResultPath).downloadToBuffer();
      original = parseScanResult(JSON.parse(buffer.toString('utf8')));
    } catch {
      return undefined;
    }
    const scanId = this.scanIdNow();
    const object = this.summary(blob, { ...known, mime: original.target.object?.mime ?? known.mime });
    const resultPath = objectResultPath({ account: blob.account, container: blob.container, sha256: known.sha256, scanId });
    const result: ScanResult = {
      ...original,
      scanId,
      target: { cloud: 'azure', kind: 'object', object },
      startedAt: startedAt.toISOString(),
      completedAt: this.now().toISOString(),
      reusedScan: { scanId: reusedScanId, resultKey: reusedResultPath },
    };
    await this.put(resultPath, result);
    const secrets = result.secrets?.count ?? 0;
    this.emit(OBJECT_OUTCOMES.cacheHit, blob, { status: 'CACHED', object, scanId, resultPath, counts: result.counts, secrets, sourceScanId: reusedScanId });
    return { kind: 'cache-hit', scanId, resultPath, reusedScanId, reusedResultPath, counts: result.counts, secrets, object };
  }

  private async scan(
    blob: BlobEvent,
    work: { key: string; owner: string; scanId: string; dir: string; spooled: Spooled; mime: Mime; startedAt: Date },
    context: { remainingMs?: () => number },
  ): Promise<BlobOutcome> {
    const { settings, locks } = this.deps;
    const engine = this.deps.engine!;
    const { spooled, scanId, key } = work;
    const root = path.join(work.dir, 'tree');
    const report = await extractArtifact(spooled.file, { mime: work.mime, root, fileName: blob.name, storedBytes: spooled.size, limits: settings.extractLimits });
    // The spooled copy is no longer needed: its room goes to the scanner.
    await rm(spooled.file, { force: true });
    const object = this.summary(blob, { sha256: spooled.sha256, mime: report.mime, size: spooled.size });
    const resultPath = objectResultPath({ account: blob.account, container: blob.container, sha256: spooled.sha256, scanId });
    const timeoutMs = Math.max(1_000, Math.min(settings.scanTimeoutMs, (context.remainingMs?.() ?? Number.POSITIVE_INFINITY) - RECORD_MARGIN_MS));
    const target: ScanTarget = { cloud: 'azure', kind: 'object', object };
    const outcome = await engine.scan({ target: { kind: 'repo', path: root }, resultTarget: target, scanId, timeoutMs });
    if (outcome.kind === 'not-ready' || outcome.kind === 'failed') {
      const code = outcome.kind === 'not-ready' ? `QSCANNER_EXIT_${outcome.exitCode}` : outcome.timedOut ? 'QSCANNER_TIMEOUT' : `QSCANNER_EXIT_${outcome.exitCode ?? 'UNKNOWN'}`;
      const reason = outcome.kind === 'not-ready' ? 'report not ready' : outcome.stderrTail ? `${outcome.reason}\n${redactSecretText(outcome.stderrTail)}` : outcome.reason;
      const base = this.base(object, scanId, work.startedAt);
      await this.put(resultPath, { ...base, status: 'FAILED', error: { code, message: redactor.redact(reason).slice(0, 2000), retryable: true } });
      await locks.release(key, scanId);
      this.emit(OBJECT_OUTCOMES.failed, blob, { status: 'FAILED', object, scanId, resultPath, reason: `${code}: ${reason}` });
      return { kind: 'failed', code, reason, resultPath, object };
    }
    const result = finishObjectResult(outcome.result, root, report, outcome.kind === 'policy' ? outcome.verdict : undefined);
    await this.put(resultPath, result);
    const secrets = result.secrets?.count ?? 0;
    // Last: the cache entry marks the record complete (a failure before it scans again; nothing is lost).
    await locks.complete(key, scanId, {
      scanId,
      status: result.status,
      completedAt: result.completedAt,
      blobPath: resultPath,
      partitionKey: key,
      owner: work.owner,
      ...result.counts,
    });
    this.emit(OBJECT_OUTCOMES.scanned, blob, { status: result.status, object, scanId, resultPath, counts: result.counts, secrets, ...(report.limit ? { reason: `${report.limit.code}: ${report.limit.reason}` } : {}) });
    return { kind: 'scanned', status: result.status, scanId, resultPath, counts: result.counts, secrets, object, ...(report.limit ? { limit: report.limit.code } : {}) };
  }
}

/**
 * The engine's result, made safe and complete: secret titles and locations redacted of anything that looks like
 * a key, locations relative to the blob's tree, the extraction's account under raw, and PARTIAL when a limit cut
 * the extraction short.
 */
export function finishObjectResult(engineResult: ScanResult, root: string, report: ExtractionReport, verdict?: 'DENY' | 'AUDIT'): ScanResult {
  const relative = (location: string) => (location.startsWith(`${root}${path.sep}`) ? location.slice(root.length + 1) : location);
  const secrets = engineResult.secrets
    ? {
        count: engineResult.secrets.count,
        findings: engineResult.secrets.findings.map((s) => ({ ...s, title: redactSecretText(s.title), ...(s.location ? { location: redactSecretText(relative(s.location)) } : {}) })),
      }
    : undefined;
  const extraction = {
    files: report.files,
    bytes: report.bytes,
    entries: report.entries,
    nestedArchives: report.nestedArchives,
    refusedCount: report.refusedCount,
    refused: report.refused.slice(0, 10),
    ...(report.limit ? { limit: report.limit } : {}),
  };
  const limit = report.limit;
  return parseScanResult({
    ...engineResult,
    ...(secrets ? { secrets } : {}),
    ...(verdict && !engineResult.policy ? { policy: { verdict } } : {}),
    ...(limit ? { status: 'PARTIAL', error: { code: limit.code, message: `extraction stopped: ${limit.reason}; the scan covers what was extracted`, retryable: false } } : {}),
    raw: { ...(engineResult.raw ?? {}), extraction },
  });
}

/** The queue handler: every event of the message, one outcome each. */
export function createOnBlobUpload(deps: BlobPipelineDeps) {
  const pipeline = new BlobPipeline(deps);
  return async (message: unknown, context: InvocationContext): Promise<BlobUploadOutcome> => {
    const messageId = messageIdOf(context);
    const log = createLogger(context, { fn: FUNCTION_NAMES.onBlobUpload, invocationId: context.invocationId, messageId });
    let raws: unknown[];
    try {
      raws = decodeEvents(message);
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      deps.telemetry.event(OBJECT_SCAN_EVENT, { Outcome: OBJECT_OUTCOMES.malformed, Reason: error.message });
      log.warn('unreadable blob-uploads message; not retried', { reason: error.message });
      return { messageId, blobs: [{ kind: 'malformed', reason: error.message }] };
    }
    const blobs: BlobOutcome[] = [];
    for (const raw of raws) {
      try {
        const outcome = await pipeline.process(raw, { messageId, message: raws.length === 1 ? message : raw });
        log.info('blob outcome', { kind: outcome.kind, ...('reason' in outcome ? { reason: outcome.reason } : {}), ...('resultPath' in outcome ? { resultPath: outcome.resultPath } : {}) });
        blobs.push(outcome);
      } catch (error) {
        deps.telemetry.exception(error, COMPONENTS.onBlobUpload, { EventId: (raw as { id?: string } | null)?.id });
        throw error;
      }
    }
    return { messageId, blobs };
  };
}

export const DEFAULT_BLOB_PIPELINE_SETTINGS = {
  extractLimits: DEFAULT_EXTRACT_LIMITS,
  scanProfile: 'pkg+secret',
};
