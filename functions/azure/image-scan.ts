import type { ImageReference } from '../../shared/image-reference';
import type { ScanTicket, ScanWorkflow } from '../../shared/qualys/contracts';
import { QualysRateLimitError } from '../../shared/qualys/errors';
import type { Severity } from '../../shared/severity';
import type { DeploymentProgress } from './event-dedupe';
import type { Logger } from './log';
import type { PollMessage, PollQueue } from './poll-message';
import type { PollDelay } from './poll-timing';
import { classifyQualysError } from './qualys-errors';
import { failureResult, newScanId, recordOutcome, scanTarget, type RecordContext, type WorkloadInfo } from './recorder';
import type { DigestResolver } from './registry-digest';
import { waitDelaySec, type RetryPolicy } from './retry-policy';
import type { ScanLocks } from './scan-locks';
import { vulnColumns, type ScanStore, type StoredImage } from './scan-store';
import { sha256 } from './keys';
import type { Telemetry } from './telemetry';
import { SCAN_EVENT_TYPES, type ContainerType } from './telemetry-names';

/**
 * One image through the Container Security API path: parse and normalise, the digest (from the
 * reference, else the registry), the cache by content within `cacheHours`, the in-flight lock, the
 * submit (Qualys reuses a recent scan of the digest or schedules an on-demand registry scan) and the
 * first poll message. Every way an image reaches a scan goes through here: the images of a deployed
 * workload (onDeployment) and a pushed image (onImagePush), so both share one cache and one lock, and a
 * push scanned before the deployment makes the deployment a cache hit.
 */

/** What one image came to (returned for tests and the benchmark, and kept with the dedupe claim when a deployment is re-sent). */
export type ImageOutcome =
  | { image: string; kind: 'submitted'; scanId: string; reused: boolean }
  | { image: string; kind: 'resumed'; scanId: string }
  | { image: string; kind: 'cached'; scanId: string }
  /** Another workload's scan of the same content is in flight (and nothing can re-send this event). */
  | { image: string; kind: 'in-flight'; scanId: string }
  /** Another workload's scan (`scanId`) of the same content is in flight: the event looks again later. */
  | { image: string; kind: 'waiting'; scanId: string; retryAfterSec: number }
  | { image: string; kind: 'failed'; scanId: string; reason: string }
  /** Qualys rate-limited the submit beyond the client's wait budget; the event comes back later. */
  | { image: string; kind: 'deferred'; scanId: string; retryAfterSec: number };

/** True for an image the re-sent copy of the event carries on. */
export function imagePending(i: ImageOutcome): i is Extract<ImageOutcome, { kind: 'deferred' | 'waiting' }> {
  return i.kind === 'deferred' || i.kind === 'waiting';
}

/** What the per-image path needs (a subset of the handlers' dependencies). */
export interface ImageScanDeps {
  workflow: Pick<ScanWorkflow, 'submit'>;
  digests: DigestResolver;
  store: ScanStore;
  locks: ScanLocks;
  polls: PollQueue;
  pollDelay: PollDelay;
  telemetry: Telemetry;
  parseImage: (input: string) => ImageReference;
  cacheHours: number;
  maxScanMinutes: number;
  alert?: RecordContext['alert'];
  severityThreshold?: Severity;
  /** Set when the event can be re-sent for later: a held lock or a rate limit then waits instead of giving up. */
  redeliver?: (message: unknown, delaySec: number) => Promise<string>;
}

/** How far the event is in its re-sends. */
export interface Round {
  progress: DeploymentProgress;
  /** Set once the re-send budget is spent: what would wait again is recorded FAILED with this reason. */
  spent?: string;
}

export interface ImageJob {
  policy: RetryPolicy;
  round: Round;
  log: Logger;
  containerType: ContainerType;
  /** The workload (or registry repository) the image belongs to. */
  info: WorkloadInfo;
  /** Owner of the lock: the event (resource key and correlation id). */
  owner: string;
  /** The image as the workload or event names it. */
  raw: string;
  lastAttempt: boolean;
  now: () => Date;
}

export function toStored(ref: ImageReference, digest?: string): StoredImage {
  // `nginx` means `nginx:latest` (its canonical form says so): keep the tag, or a resolved digest would
  // file the rows of a tag reference under the digest partition instead of the image's.
  const tag = ref.tag ?? (ref.digest ? undefined : 'latest');
  return { registry: ref.registry, repository: ref.repository, tag, digest: digest ?? ref.digest, reference: ref.canonical };
}

