import { mkdir, rm } from 'node:fs/promises';
import * as path from 'node:path';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { extractArtifact, type ExtractLimits, type ExtractionReport } from '../../../shared/artifacts/extract';
import { sniffMime, type Mime } from '../../../shared/artifacts/mime';
import { redactSecretText } from '../../../shared/artifacts/redact';
import { spool, SpoolAbort, type Spooled } from '../../../shared/artifacts/spool';
import type { QScannerOutcome } from '../../../shared/qualys/contracts';
import { parseScanResult, type ScanResult, type ScanTarget } from '../../../shared/scan-result';
import { emptyCounts, type SeverityCounts } from '../../../shared/severity';
import { safeS3Key } from '../../../shared/storage-keys';
import { UnknownAccountError } from '../account-access';
import type { ResultStore } from '../result-store';
import { cacheKey, type ScanCache } from '../scan-cache';
import type { ScanEngine } from '../scan-engine';
import { countScanFailure, failureReason } from '../telemetry';
import { newScanId, retryDelaySec } from '../scanner/pipeline';
import type { FindingsFold } from './findings-fold';
import type { ObjectAccess } from './object-access';
import { filterObject, type ObjectFilter, type ObjectRequest } from './object-event';

/**
 * One announced object, end to end: filter -> access (own role, spoke role + ExternalId, or the organisation
 * role) -> GetObject as a stream -> one pass of SHA-256 + MIME sniff + spool to ephemeral storage -> content
 * cache (SHA-256 + scan profile; in-flight lock) -> safe extraction -> `qscanner repo` (pkg, secret) -> ScanResult
 * v1 for THIS object (a cache hit gets its own record pointing at the scan it reuses) -> findings fold. Every
 * object that is not scanned is recorded as SKIPPED with the reason; the stack's own buckets are the one
 * exception (a record there would announce itself: a loop).
 */

export interface ObjectPipelineSettings {
  resultsBucket: string;
  filter: ObjectFilter;
  maxObjectBytes: number;
  /** Sniffed (and refined) types that are recorded as skipped rather than scanned. */
  excludedMimeTypes: ReadonlySet<string>;
  extractLimits: ExtractLimits;
  /** Parent of each object's working directory (ephemeral storage, /tmp in Lambda). */
  workDir: string;
  scanTimeoutMs: number;
  lockTtlMs: number;
  retryDelaySec: number;
  cacheTtlDays: number;
  partialCacheTtlMinutes: number;
  /** Part of the cache key (`pkg+secret`): results of other scan types are not interchangeable. */
  scanProfile: string;
}

export interface ObjectPipelineDeps {
  settings: ObjectPipelineSettings;
  access: ObjectAccess;
  cache: ScanCache;
  store: ResultStore;
  /** The results bucket's client (a cache hit reads the result it reuses). */
  resultsS3: S3Client;
  engine: ScanEngine;
  findings: FindingsFold;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  newScanId?: () => string;
}

export type ObjectSummary = NonNullable<ScanTarget['object']>;

export type ObjectOutcome =
  | { kind: 'scanned'; status: ScanResult['status']; scanId: string; resultKey: string; counts: SeverityCounts; secrets: number; object: ObjectSummary; limit?: string }
  | { kind: 'cache-hit'; scanId: string; resultKey: string; reusedScanId: string; reusedResultKey: string; counts: SeverityCounts; secrets: number; object: ObjectSummary }
  | { kind: 'skipped'; code: string; reason: string; resultKey?: string; object?: ObjectSummary }
  /** Nothing for this scanner (another API, the stack's own bucket): no record. */
  | { kind: 'ignored'; reason: string }
  | { kind: 'unrecognised'; reason: string }
  | { kind: 'retry-later'; reason: string; delaySec: number }
  /** permanent: no retry can help (access denied, an account with no role): recorded, counted, not retried. */
  | { kind: 'failed'; code: string; reason: string; resultKey?: string; permanent: boolean; object?: ObjectSummary };

export interface ObjectContext {
  remainingMs: () => number;
  receiveCount?: number;
}

