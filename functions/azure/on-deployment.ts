import type { InvocationContext } from '@azure/functions';
import type { ImageReference } from '../../shared/image-reference';
import type { ScanTicket, ScanWorkflow } from '../../shared/qualys/contracts';
import { classifyMessage, MessageFormatError, type DeploymentEvent } from './deployment-event';
import type { WorkloadReader, WorkloadImages } from './arm-workloads';
import type { DigestResolver } from './registry-digest';
import type { ScanStore, StoredImage } from './scan-store';
import type { ScanLocks } from './scan-locks';
import type { EventDedupe } from './event-dedupe';
import type { PollQueue, PollMessage } from './poll-message';
import type { PollDelay } from './poll-timing';
import type { Telemetry } from './telemetry';
import { createLogger, type Logger } from './log';
import { classifyQualysError } from './qualys-errors';
import { QualysRateLimitError } from '../../shared/qualys/errors';
import { failureResult, newScanId, recordOutcome, scanTarget, type RecordContext, type WorkloadInfo } from './recorder';
import { sha256 } from './keys';
import { COMPONENTS, DEPLOYMENT_EVENT, DEPLOYMENT_OUTCOMES, FUNCTION_NAMES, SCAN_EVENT_TYPES } from './telemetry-names';
import type { Severity } from '../../shared/severity';

export interface DeploymentDeps {
  workflow: Pick<ScanWorkflow, 'submit'>;
  workloads: WorkloadReader;
  digests: DigestResolver;
  store: ScanStore;
  locks: ScanLocks;
  dedupe: EventDedupe;
  polls: PollQueue;
  pollDelay: PollDelay;
  telemetry: Telemetry;
  parseImage: (input: string) => ImageReference;
  cacheHours: number;
  maxScanMinutes: number;
  maxDequeueCount: number;
  alert?: RecordContext['alert'];
  severityThreshold?: Severity;
  /**
   * Puts the deployment message back on its queue after `delaySec`, answering the new message id.
   * Used when Qualys asks for a longer wait than the client's budget: the retry then costs no delivery.
   */
  redeliver?: (message: unknown, delaySec: number) => Promise<string>;
  /** Turns a wait Qualys asked for (seconds of its clock) into queue seconds (identity outside simulated time). */
  queueDelaySec?: (sec: number) => number;
  now?: () => Date;
}

/** What happened to each image of a deployment (returned for tests and the benchmark). */
export type ImageOutcome =
  | { image: string; kind: 'submitted'; scanId: string; reused: boolean }
  | { image: string; kind: 'resumed'; scanId: string }
  | { image: string; kind: 'cached'; scanId: string }
  | { image: string; kind: 'in-flight'; scanId: string }
  | { image: string; kind: 'failed'; scanId: string; reason: string }
  /** Qualys rate-limited the submit beyond the client's wait budget; the deployment comes back later. */
  | { image: string; kind: 'deferred'; scanId: string; retryAfterSec: number };

export interface DeploymentOutcome {
  events: { id?: string; outcome: string; reason?: string; images?: ImageOutcome[] }[];
  /** Id of the delayed copy of this message, when some image's submit was deferred. */
  redelivered?: { messageId: string; delaySec: number };
}

function dequeueCountOf(context: InvocationContext): number {
  const raw = (context.triggerMetadata as Record<string, unknown> | undefined)?.dequeueCount;
  const n = typeof raw === 'number' ? raw : Number(raw);
  return Number.isFinite(n) && n > 0 ? n : 1;
}

function messageIdOf(context: InvocationContext): string {
  const raw = (context.triggerMetadata as Record<string, unknown> | undefined)?.id;
  return typeof raw === 'string' && raw ? raw : context.invocationId;
}

/** Keeps a malformed body readable for a person without keeping identity claims or anything huge. */
function rejectedBody(message: unknown): string {
  let text: string;
  if (typeof message === 'string') text = message;
  else if (message instanceof Uint8Array) text = Buffer.from(message).toString('utf8');
  else {
    try {
      text = JSON.stringify(message, (key, value: unknown) => (key === 'claims' || key === 'authorization' ? '[dropped]' : value));
    } catch {
      text = String(message);
    }
  }
  return text.length > 8192 ? `${text.slice(0, 8192)}...[${text.length - 8192} more characters]` : text;
}

