import { createHash, randomUUID } from 'node:crypto';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { ScanResult, ScanTarget } from '../../../shared/scan-result';
import { reachesThreshold, emptyCounts, type Severity, type SeverityCounts } from '../../../shared/severity';
import type { QScannerOutcome } from '../../../shared/qualys/contracts';
import type { AccountClients } from '../account-access';
import type { FunctionId } from '../function-arn';
import { publishFindings } from '../notify/scan-notifier';
import { isExcludedByTag, tagFunction, type TagSummary } from '../function-tags';
import { resolveFunction, type ResolvedFunction } from '../resolve-function';
import { imageResultKey, resultKey, type ResultStore } from '../result-store';
import { cacheKey, type CachedResult, type ScanCache } from '../scan-cache';
import type { ScanEngine } from '../scan-engine';
import { countScanFailure } from '../telemetry';
import { ecrRegistry, parseScanMessage, type ImagePushRequest, type ScanRequest } from './scan-request';

/**
 * One queue message, end to end: parse -> resolve -> cache/lock -> scan -> record. Returns what
 * happened; the SQS handler turns retry-later and failed outcomes into batch item failures.
 */

export interface PipelineSettings {
  resultsBucket: string;
  findingsTopicArn: string;
  cacheTtlDays: number;
  partialCacheTtlMinutes: number;
  severityThreshold: Severity;
  tagFunctions: boolean;
  selfFunctionNames: ReadonlySet<string>;
  scanTimeoutMs: number;
  readyWaitMs: number;
  retryDelaySec: number;
  lockTtlMs: number;
  /** Part of the cache key: results of different scan types / policies are not interchangeable. */
  scanProfile: string;
  /** Function names matching any of these are never scanned (same list as the bulk scan's). */
  excludePatterns?: readonly RegExp[];
}

export interface PipelineDeps {
  settings: PipelineSettings;
  accounts: AccountClients;
  cache: ScanCache;
  store: ResultStore;
  sns: SNSClient;
  engine: ScanEngine;
  logger: Logger;
  metrics: Metrics;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  newScanId?: () => string;
}

export type RecordOutcome =
  | { kind: 'scanned'; status: ScanResult['status']; scanId: string; resultKey: string; counts: SeverityCounts; policyVerdict?: string; notified: boolean }
  | { kind: 'cache-hit'; scanId: string; resultKey: string; notified: boolean }
  | { kind: 'skipped'; reason: string }
  | { kind: 'unrecognised'; reason: string }
  | { kind: 'retry-later'; reason: string; delaySec: number }
  /**
   * permanent: retrying cannot help (an account that is not configured), so the handler does not
   * hand the message back; the failure is logged as an error and counted in ScanFailure instead.
   */
  | { kind: 'failed'; code: string; reason: string; resultKey?: string; permanent?: boolean };

export interface RecordContext {
  /** Lambda time left; bounds the scan so results are written before the invocation ends. */
  remainingMs: () => number;
  /** SQS ApproximateReceiveCount of the message (1 on first delivery). */
  receiveCount?: number;
}

/** Longest wait asked of SQS for one retry. */
const MAX_RETRY_DELAY_SEC = 900;

/**
 * Every retry spends one of the queue's receives before the DLQ takes the message, so the wait
 * doubles with each delivery (60, 120, 240, 480 s with the defaults): a duplicate waiting for a long
 * scan of the same code, or a report that stays not-ready, outlasts the scan instead of the receives.
 */
export function retryDelaySec(baseSec: number, receiveCount = 1, capSec = MAX_RETRY_DELAY_SEC): number {
  const doublings = Math.max(0, Math.min(Math.floor(receiveCount), 16) - 1);
  return Math.min(capSec, baseSec * 2 ** doublings);
}

/** Leave this much of the invocation for writing results, tags and the SNS message. */
const RECORD_MARGIN_MS = 45_000;
const MIN_SCAN_MS = 1_000;

export function newScanId(now: number = Date.now()): string {
  return `${new Date(now).toISOString().replace(/[-:.]/g, '')}-${randomUUID().slice(0, 8)}`;
}

function hexOfBase64(value: string): string {
  return Buffer.from(value, 'base64').toString('hex');
}