/** `results/objects/<account>/<bucket>/<sha256 | unread>/<scanId>.json`. */
export function objectResultKey(parts: { account: string; bucket: string; sha256?: string; scanId: string }): string {
  return safeS3Key('results', 'objects', parts.account, parts.bucket, parts.sha256 ?? 'unread', `${parts.scanId}.json`);
}

export function objectContentKey(sha256: string): string {
  return `object#sha256:${sha256}`;
}

const RECORD_MARGIN_MS = 30_000;
const MIN_SCAN_MS = 1_000;

function errorName(error: unknown): string {
  return (error as { name?: string }).name ?? 'Error';
}

function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

function isGone(error: unknown): boolean {
  const name = errorName(error);
  return name === 'NoSuchKey' || name === 'NoSuchVersion' || name === 'NotFound' || (httpStatus(error) === 404 && name !== 'NoSuchBucket');
}

function isDenied(error: unknown): boolean {
  const name = errorName(error);
  return name === 'AccessDenied' || name === 'AccessDeniedException' || name === 'Forbidden' || httpStatus(error) === 403;
}

/** The SDK's message only (no request ids, never credentials), one line, bounded. */
function shortMessage(error: unknown): string {
  return String((error as { message?: unknown }).message ?? error).replace(/\s+/g, ' ').slice(0, 300);
}

export class ObjectPipeline {
  private readonly now: () => number;

  constructor(private readonly deps: ObjectPipelineDeps) {
    this.now = deps.now ?? Date.now;
  }

  private scanIdNow(): string {
    return (this.deps.newScanId ?? (() => newScanId(this.now())))();
  }

  private summary(request: ObjectRequest, known: Partial<Pick<ObjectSummary, 'sha256' | 'mime' | 'size'>> = {}): ObjectSummary {
    const size = known.size ?? request.size;
    return {
      bucket: request.bucket,
      key: request.key,
      ...(request.versionId ? { versionId: request.versionId } : {}),
      ...(known.sha256 ? { sha256: known.sha256 } : {}),
      ...(known.mime ? { mime: known.mime } : {}),
      ...(size !== undefined ? { size } : {}),
      account: request.account,
      region: request.region,
    };
  }

  private base(object: ObjectSummary, scanId: string, startedAt: number): Omit<ScanResult, 'status'> {
    return {
      schemaVersion: 1,
      scanId,
      target: { cloud: 'aws', kind: 'object', object },
      engine: { name: 'qscanner' },
      startedAt: new Date(startedAt).toISOString(),
      completedAt: new Date(this.now()).toISOString(),
      counts: emptyCounts(),
      vulnerabilities: [],
    };
  }

  private async skip(request: ObjectRequest, code: string, reason: string, known: Partial<ObjectSummary> = {}, startedAt = this.now()): Promise<ObjectOutcome> {
    const scanId = this.scanIdNow();
    const object = this.summary(request, known);
    const resultKey = objectResultKey({ account: request.account, bucket: request.bucket, ...(object.sha256 ? { sha256: object.sha256 } : {}), scanId });
    await this.deps.store.put(resultKey, { ...this.base(object, scanId, startedAt), status: 'SKIPPED', skipped: { code, reason } });
    this.deps.metrics.singleMetric().addDimension('code', code).addMetric('ObjectSkipped', MetricUnit.Count, 1);
    this.deps.logger.info('object skipped', { code, reason, bucket: request.bucket, key: request.key, resultKey });
    return { kind: 'skipped', code, reason, resultKey, object };
  }

  private async fail(request: ObjectRequest, code: string, reason: string, known: Partial<ObjectSummary> = {}, startedAt = this.now()): Promise<ObjectOutcome> {
    const scanId = this.scanIdNow();
    const object = this.summary(request, known);
    const resultKey = objectResultKey({ account: request.account, bucket: request.bucket, ...(object.sha256 ? { sha256: object.sha256 } : {}), scanId });
    await this.deps.store.put(resultKey, { ...this.base(object, scanId, startedAt), status: 'FAILED', error: { code, message: reason.slice(0, 2000), retryable: false } });
    countScanFailure(this.deps.metrics, code);
    this.deps.logger.error('object not readable; recorded and not retried', { code, reason, bucket: request.bucket, key: request.key, account: request.account, resultKey });
    return { kind: 'failed', code, reason, resultKey, permanent: true, object };
  }