export function createOnDeployment(deps: DeploymentDeps) {
  const now = deps.now ?? (() => new Date());
  return async function onDeployment(message: unknown, context: InvocationContext): Promise<DeploymentOutcome> {
    const dequeueCount = dequeueCountOf(context);
    const messageId = messageIdOf(context);
    const log = createLogger(context, { fn: FUNCTION_NAMES.onDeployment, invocationId: context.invocationId, messageId, dequeueCount });
    const lastAttempt = dequeueCount >= deps.maxDequeueCount;
    const outcome: DeploymentOutcome = { events: [] };
    await Promise.all([deps.store.ensure(), deps.locks.ensure(), deps.dedupe.ensure(), deps.polls.ensure()]);

    let classified;
    try {
      classified = classifyMessage(message);
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      await recordMalformed(deps, log, messageId, error.message, message);
      outcome.events.push({ outcome: DEPLOYMENT_OUTCOMES.malformed, reason: error.message });
      return outcome;
    }

    const failures: unknown[] = [];
    const deferred: { event: DeploymentEvent; retryAfterSec: number }[] = [];
    for (const item of classified) {
      if (item.kind === 'ignored') {
        log.debug('event ignored', { eventId: item.id, reason: item.reason });
        outcome.events.push({ id: item.id, outcome: DEPLOYMENT_OUTCOMES.ignored, reason: item.reason });
        continue;
      }
      if (item.kind === 'malformed') {
        await recordMalformed(deps, log, `${messageId}-${item.id ?? 'event'}`, item.reason, message);
        outcome.events.push({ id: item.id, outcome: DEPLOYMENT_OUTCOMES.malformed, reason: item.reason });
        continue;
      }
      const event = item.event;
      const elog = log.child({ eventId: event.id, resourceId: event.resourceId, correlationId: event.correlationId });
      try {
        const done = await processDeployment(deps, elog, event, messageId, lastAttempt, now);
        outcome.events.push(done);
        const waits = (done.images ?? []).flatMap((i) => (i.kind === 'deferred' ? [i.retryAfterSec] : []));
        if (waits.length > 0) deferred.push({ event, retryAfterSec: Math.max(...waits) });
      } catch (error) {
        elog.error('deployment event failed', { error, willRetry: !lastAttempt });
        deps.telemetry.exception(error, COMPONENTS.onDeployment, { ResourceId: event.resourceId, EventId: event.id, DequeueCount: dequeueCount });
        if (lastAttempt) {
          // The message goes to the poison queue next; leave a record a person can find first.
          await deps.store.saveErrorRecord('events', `${sha256(event.resourceKey).slice(0, 16)}-${event.id}`, {
            reason: `gave up after ${dequeueCount} deliveries: ${(error as Error).message ?? String(error)}`,
            eventId: event.id,
            resourceId: event.resourceId,
            correlationId: event.correlationId,
            messageId,
            at: now().toISOString(),
          });
        }
        failures.push(error);
      }
    }
    // Throwing hands the message back to the queue (or, on the last delivery, to the poison queue).
    if (failures.length > 0) throw failures[0];
    if (deferred.length > 0 && deps.redeliver) {
      // A delayed copy carries the deployment on; the claims move to it so it resumes, not skips.
      const delaySec = Math.max(1, (deps.queueDelaySec ?? ((s: number) => s))(Math.max(...deferred.map((d) => d.retryAfterSec))));
      const next = await deps.redeliver(message, delaySec);
      for (const d of deferred) await deps.dedupe.handOver(d.event, messageId, next, now());
      log.warn('Qualys rate limit outlasted the wait budget; deployment handed back for later', { delaySec, redeliveredAs: next });
      outcome.redelivered = { messageId: next, delaySec };
    }
    return outcome;
  };
}

async function recordMalformed(deps: DeploymentDeps, log: Logger, name: string, reason: string, message: unknown): Promise<void> {
  const path = await deps.store.saveErrorRecord('messages', name, { reason, body: rejectedBody(message), at: new Date().toISOString() });
  log.warn('malformed deployment message recorded', { reason, blobPath: path });
  deps.telemetry.event(DEPLOYMENT_EVENT, { Outcome: DEPLOYMENT_OUTCOMES.malformed, Reason: reason, MessageId: name });
}