/**
 * Layers are part of what a zip function runs, so a layer change must miss the cache. Without
 * layers the key stays the bare code hash, which keeps cache items written before layers counted.
 */
export function layersSuffix(layerArns: readonly string[] | undefined): string | undefined {
  if (!layerArns || layerArns.length === 0) return undefined;
  const sorted = [...new Set(layerArns)].sort();
  return createHash('sha256').update(sorted.join('\n')).digest('hex').slice(0, 12);
}

export function contentOf(resolved: ResolvedFunction): { contentKey: string; contentId: string } {
  const content = resolved.content;
  if (content.packageType === 'Zip') {
    const layers = layersSuffix(content.layerArns);
    const contentKey = `zip#${content.codeSha256}${layers ? `#layers=${layers}` : ''}`;
    const contentId = `zip-${hexOfBase64(content.codeSha256)}${layers ? `-layers-${layers}` : ''}`;
    return { contentKey, contentId };
  }
  return { contentKey: `image#${content.digest}`, contentId: `image-${content.digest.slice('sha256:'.length)}` };
}

function resultTargetOf(resolved: ResolvedFunction): ScanTarget {
  const { fn, content } = resolved;
  const workload = { resourceId: fn.arn, type: 'lambda' as const, account: fn.account, region: fn.region };
  if (content.packageType === 'Zip') {
    return {
      cloud: 'aws',
      kind: 'lambda-zip',
      function: { arn: fn.arn, name: fn.name, codeSha256: content.codeSha256, ...(resolved.runtime ? { runtime: resolved.runtime } : {}), packageType: 'Zip' },
      workload,
    };
  }
  return {
    cloud: 'aws',
    kind: 'lambda-image',
    image: {
      registry: content.registry,
      repository: content.repository,
      ...(content.tag ? { tag: content.tag } : {}),
      digest: content.digest,
      reference: content.imageRef,
    },
    function: { arn: fn.arn, name: fn.name, packageType: 'Image' },
    workload,
  };
}

function failedResult(target: ScanTarget, scanId: string, startedAt: string, completedAt: string, code: string, message: string): ScanResult {
  return {
    schemaVersion: 1,
    scanId,
    status: 'FAILED',
    target,
    engine: { name: 'qscanner' },
    startedAt,
    completedAt,
    counts: emptyCounts(),
    vulnerabilities: [],
    error: { code, message: message.slice(0, 2000), retryable: true },
  };
}

function ecrRegistryRegion(registry: string): { account: string; region: string } | undefined {
  const match = /^([0-9]{12})\.dkr\.ecr(?:-fips)?\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?$/.exec(registry);
  return match ? { account: match[1]!, region: match[2]! } : undefined;
}

export class ScanPipeline {
  private readonly now: () => number;

  constructor(private readonly deps: PipelineDeps) {
    this.now = deps.now ?? Date.now;
  }

  async process(body: string, context: RecordContext): Promise<RecordOutcome> {
    const { logger, settings } = this.deps;
    const ownAccount = this.deps.accounts.credentials.ownAccount;
    const parsed = parseScanMessage(body, { selfFunctionNames: settings.selfFunctionNames, ...(ownAccount ? { ownAccount } : {}) });
    if (parsed.kind === 'unrecognised') {
      logger.warn('message not recognised; dropped without retry', { reason: parsed.reason });
      this.deps.metrics.addMetric('EventUnrecognised', MetricUnit.Count, 1);
      return { kind: 'unrecognised', reason: parsed.reason };
    }
    if (parsed.kind === 'skip') {
      logger.info('message needs no scan', { reason: parsed.reason, functionArn: parsed.fn?.arn });
      return { kind: 'skipped', reason: parsed.reason };
    }
    if (parsed.kind === 'image') {
      logger.appendKeys({ image: `${parsed.request.repository}@${parsed.request.digest}`, trigger: parsed.request.trigger, ...(parsed.request.eventId ? { eventId: parsed.request.eventId } : {}) });
      return this.scanImagePush(parsed.request, context);
    }
    logger.appendKeys({ functionArn: parsed.request.fn.arn, trigger: parsed.request.trigger, ...(parsed.request.eventId ? { eventId: parsed.request.eventId } : {}) });
    return this.scanRequest(parsed.request, context);
  }