  async process(request: ObjectRequest, context: ObjectContext): Promise<ObjectOutcome> {
    const { settings, logger } = this.deps;
    const verdict = filterObject(request, settings.filter);
    if (!verdict.pass) {
      if (verdict.own) {
        logger.info('event about the stack\'s own bucket; no record', { bucket: request.bucket });
        return { kind: 'ignored', reason: verdict.reason };
      }
      return this.skip(request, verdict.code, verdict.reason);
    }
    if (request.size !== undefined && request.size > settings.maxObjectBytes) {
      return this.skip(request, 'OBJECT_TOO_LARGE', `${request.size} bytes, above the limit of ${settings.maxObjectBytes}`);
    }
    try {
      await this.deps.access.check(request.account);
    } catch (error) {
      if (error instanceof UnknownAccountError) return this.fail(request, 'ACCOUNT_NOT_CONFIGURED', error.message);
      if (isDenied(error)) return this.fail(request, 'ASSUME_ROLE_DENIED', `cannot assume the reader role in ${request.account}: ${shortMessage(error)}`);
      throw error;
    }
    const scanId = this.scanIdNow();
    const dir = path.join(settings.workDir, `object-${scanId}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    try {
      return await this.readAndScan(request, scanId, dir, context);
    } finally {
      // Warm containers reuse /tmp: nothing of an object outlives its record.
      await rm(dir, { recursive: true, force: true });
    }
  }

  private async readAndScan(request: ObjectRequest, scanId: string, dir: string, context: ObjectContext): Promise<ObjectOutcome> {
    const { settings, cache, logger, metrics } = this.deps;
    const startedAt = this.now();
    let body: Readable;
    try {
      const response = await this.deps.access.s3(request.account, request.region).send(
        new GetObjectCommand({ Bucket: request.bucket, Key: request.key, ...(request.versionId ? { VersionId: request.versionId } : {}) }),
      );
      body = response.Body as Readable;
      if (response.ContentLength !== undefined && response.ContentLength > settings.maxObjectBytes) {
        body.destroy();
        return this.skip(request, 'OBJECT_TOO_LARGE', `${response.ContentLength} bytes, above the limit of ${settings.maxObjectBytes}`, { size: response.ContentLength }, startedAt);
      }
    } catch (error) {
      // Deleted (or overwritten, for a version) before it was read: nothing to scan, and no retry can change that.
      if (isGone(error)) return this.skip(request, 'OBJECT_GONE', `object gone before it was read (${errorName(error)})`, {}, startedAt);
      if (isDenied(error)) return this.fail(request, 'ACCESS_DENIED', `GetObject denied (${errorName(error)}): ${shortMessage(error)}`, {}, startedAt);
      throw error;
    }
    let sniffed: Mime | undefined;
    let spooled: Spooled;
    try {
      spooled = await spool(body, {
        file: path.join(dir, 'object'),
        maxBytes: settings.maxObjectBytes,
        onHead: (head) => {
          sniffed = sniffMime(head);
          return settings.excludedMimeTypes.has(sniffed) ? `type ${sniffed} is excluded` : undefined;
        },
      });
    } catch (error) {
      if (error instanceof SpoolAbort) return this.skip(request, error.code, error.message, sniffed ? { mime: sniffed } : {}, startedAt);
      throw error;
    }
    const mime = sniffed ?? sniffMime(spooled.head);
    const known = { sha256: spooled.sha256, mime, size: spooled.size };
    metrics.addMetric('ObjectBytesRead', MetricUnit.Bytes, spooled.size);
    logger.appendKeys({ sha256: spooled.sha256 });

    const pk = cacheKey(objectContentKey(spooled.sha256), settings.scanProfile);
    const lock = await cache.lock(pk, scanId, settings.lockTtlMs);
    if (lock.kind === 'cached') {
      const reused = await this.reuse(request, known, lock.result.scanId, lock.result.resultKey, startedAt);
      if (reused) return reused;
      // The result it points at is gone (expired): scan again, as if the cache had missed.
      const retake = await cache.lock(pk, scanId, settings.lockTtlMs);
      if (retake.kind !== 'acquired') return { kind: 'retry-later', reason: 'cached result unreadable and the content is being rescanned', delaySec: retryDelaySec(settings.retryDelaySec, context.receiveCount) };
    } else if (lock.kind === 'busy') {
      const lockLeftSec = Math.max(1, Math.ceil((lock.lockUntil - this.now()) / 1000));
      return { kind: 'retry-later', reason: `another scan of sha256 ${spooled.sha256} is in flight`, delaySec: Math.min(retryDelaySec(settings.retryDelaySec, context.receiveCount), lockLeftSec) };
    }
    try {
      return await this.scan(request, { pk, scanId, dir, spooled, mime, startedAt }, context);
    } catch (error) {
      await cache.release(pk, scanId).catch((releaseError: unknown) => logger.warn('could not release the scan lock', { errorName: failureReason(releaseError) }));
      throw error;
    }
  }

  /** A record for this object that repeats the findings of the earlier scan of the same bytes, or undefined when that result is gone. */
  private async reuse(request: ObjectRequest, known: Pick<ObjectSummary, 'sha256' | 'mime' | 'size'>, reusedScanId: string, reusedResultKey: string, startedAt: number): Promise<ObjectOutcome | undefined> {
    let original: ScanResult;
    try {
      const response = await this.deps.resultsS3.send(new GetObjectCommand({ Bucket: this.deps.settings.resultsBucket, Key: reusedResultKey }));
      original = parseScanResult(JSON.parse(await response.Body!.transformToString()));
    } catch (error) {
      this.deps.logger.warn('cached result unreadable; scanning again', { reusedResultKey, errorName: failureReason(error) });
      return undefined;
    }
    const scanId = this.scanIdNow();
    const object = this.summary(request, { ...known, mime: original.target.object?.mime ?? known.mime });
    const resultKey = objectResultKey({ account: request.account, bucket: request.bucket, sha256: known.sha256, scanId });
    const result: ScanResult = {
      ...original,
      scanId,
      target: { cloud: 'aws', kind: 'object', object },
      startedAt: new Date(startedAt).toISOString(),
      completedAt: new Date(this.now()).toISOString(),
      reusedScan: { scanId: reusedScanId, resultKey: reusedResultKey },
    };
    await this.recordWithFindings(request, resultKey, result);
    this.deps.metrics.addMetric('CacheHit', MetricUnit.Count, 1);
    this.deps.logger.info('object content already scanned; recorded for this object', { resultKey, reusedScanId, reusedResultKey });
    return { kind: 'cache-hit', scanId, resultKey, reusedScanId, reusedResultKey, counts: result.counts, secrets: result.secrets?.count ?? 0, object };
  }

  /**
   * Stores a result that has findings (a scan, or a cache hit's own record) and folds it into findings: the one
   * call site of the findings fold for objects, so vulnerable packages and secrets of every object record, scanned
   * or reused, become findings the same way. SKIPPED and FAILED records carry no findings and are stored directly.
   */
  private async recordWithFindings(request: ObjectRequest, resultKey: string, result: ScanResult): Promise<void> {
    await this.deps.store.put(resultKey, result);
    await this.deps.findings.fold(result, {
      resultKey,
      trigger: 'event',
      ...(request.eventId ? { eventId: request.eventId } : {}),
      eventName: request.eventName,
      ...(request.actor ? { actor: request.actor } : {}),
    });
  }

  private async scan(
    request: ObjectRequest,
    work: { pk: string; scanId: string; dir: string; spooled: Spooled; mime: Mime; startedAt: number },
    context: ObjectContext,
  ): Promise<ObjectOutcome> {
    const { settings, cache, logger, metrics } = this.deps;
    const { spooled, scanId, pk } = work;
    const root = path.join(work.dir, 'tree');
    const report = await extractArtifact(spooled.file, {
      mime: work.mime,
      root,
      fileName: request.key,
      storedBytes: spooled.size,
      limits: settings.extractLimits,
    });
    // The spooled copy is no longer needed: its room goes to the scanner.
    await rm(spooled.file, { force: true });
    const object = this.summary(request, { sha256: spooled.sha256, mime: report.mime, size: spooled.size });
    if (settings.excludedMimeTypes.has(report.mime)) {
      await cache.release(pk, scanId);
      return this.skip(request, 'EXCLUDED_TYPE', `type ${report.mime} is excluded`, object, work.startedAt);
    }
    const resultKey = objectResultKey({ account: request.account, bucket: request.bucket, sha256: spooled.sha256, scanId });
    const timeoutMs = Math.min(settings.scanTimeoutMs, context.remainingMs() - RECORD_MARGIN_MS);
    if (timeoutMs < MIN_SCAN_MS) {
      await cache.release(pk, scanId);
      return { kind: 'retry-later', reason: 'not enough invocation time left for a scan', delaySec: retryDelaySec(settings.retryDelaySec, context.receiveCount) };
    }
    const target: ScanTarget = { cloud: 'aws', kind: 'object', object };
    logger.info('scanning object', { scanId, mime: report.mime, size: spooled.size, files: report.files, refused: report.refusedCount, limit: report.limit?.code });
    const outcome: QScannerOutcome = await this.deps.engine.scan({ target: { kind: 'repo', path: root }, resultTarget: target, scanId, timeoutMs });
    metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, this.now() - work.startedAt);
    if (outcome.kind === 'not-ready') {
      await cache.release(pk, scanId);
      return { kind: 'retry-later', reason: `qscanner exit ${outcome.exitCode}: report not ready`, delaySec: Math.max(outcome.retryAfterSec, retryDelaySec(settings.retryDelaySec, context.receiveCount)) };
    }
    if (outcome.kind === 'failed') {
      const code = outcome.timedOut ? 'QSCANNER_TIMEOUT' : `QSCANNER_EXIT_${outcome.exitCode ?? 'UNKNOWN'}`;
      const message = outcome.stderrTail ? `${outcome.reason}\n${redactSecretText(outcome.stderrTail)}` : outcome.reason;
      await this.deps.store.put(resultKey, { ...this.base(object, scanId, work.startedAt), status: 'FAILED', error: { code, message: message.slice(0, 2000), retryable: true } });
      await cache.release(pk, scanId);
      countScanFailure(metrics, code);
      logger.error('object scan failed', { code, reason: outcome.reason, resultKey });
      return { kind: 'failed', code, reason: outcome.reason, resultKey, permanent: false, object };
    }
    const result = this.finish(outcome.result, root, report, outcome.kind === 'policy' ? outcome.verdict : undefined);
    await this.recordWithFindings(request, resultKey, result);
    const ttlSec = result.status === 'PARTIAL' ? settings.partialCacheTtlMinutes * 60 : settings.cacheTtlDays * 86_400;
    // Last: the cache item marks the record complete (a failure before it rescans; nothing is lost).
    await cache.store(
      { pk, scanId, status: result.status, resultKey, counts: result.counts, completedAt: result.completedAt, functionArn: `s3://${request.bucket}/${request.key}` },
      ttlSec,
    );
    metrics.addMetric(result.status === 'PARTIAL' ? 'ScanPartialSuccess' : 'ScanSuccess', MetricUnit.Count, 1);
    logger.info('object scan recorded', { scanId, status: result.status, counts: result.counts, secrets: result.secrets?.count ?? 0, resultKey });
    return {
      kind: 'scanned',
      status: result.status,
      scanId,
      resultKey,
      counts: result.counts,
      secrets: result.secrets?.count ?? 0,
      object,
      ...(report.limit ? { limit: report.limit.code } : {}),
    };
  }

  /**
   * The engine's result, made safe and complete: secret titles and locations redacted of anything that looks
   * like a key (whatever a scanner release prints), locations relative to the object, the extraction's
   * account (files, refused entries, limits) under raw, and PARTIAL when a limit cut the extraction short.
   */
  private finish(engineResult: ScanResult, root: string, report: ExtractionReport, verdict?: 'DENY' | 'AUDIT'): ScanResult {
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
    const partial = report.limit !== undefined;
    return parseScanResult({
      ...engineResult,
      ...(secrets ? { secrets } : {}),
      ...(verdict && !engineResult.policy ? { policy: { verdict } } : {}),
      ...(partial
        ? { status: 'PARTIAL', error: { code: report.limit!.code, message: `extraction stopped: ${report.limit!.reason}; the scan covers what was extracted`, retryable: false } }
        : {}),
      raw: { ...(engineResult.raw ?? {}), extraction },
    });
  }
}