async function processDeployment(
  deps: DeploymentDeps,
  log: Logger,
  event: DeploymentEvent,
  messageId: string,
  lastAttempt: boolean,
  now: () => Date,
): Promise<DeploymentOutcome['events'][number]> {
  // A claim outlives every retry of its message (5 deliveries, 30 s apart, plus the work itself).
  const claim = await deps.dedupe.claim(event, messageId, { staleMs: 15 * 60_000, now: now() });
  if (claim.kind === 'duplicate') {
    log.info('duplicate deployment event skipped', { firstEventId: claim.firstEventId, state: claim.state, reason: claim.state === 'processing' ? 'another delivery of this deployment is being handled' : 'this deployment was handled already' });
    deps.telemetry.event(DEPLOYMENT_EVENT, { Outcome: DEPLOYMENT_OUTCOMES.duplicate, ResourceId: event.resourceId, OperationName: event.operationName });
    return { id: event.id, outcome: DEPLOYMENT_OUTCOMES.duplicate };
  }
  const lookup = await deps.workloads.read(event);
  if (lookup.kind === 'gone') {
    const reason = `${event.containerType === 'ACI' ? 'container group' : 'container app'} no longer exists (ARM answered ${lookup.statusCode})`;
    const path = await deps.store.saveErrorRecord('resources', `${sha256(event.resourceKey).slice(0, 16)}-${sha256(event.correlationId).slice(0, 8)}`, {
      reason,
      resourceId: event.resourceId,
      eventId: event.id,
      correlationId: event.correlationId,
      at: now().toISOString(),
    });
    log.warn('workload gone before it could be read; recorded', { reason, blobPath: path });
    deps.telemetry.event(DEPLOYMENT_EVENT, { Outcome: DEPLOYMENT_OUTCOMES.resourceGone, ResourceId: event.resourceId, OperationName: event.operationName, Reason: reason });
    await deps.dedupe.finish(event, 'gone', { reason });
    return { id: event.id, outcome: DEPLOYMENT_OUTCOMES.resourceGone, reason };
  }
  const workload = lookup.workload;
  const info: WorkloadInfo = { resourceId: workload.resourceId, subscriptionId: event.subscriptionId, resourceGroup: event.resourceGroup, location: workload.location };
  const distinct = [...new Set(workload.containers.map((c) => c.image.trim()))];
  log.info('deployment accepted', { containerType: event.containerType, images: distinct.length, containers: workload.containers.length });
  deps.telemetry.event(DEPLOYMENT_EVENT, { Outcome: DEPLOYMENT_OUTCOMES.accepted, ResourceId: event.resourceId, OperationName: event.operationName });

  const owner = `${event.resourceKey}|${event.correlationId}`;
  const results = await Promise.allSettled(distinct.map((raw) => processImage(deps, log.child({ image: raw }), event, workload, info, owner, raw, lastAttempt, now)));
  const images: ImageOutcome[] = [];
  const errors: unknown[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') images.push(r.value);
    else errors.push(r.reason);
  }
  if (errors.length > 0) throw errors[0];
  if (deps.redeliver && images.some((i) => i.kind === 'deferred')) {
    // Not finished: the delayed copy of this message submits the deferred images.
    return { id: event.id, outcome: DEPLOYMENT_OUTCOMES.accepted, images };
  }
  await deps.dedupe.finish(event, 'done', { images: images.map((i) => ({ image: i.image, kind: i.kind, scanId: i.scanId })) });
  return { id: event.id, outcome: DEPLOYMENT_OUTCOMES.accepted, images };
}

function toStored(ref: ImageReference, digest?: string): StoredImage {
  return { registry: ref.registry, repository: ref.repository, tag: ref.tag, digest: digest ?? ref.digest, reference: ref.canonical };
}