  private async scanRequest(request: ScanRequest, context: RecordContext): Promise<RecordOutcome> {
    const { logger, settings, cache } = this.deps;
    const { fn } = request;
    const pattern = settings.excludePatterns?.find((candidate) => candidate.test(fn.name));
    if (pattern) {
      const reason = `function ${fn.name} matches exclude pattern ${pattern.source}`;
      logger.info('excluded by name', { reason });
      return { kind: 'skipped', reason };
    }
    if (this.deps.accounts.credentials.accessOf(fn.account) === 'unknown') return this.unknownAccount(fn);
    // A spoke role that cannot be assumed fails here, with the account named, before any other call.
    await this.deps.accounts.credentials.forAccount(fn.account);
    const clients = this.deps.accounts.for(fn.account, fn.region);
    const resolution = await resolveFunction(fn, {
      lambda: clients.lambda,
      ecr: clients.ecr,
      maxWaitMs: Math.max(0, Math.min(settings.readyWaitMs, context.remainingMs() - RECORD_MARGIN_MS)),
      ...(this.deps.sleep ? { sleep: this.deps.sleep } : {}),
      now: this.now,
    });
    if (resolution.kind === 'gone') {
      logger.info('nothing to scan', { reason: resolution.reason });
      return { kind: 'skipped', reason: resolution.reason };
    }
    if (resolution.kind === 'not-ready') return this.retryLater(resolution.reason, retryDelaySec(settings.retryDelaySec, context.receiveCount));
    const resolved = resolution.function;
    if (isExcludedByTag(resolved.tags)) {
      const reason = `function ${fn.name} carries ShipscanExclude=true`;
      logger.info('excluded by tag', { reason });
      return { kind: 'skipped', reason };
    }
    const { contentKey, contentId } = contentOf(resolved);
    const pk = cacheKey(contentKey, settings.scanProfile);
    logger.appendKeys({ contentKey });
    const scanId = (this.deps.newScanId ?? (() => newScanId(this.now())))();
    const lock = await cache.lock(pk, scanId, settings.lockTtlMs);
    if (lock.kind === 'cached') return this.onCacheHit(fn, contentId, lock.result);
    if (lock.kind === 'busy') {
      // No point waiting past the lock's expiry: by then the scan has finished or its lock can be taken over.
      const lockLeftSec = Math.max(1, Math.ceil((lock.lockUntil - this.now()) / 1000));
      return this.retryLater(`another scan of ${contentKey} is in flight`, Math.min(retryDelaySec(settings.retryDelaySec, context.receiveCount), lockLeftSec));
    }

    try {
      return await this.scanAndRecord(resolved, { pk, contentId, scanId }, context);
    } catch (error) {
      await cache.release(pk, scanId).catch((releaseError: unknown) => logger.warn('could not release the scan lock', { error: releaseError as Error }));
      throw error;
    }
  }

  /**
   * The scanner's own role cannot read another account, so retrying would only walk the message to
   * the DLQ. The error log names the account, the function and what to configure; ScanFailure
   * (reason UnknownAccountError) raises the scan-failures alarm.
   */
  private unknownAccount(fn: FunctionId): RecordOutcome {
    const error = this.deps.accounts.credentials.unknownAccountError(fn.account);
    this.deps.logger.error('account not configured; the message is not retried', {
      account: fn.account,
      ownAccount: error.ownAccount,
      spokeAccounts: error.spokes,
      functionArn: fn.arn,
      reason: error.message,
    });
    countScanFailure(this.deps.metrics, error.name);
    return { kind: 'failed', code: 'ACCOUNT_NOT_CONFIGURED', reason: error.message, permanent: true };
  }

  private retryLater(reason: string, delaySec: number): RecordOutcome {
    this.deps.logger.info('retrying later', { reason, delaySec });
    return { kind: 'retry-later', reason, delaySec };
  }