/** What one image failed with, recorded as a FAILED scan of that workload. */
interface ImageFailure {
  scanId: string;
  image: StoredImage | { unparsable: string };
  code: string;
  reason: string;
  retryable: boolean;
  startedAt: Date;
  /** The content lock this attempt holds, released with the record. */
  lock?: { contentKey: string; owner: string };
}

async function recordImageFailure(record: RecordContext, job: ImageJob, f: ImageFailure): Promise<ImageOutcome> {
  const targetImage = 'unparsable' in f.image ? undefined : f.image;
  await recordOutcome(record, {
    result: failureResult({ scanId: f.scanId, target: scanTarget(targetImage, job.containerType, job.info), code: f.code, message: f.reason, retryable: f.retryable, startedAt: f.startedAt.toISOString(), now: job.now() }),
    image: f.image,
    containerType: job.containerType,
    workload: job.info,
    status: 'FAILED',
    reason: f.reason,
    ...(f.lock ?? {}),
    durationMs: job.now().getTime() - f.startedAt.getTime(),
  });
  return { image: job.raw, kind: 'failed', scanId: f.scanId, reason: f.reason };
}

/** One image of an event through cache, lock and submit; see the module comment. */
export async function scanImage(deps: ImageScanDeps, job: ImageJob): Promise<ImageOutcome> {
  const { log, round, policy, raw, owner, now } = job;
  const eventAt = now();
  const record: RecordContext = { store: deps.store, locks: deps.locks, telemetry: deps.telemetry, log, alert: deps.alert };
  let ref: ImageReference;
  try {
    ref = deps.parseImage(raw);
  } catch (error) {
    // Same event + same text -> same id, so a redelivery overwrites instead of adding a row.
    const scanId = `unparsable-${sha256(`${owner}|${raw}`).slice(0, 32)}`;
    const reason = `image ${JSON.stringify(raw)} cannot be parsed: ${(error as Error).message}`;
    return recordImageFailure(record, job, { scanId, image: { unparsable: raw }, code: 'INVALID_IMAGE_REFERENCE', reason, retryable: false, startedAt: eventAt });
  }

  const resolved = await deps.digests.resolve(ref);
  const digest = resolved.digest;
  const image = toStored(ref, digest);
  if (!ref.digest) log.debug('tag resolution', { digest: digest ?? null, note: resolved.note });
  const contentKey = digest ?? ref.canonical;
  // Ids of rows this workload gets without a scan of its own: the same event and content always
  // name the same row, so a redelivery overwrites it instead of adding one.
  const ownRowId = (kind: string) => `${kind}-${sha256(`${owner}|${contentKey}`).slice(0, 32)}`;

  const cached = await deps.locks.latest(contentKey);
  if (cached && now().getTime() - Date.parse(cached.completedAt) < deps.cacheHours * 3600_000) {
    if (cached.owner === owner) {
      // Our own scan, finished since an earlier delivery of this event submitted it: it has its row.
      log.info('redelivery: the scan this event submitted is already stored', { scanId: cached.scanId });
      return { image: raw, kind: 'resumed', scanId: cached.scanId };
    }
    const stored = await deps.store.saveCacheHit({ scanId: ownRowId('cache'), image, containerType: job.containerType, resourceId: job.info.resourceId, cached, at: now() });
    log.info('cache hit: recent scan of the same content reused', { scanId: cached.scanId, completedAt: cached.completedAt, contentKey, rowKey: stored.scanId });
    deps.telemetry.containerScan({
      EventType: SCAN_EVENT_TYPES.cacheHit,
      Image: ref.canonical,
      ContainerType: job.containerType,
      ScanId: cached.scanId,
      Status: 'CACHED',
      ...vulnColumns(cached),
      Duration: now().getTime() - eventAt.getTime(),
      Digest: digest,
      ResourceId: job.info.resourceId,
      BlobPath: cached.blobPath,
    });
    return { image: raw, kind: 'cached', scanId: cached.scanId };
  }

  const lock = await deps.locks.acquire(contentKey, {
    scanId: newScanId(),
    owner,
    image: ref.canonical,
    // A lock outlives the longest scan, so only a dead scan's lock is ever taken over.
    ttlMs: (deps.maxScanMinutes + 10) * 60_000,
    now: now(),
  });
  if (lock.kind === 'held') {
    const skipped = () =>
      deps.telemetry.containerScan({
        EventType: SCAN_EVENT_TYPES.duplicateSkipped,
        Image: ref.canonical,
        ContainerType: job.containerType,
        ScanId: lock.scanId,
        Status: 'SKIPPED',
        Duration: now().getTime() - eventAt.getTime(),
        Digest: digest,
        ResourceId: job.info.resourceId,
      });
    if (!deps.redeliver) {
      log.info('scan of the same content already in flight; not submitting again', { scanId: lock.scanId, since: lock.since });
      skipped();
      return { image: raw, kind: 'in-flight', scanId: lock.scanId };
    }
    if (round.spent) {
      // Not our lock: record this workload's outcome without touching it.
      const scanId = ownRowId('wait');
      const reason = `a scan of the same content (${lock.scanId}, since ${lock.since}) was still in flight: ${round.spent}`;
      return recordImageFailure(record, job, { scanId, image, code: 'IN_FLIGHT_WAIT_EXCEEDED', reason, retryable: true, startedAt: eventAt });
    }
    // Not submitted again, but not forgotten either: the event looks again later and ends with the
    // cached result (the other scan succeeded) or a scan of its own (it failed, or its lock expired).
    if (!round.progress.waitedOn.includes(lock.scanId)) skipped();
    const untilExpirySec = Math.ceil((Date.parse(lock.expiresAt) - now().getTime()) / 1000) + 1;
    const retryAfterSec = Math.max(1, Math.min(waitDelaySec(policy, round.progress.defers), untilExpirySec));
    log.info('scan of the same content in flight for another workload; looking again later', { scanId: lock.scanId, since: lock.since, retryAfterSec });
    return { image: raw, kind: 'waiting', scanId: lock.scanId, retryAfterSec };
  }
  const scanId = lock.scanId;
  if (lock.kind === 'resumed' && lock.ticket) {
    // A previous delivery submitted and enqueued this scan; its poll chain carries it on.
    log.info('redelivery: scan already submitted', { scanId });
    return { image: raw, kind: 'resumed', scanId };
  }

  let ticket: ScanTicket;
  const submittedAt = now();
  const recordFailure = (code: string, reason: string, retryable: boolean): Promise<ImageOutcome> =>
    recordImageFailure(record, job, { scanId, image, code, reason, retryable, startedAt: submittedAt, lock: { contentKey, owner } });
  try {
    ticket = await deps.workflow.submit(digest && !ref.digest ? { ...ref, digest } : ref);
  } catch (error) {
    if (error instanceof QualysRateLimitError && deps.redeliver) {
      if (round.spent) return recordFailure('QUALYS_RATE_LIMITED', `Qualys kept rate-limiting the submit (last asked to wait ${error.retryAfterSec} s): ${round.spent}`, true);
      // The lock stays ours without a ticket: the delayed copy of the message resumes it and submits.
      log.warn('submit rate-limited beyond the wait budget; deferred', { scanId, retryAfterSec: error.retryAfterSec });
      return { image: raw, kind: 'deferred', scanId, retryAfterSec: error.retryAfterSec };
    }
    const info2 = classifyQualysError(error);
    if (info2.permanent || job.lastAttempt) {
      const reason = info2.permanent
        ? `Qualys refused the scan (${info2.code}): ${info2.message}`
        : `submit kept failing, gave up on the last delivery (${info2.code}): ${info2.message}`;
      return recordFailure(info2.code, reason, !info2.permanent);
    }
    throw error;
  }
  const deadline = new Date(submittedAt.getTime() + deps.maxScanMinutes * 60_000);
  const info = job.info;
  const poll: PollMessage = {
    v: 1,
    kind: 'scan-poll',
    scanId,
    contentKey,
    owner,
    image: { registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reference: image.reference },
    containerType: job.containerType,
    workload: { resourceId: info.resourceId, subscriptionId: info.subscriptionId, resourceGroup: info.resourceGroup, ...(info.location ? { location: info.location } : {}) },
    ticket,
    eventAt: eventAt.toISOString(),
    startedAt: submittedAt.toISOString(),
    deadline: deadline.toISOString(),
    checks: 0,
  };
  const delay = deps.pollDelay({ ticket, checks: 0, startedAt: submittedAt, deadline, now: now() });
  await deps.polls.enqueue(poll, delay);
  // Marked after the enqueue: a crash in between re-enqueues on redelivery (the poll side tolerates
  // a second chain), never leaves a scan with no poll at all.
  await deps.locks.markSubmitted(contentKey, scanId, ticket);
  log.info('scan submitted', { scanId, reused: ticket.reused, firstCheckInSec: delay, contentKey });
  return { image: raw, kind: 'submitted', scanId, reused: ticket.reused };
}