async function processImage(
  deps: DeploymentDeps,
  log: Logger,
  event: DeploymentEvent,
  workload: WorkloadImages,
  info: WorkloadInfo,
  owner: string,
  raw: string,
  lastAttempt: boolean,
  now: () => Date,
): Promise<ImageOutcome> {
  const eventAt = now();
  const record: RecordContext = { store: deps.store, locks: deps.locks, telemetry: deps.telemetry, log, alert: deps.alert };
  let ref: ImageReference;
  try {
    ref = deps.parseImage(raw);
  } catch (error) {
    // Same event + same text -> same id, so a redelivery overwrites instead of adding a row.
    const scanId = `unparsable-${sha256(`${owner}|${raw}`).slice(0, 32)}`;
    const reason = `image ${JSON.stringify(raw)} cannot be parsed: ${(error as Error).message}`;
    await recordOutcome(record, {
      result: failureResult({ scanId, target: scanTarget(undefined, event.containerType, info), code: 'INVALID_IMAGE_REFERENCE', message: reason, retryable: false, startedAt: eventAt.toISOString(), now: now() }),
      image: { unparsable: raw },
      containerType: event.containerType,
      workload: info,
      status: 'FAILED',
      reason,
      durationMs: 0,
    });
    return { image: raw, kind: 'failed', scanId, reason };
  }

  const resolved = await deps.digests.resolve(ref);
  const digest = resolved.digest;
  const image = toStored(ref, digest);
  if (!ref.digest) log.debug('tag resolution', { digest: digest ?? null, note: resolved.note });
  const contentKey = digest ?? ref.canonical;

  const cached = await deps.locks.latest(contentKey);
  if (cached && now().getTime() - Date.parse(cached.completedAt) < deps.cacheHours * 3600_000) {
    log.info('cache hit: recent scan of the same content reused', { scanId: cached.scanId, completedAt: cached.completedAt, contentKey });
    deps.telemetry.containerScan({
      EventType: SCAN_EVENT_TYPES.cacheHit,
      Image: ref.canonical,
      ContainerType: event.containerType,
      ScanId: cached.scanId,
      Status: 'CACHED',
      VulnCritical: cached.critical,
      VulnHigh: cached.high,
      VulnMedium: cached.medium,
      VulnLow: cached.low,
      VulnInformational: cached.informational,
      VulnTotal: cached.total,
      Duration: now().getTime() - eventAt.getTime(),
      Digest: digest,
      ResourceId: workload.resourceId,
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
    log.info('scan of the same content already in flight; not submitting again', { scanId: lock.scanId, since: lock.since });
    deps.telemetry.containerScan({
      EventType: SCAN_EVENT_TYPES.duplicateSkipped,
      Image: ref.canonical,
      ContainerType: event.containerType,
      ScanId: lock.scanId,
      Status: 'SKIPPED',
      Duration: now().getTime() - eventAt.getTime(),
      Digest: digest,
      ResourceId: workload.resourceId,
    });
    return { image: raw, kind: 'in-flight', scanId: lock.scanId };
  }
  const scanId = lock.scanId;
  if (lock.kind === 'resumed' && lock.ticket) {
    // A previous delivery submitted and enqueued this scan; its poll chain carries it on.
    log.info('redelivery: scan already submitted', { scanId });
    return { image: raw, kind: 'resumed', scanId };
  }

  let ticket: ScanTicket;
  const submittedAt = now();
  try {
    ticket = await deps.workflow.submit(digest && !ref.digest ? { ...ref, digest } : ref);
  } catch (error) {
    if (error instanceof QualysRateLimitError && deps.redeliver) {
      // The lock stays ours without a ticket: the delayed copy of the message resumes it and submits.
      log.warn('submit rate-limited beyond the wait budget; deferred', { scanId, retryAfterSec: error.retryAfterSec });
      return { image: raw, kind: 'deferred', scanId, retryAfterSec: error.retryAfterSec };
    }
    const info2 = classifyQualysError(error);
    if (info2.permanent || lastAttempt) {
      const reason = info2.permanent
        ? `Qualys refused the scan (${info2.code}): ${info2.message}`
        : `submit kept failing, gave up on the last delivery (${info2.code}): ${info2.message}`;
      await recordOutcome(record, {
        result: failureResult({ scanId, target: scanTarget(image, event.containerType, info), code: info2.code, message: reason, retryable: !info2.permanent, startedAt: submittedAt.toISOString(), now: now() }),
        image,
        containerType: event.containerType,
        workload: info,
        status: 'FAILED',
        reason,
        contentKey,
        durationMs: now().getTime() - submittedAt.getTime(),
      });
      return { image: raw, kind: 'failed', scanId, reason };
    }
    throw error;
  }
  const deadline = new Date(submittedAt.getTime() + deps.maxScanMinutes * 60_000);
  const poll: PollMessage = {
    v: 1,
    kind: 'scan-poll',
    scanId,
    contentKey,
    owner,
    image: { registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reference: image.reference },
    containerType: event.containerType,
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