  /**
   * Results are content-addressed: the hit's S3 document (under the path of the function scanned
   * first) is this function's result too, and the tags say so (ShipscanContent /
   * ShipscanContentResult). No per-function copy is written: it would need s3:GetObject and would
   * duplicate a document that is identical by construction.
   */
  private async onCacheHit(fn: FunctionId, contentId: string, hit: CachedResult): Promise<RecordOutcome> {
    const { settings, metrics, logger } = this.deps;
    metrics.addMetric('CacheHit', MetricUnit.Count, 1);
    logger.info('cache hit', { scanId: hit.scanId, resultKey: hit.resultKey, scannedFunction: hit.functionArn });
    await this.tagBestEffort(fn, {
      status: hit.status,
      time: hit.completedAt,
      counts: hit.counts,
      resultKey: hit.resultKey,
      contentId,
      ...(hit.policyVerdict ? { policyVerdict: hit.policyVerdict } : {}),
    });
    // A duplicate event of the scanned function was already announced; another function with the same code was not.
    let notified = false;
    if (hit.functionArn !== fn.arn && this.shouldNotify(hit.counts, hit.policyVerdict)) {
      await publishFindings(this.deps.sns, settings.findingsTopicArn, {
        functionArn: fn.arn,
        functionName: fn.name,
        account: fn.account,
        region: fn.region,
        status: hit.status,
        scanId: hit.scanId,
        counts: hit.counts,
        resultBucket: settings.resultsBucket,
        resultKey: hit.resultKey,
        ...(hit.policyVerdict ? { policyVerdict: hit.policyVerdict } : {}),
        cacheHit: true,
      });
      notified = true;
    }
    return { kind: 'cache-hit', scanId: hit.scanId, resultKey: hit.resultKey, notified };
  }

  /**
   * Tags are a convenience view of the stored result: a role without lambda:TagResource (spoke with
   * tagFunctions=false) or a function at Lambda's 50-tag limit must not turn a finished scan into
   * endless retries, so a failure is logged and counted, and the record goes on.
   */
  private async tagBestEffort(fn: FunctionId, summary: TagSummary): Promise<void> {
    if (!this.deps.settings.tagFunctions) return;
    try {
      await tagFunction(this.deps.accounts.for(fn.account, fn.region).lambda, fn.arn, summary);
    } catch (error) {
      const name = (error as { name?: string }).name ?? 'Error';
      // Only the error's name and the SDK's message: neither carries credentials.
      const message = String((error as { message?: unknown }).message ?? '').slice(0, 500);
      this.deps.logger.warn('could not tag the function; result kept', { functionArn: fn.arn, errorName: name, errorMessage: message });
      this.deps.metrics.addMetric('TagFailure', MetricUnit.Count, 1);
    }
  }

  private shouldNotify(counts: SeverityCounts, verdict: string | undefined): boolean {
    return reachesThreshold(counts, this.deps.settings.severityThreshold) || verdict === 'DENY';
  }

  /**
   * The child's environment beyond the scanner's own: the function's region always (qscanner calls
   * GetFunction / ECR in AWS_REGION, and a function in another region of the own account would
   * otherwise be looked up in the scanner's region), plus, for a spoke, that role's credentials and
   * an ECR login. The ECR token comes from the principal that reads the function; it is valid for
   * every registry that principal may pull from, so an image in a third account works as soon as
   * that repository's policy allows the spoke role (or, in the own account, the scanner role).
   */
  private async childEnv(resolved: ResolvedFunction): Promise<Record<string, string>> {
    const { fn, content } = resolved;
    return this.accountEnv(fn.account, fn.region, content.packageType === 'Image' ? content.registry : undefined);
  }

  /** Region, and for a spoke account its role's credentials plus an ECR login for `registry` (see childEnv). */
  private async accountEnv(account: string, region: string, registryHost: string | undefined): Promise<Record<string, string>> {
    const accounts = this.deps.accounts;
    const env: Record<string, string> = { AWS_REGION: region, AWS_DEFAULT_REGION: region };
    if (!accounts.credentials.isSpoke(account)) return env;
    const credentials = await accounts.credentials.forAccount(account);
    if (!credentials) return env;
    env.AWS_ACCESS_KEY_ID = credentials.accessKeyId;
    env.AWS_SECRET_ACCESS_KEY = credentials.secretAccessKey;
    if (credentials.sessionToken) env.AWS_SESSION_TOKEN = credentials.sessionToken;
    if (registryHost) {
      const registry = ecrRegistryRegion(registryHost);
      if (registry) {
        const ecr = accounts.for(account, registry.region).ecr;
        const auth = await ecr.send(new GetAuthorizationTokenCommand({}));
        const token = auth.authorizationData?.[0]?.authorizationToken;
        if (token) {
          const decoded = Buffer.from(token, 'base64').toString('utf8');
          const colon = decoded.indexOf(':');
          if (colon > 0) {
            env.QSCANNER_REGISTRY_USERNAME = decoded.slice(0, colon);
            env.QSCANNER_REGISTRY_PASSWORD = decoded.slice(colon + 1);
          }
        }
      }
    }
    return env;
  }

  /**
   * An image pushed to ECR, scanned by digest before anything deploys it. Same cache key as a Lambda image
   * (`image#<digest>`): a duplicate push, or the function that later runs the image, is a cache hit. There is no
   * function to tag; the result is stored under `results/images/<account>/<region>/<repository>/...` and the SNS
   * message names the image where it would name a function.
   */
  private async scanImagePush(request: ImagePushRequest, context: RecordContext): Promise<RecordOutcome> {
    const { settings, cache, store, metrics, logger } = this.deps;
    const registry = ecrRegistry(request.account, request.region);
    const reference = `${registry}/${request.repository}@${request.digest}`;
    const label = `${request.repository}${request.tag ? `:${request.tag}` : ''}`;
    if (this.deps.accounts.credentials.accessOf(request.account) === 'unknown') {
      const error = this.deps.accounts.credentials.unknownAccountError(request.account);
      logger.error('account not configured; the message is not retried', { account: request.account, image: reference, reason: error.message });
      countScanFailure(metrics, error.name);
      return { kind: 'failed', code: 'ACCOUNT_NOT_CONFIGURED', reason: error.message, permanent: true };
    }
    const contentId = `image-${request.digest.slice('sha256:'.length)}`;
    const pk = cacheKey(`image#${request.digest}`, settings.scanProfile);
    const scanId = (this.deps.newScanId ?? (() => newScanId(this.now())))();
    const lock = await cache.lock(pk, scanId, settings.lockTtlMs);
    if (lock.kind === 'cached') {
      metrics.addMetric('CacheHit', MetricUnit.Count, 1);
      logger.info('pushed image already scanned', { scanId: lock.result.scanId, resultKey: lock.result.resultKey });
      return { kind: 'cache-hit', scanId: lock.result.scanId, resultKey: lock.result.resultKey, notified: false };
    }
    if (lock.kind === 'busy') {
      const lockLeftSec = Math.max(1, Math.ceil((lock.lockUntil - this.now()) / 1000));
      return this.retryLater(`another scan of ${request.digest} is in flight`, Math.min(retryDelaySec(settings.retryDelaySec, context.receiveCount), lockLeftSec));
    }
    const target: ScanTarget = {
      cloud: 'aws',
      kind: 'container-image',
      image: { registry, repository: request.repository, ...(request.tag ? { tag: request.tag } : {}), digest: request.digest, reference },
    };
    const key = imageResultKey({ account: request.account, region: request.region, repository: request.repository, contentId, scanId });
    try {
      const timeoutMs = Math.min(settings.scanTimeoutMs, context.remainingMs() - RECORD_MARGIN_MS);
      if (timeoutMs < MIN_SCAN_MS) {
        await cache.release(pk, scanId);
        return this.retryLater('not enough invocation time left for a scan', retryDelaySec(settings.retryDelaySec, context.receiveCount));
      }
      const startedAt = this.now();
      const extraEnv = await this.accountEnv(request.account, request.region, registry);
      const outcome = await this.deps.engine.scan({ target: { kind: 'image', ref: reference }, resultTarget: target, scanId, timeoutMs, extraEnv });
      metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, this.now() - startedAt);
      if (outcome.kind === 'not-ready') {
        await cache.release(pk, scanId);
        return this.retryLater(`qscanner exit ${outcome.exitCode}: report not ready`, Math.max(outcome.retryAfterSec, retryDelaySec(settings.retryDelaySec, context.receiveCount)));
      }
      if (outcome.kind === 'failed') {
        const code = outcome.timedOut ? 'QSCANNER_TIMEOUT' : `QSCANNER_EXIT_${outcome.exitCode ?? 'UNKNOWN'}`;
        const message = outcome.stderrTail ? `${outcome.reason}\n${outcome.stderrTail}` : outcome.reason;
        await store.put(key, failedResult(target, scanId, new Date(startedAt).toISOString(), new Date(this.now()).toISOString(), code, message));
        await cache.release(pk, scanId);
        countScanFailure(metrics, code);
        logger.error('image scan failed', { code, reason: outcome.reason, resultKey: key });
        return { kind: 'failed', code, reason: outcome.reason, resultKey: key };
      }
      const result: ScanResult = outcome.kind === 'policy' && !outcome.result.policy ? { ...outcome.result, policy: { verdict: outcome.verdict } } : outcome.result;
      const policyVerdict = result.policy?.verdict;
      await store.put(key, result);
      let notified = false;
      if (this.shouldNotify(result.counts, policyVerdict)) {
        // The notice is function-shaped: the image reference stands where a function ARN would.
        await publishFindings(this.deps.sns, settings.findingsTopicArn, {
          functionArn: reference,
          functionName: `image ${label}`,
          account: request.account,
          region: request.region,
          status: result.status,
          scanId,
          counts: result.counts,
          resultBucket: settings.resultsBucket,
          resultKey: key,
          ...(policyVerdict ? { policyVerdict } : {}),
          cacheHit: false,
        });
        notified = true;
      }
      const ttlSec = result.status === 'PARTIAL' ? settings.partialCacheTtlMinutes * 60 : settings.cacheTtlDays * 86_400;
      await cache.store(
        { pk, scanId, status: result.status, resultKey: key, counts: result.counts, completedAt: result.completedAt, functionArn: reference, ...(policyVerdict ? { policyVerdict } : {}) },
        ttlSec,
      );
      metrics.addMetric(result.status === 'PARTIAL' ? 'ScanPartialSuccess' : 'ScanSuccess', MetricUnit.Count, 1);
      logger.info('pushed image scan recorded', { scanId, status: result.status, counts: result.counts, resultKey: key, notified });
      return { kind: 'scanned', status: result.status, scanId, resultKey: key, counts: result.counts, ...(policyVerdict ? { policyVerdict } : {}), notified };
    } catch (error) {
      await cache.release(pk, scanId).catch((releaseError: unknown) => logger.warn('could not release the scan lock', { error: releaseError as Error }));
      throw error;
    }
  }

  private async scanAndRecord(
    resolved: ResolvedFunction,
    ids: { pk: string; contentId: string; scanId: string },
    context: RecordContext,
  ): Promise<RecordOutcome> {
    const { settings, metrics, logger, cache, store } = this.deps;
    const { fn, content } = resolved;
    const target = resultTargetOf(resolved);
    const key = resultKey({ account: fn.account, region: fn.region, functionName: fn.name, contentId: ids.contentId, scanId: ids.scanId });
    const timeoutMs = Math.min(settings.scanTimeoutMs, context.remainingMs() - RECORD_MARGIN_MS);
    if (timeoutMs < MIN_SCAN_MS) {
      await cache.release(ids.pk, ids.scanId);
      // Backed off like every other retry: a zero delay would spend the message's receives at once.
      return this.retryLater('not enough invocation time left for a scan', retryDelaySec(settings.retryDelaySec, context.receiveCount));
    }
    const startedAt = this.now();
    const extraEnv = await this.childEnv(resolved);
    logger.info('scanning', { scanId: ids.scanId, target: content.packageType === 'Zip' ? 'lambda' : 'image', timeoutMs });
    const outcome: QScannerOutcome = await this.deps.engine.scan({
      target: content.packageType === 'Zip' ? { kind: 'lambda', arn: fn.arn } : { kind: 'image', ref: content.imageRef },
      resultTarget: target,
      scanId: ids.scanId,
      timeoutMs,
      extraEnv,
    });
    const durationMs = this.now() - startedAt;
    metrics.addMetric('ScanDuration', MetricUnit.Milliseconds, durationMs);

    if (outcome.kind === 'not-ready') {
      await cache.release(ids.pk, ids.scanId);
      return this.retryLater(`qscanner exit ${outcome.exitCode}: report not ready`, Math.max(outcome.retryAfterSec, retryDelaySec(settings.retryDelaySec, context.receiveCount)));
    }
    if (outcome.kind === 'failed') {
      const code = outcome.timedOut ? 'QSCANNER_TIMEOUT' : `QSCANNER_EXIT_${outcome.exitCode ?? 'UNKNOWN'}`;
      const completedAt = new Date(this.now()).toISOString();
      // The runner has already redacted the token from stderr.
      const message = outcome.stderrTail ? `${outcome.reason}\n${outcome.stderrTail}` : outcome.reason;
      const failed = failedResult(target, ids.scanId, new Date(startedAt).toISOString(), completedAt, code, message);
      await store.put(key, failed);
      await this.tagBestEffort(fn, { status: 'FAILED', time: completedAt, counts: failed.counts, resultKey: key, contentId: ids.contentId });
      await cache.release(ids.pk, ids.scanId);
      countScanFailure(metrics, code);
      logger.error('scan failed', { code, reason: outcome.reason, stderrTail: outcome.stderrTail, exitCode: outcome.exitCode, timedOut: outcome.timedOut, resultKey: key });
      return { kind: 'failed', code, reason: outcome.reason, resultKey: key };
    }

    const result: ScanResult =
      outcome.kind === 'policy' && !outcome.result.policy ? { ...outcome.result, policy: { verdict: outcome.verdict } } : outcome.result;
    const policyVerdict = result.policy?.verdict;
    await store.put(key, result);
    await this.tagBestEffort(fn, {
      status: result.status,
      time: result.completedAt,
      counts: result.counts,
      resultKey: key,
      contentId: ids.contentId,
      ...(policyVerdict ? { policyVerdict } : {}),
    });
    let notified = false;
    if (this.shouldNotify(result.counts, policyVerdict)) {
      await publishFindings(this.deps.sns, settings.findingsTopicArn, {
        functionArn: fn.arn,
        functionName: fn.name,
        account: fn.account,
        region: fn.region,
        status: result.status,
        scanId: ids.scanId,
        counts: result.counts,
        resultBucket: settings.resultsBucket,
        resultKey: key,
        ...(policyVerdict ? { policyVerdict } : {}),
        cacheHit: false,
      });
      notified = true;
    }
    // The cache item goes last: it marks the record complete, so a failure before it (tags, SNS)
    // retries the whole record and nothing is lost; the cost is a repeated scan, never a silent gap.
    const ttlSec = result.status === 'PARTIAL' ? settings.partialCacheTtlMinutes * 60 : settings.cacheTtlDays * 86_400;
    await cache.store(
      {
        pk: ids.pk,
        scanId: ids.scanId,
        status: result.status,
        resultKey: key,
        counts: result.counts,
        completedAt: result.completedAt,
        functionArn: fn.arn,
        ...(policyVerdict ? { policyVerdict } : {}),
      },
      ttlSec,
    );
    metrics.addMetric(result.status === 'PARTIAL' ? 'ScanPartialSuccess' : 'ScanSuccess', MetricUnit.Count, 1);
    if (policyVerdict === 'DENY' || policyVerdict === 'AUDIT') metrics.addMetric(`Policy${policyVerdict === 'DENY' ? 'Deny' : 'Audit'}`, MetricUnit.Count, 1);
    for (const [severity, count] of [
      ['CRITICAL', result.counts.critical],
      ['HIGH', result.counts.high],
      ['MEDIUM', result.counts.medium],
      ['LOW', result.counts.low],
      ['INFORMATIONAL', result.counts.informational],
    ] as const) {
      metrics.singleMetric().addDimension('severity', severity).addMetric('VulnerabilityCount', MetricUnit.Count, count);
    }
    logger.info('scan recorded', { scanId: ids.scanId, status: result.status, counts: result.counts, policyVerdict, resultKey: key, durationMs, notified });
    return { kind: 'scanned', status: result.status, scanId: ids.scanId, resultKey: key, counts: result.counts, ...(policyVerdict ? { policyVerdict } : {}), notified };
  }
}

