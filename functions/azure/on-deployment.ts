import type { InvocationContext } from '@azure/functions';
import type { ImageReference } from '../../shared/image-reference';
import type { ScanWorkflow } from '../../shared/qualys/contracts';
import { classifyEvent, decodeEvents, MessageFormatError, type ClassifiedEvent, type DeploymentEvent } from './deployment-event';
import type { WorkloadLookup, WorkloadReader } from './arm-workloads';
import type { DigestResolver } from './registry-digest';
import type { ScanStore } from './scan-store';
import type { ScanLocks } from './scan-locks';
import type { DeploymentProgress, EventDedupe } from './event-dedupe';
import type { PollQueue } from './poll-message';
import type { PollDelay } from './poll-timing';
import type { Telemetry } from './telemetry';
import { createLogger, type Logger } from './log';
import type { RecordContext, WorkloadInfo } from './recorder';
import { sha256 } from './keys';
import { COMPONENTS, DEPLOYMENT_EVENT, DEPLOYMENT_OUTCOMES, FUNCTION_NAMES, type Component, type DeploymentEventDimension } from './telemetry-names';
import type { Severity } from '../../shared/severity';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
import { RETRY_VISIBILITY_SEC } from './host-settings';
import { rejectedBody, rejectedEvent } from './rejected-input';
import { ReasonTally } from './reason-tally';
import { imagePending, scanImage, type ImageOutcome, type Round } from './image-scan';

export { imagePending, type ImageOutcome } from './image-scan';

/** What the handler of a queue of scan events needs (onDeployment adds the ARM reader). */
export interface ScanEventDeps {
  workflow: Pick<ScanWorkflow, 'submit'>;
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
  /** Turns a wait (seconds of `now`'s clock) into queue seconds (identity outside simulated time). */
  queueDelaySec?: (sec: number) => number;
  /** Deferral budgets (defaults: defaultRetryPolicy(maxScanMinutes)). */
  retryPolicy?: RetryPolicy;
  now?: () => Date;
}

export interface DeploymentDeps extends ScanEventDeps {
  workloads: WorkloadReader;
}

/**
 * Where the events of one queue come from and how an event's images are found: a container write
 * whose workload is read from ARM (onDeployment), or a registry push that names its image itself
 * (onImagePush). Everything after that (dedupe, per-image cache, lock and submit, re-sends, records)
 * is the same code for both.
 */
export interface ScanEventSource {
  /** Function name, in every log line. */
  fn: string;
  component: Component;
  classify(raw: unknown): ClassifiedEvent;
  images(event: DeploymentEvent): Promise<WorkloadLookup>;
}

export interface DeploymentOutcome {
  events: { id?: string; outcome: string; reason?: string; images?: ImageOutcome[] }[];
  /** Id of the delayed copy of this message (the events still pending), when some image was deferred or waits. */
  redelivered?: { messageId: string; delaySec: number };
}

/** True when this event's outcome is not final: a later delivery (the re-sent copy) reports it again. */
export function eventPending(e: DeploymentOutcome['events'][number]): boolean {
  return (e.images ?? []).some(imagePending);
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

/** An event id as part of a blob name: as it is when it is a plain name, else its hash (an id may hold `/` and make hundreds of folders). */
function recordName(id: string): string {
  return /^[A-Za-z0-9._-]{1,128}$/.test(id) ? id : sha256(id).slice(0, 32);
}

/**
 * How long a claim outlives its message's deliveries before another delivery of the same deployment may
 * take it over: every redelivery (host.json visibilityTimeout apart), a minute of work each, and a margin.
 */
function claimStaleMs(maxDequeueCount: number): number {
  return (maxDequeueCount * (RETRY_VISIBILITY_SEC + 60) + 600) * 1000;
}

interface PendingEvent {
  event: DeploymentEvent;
  raw: unknown;
  retryAfterSec: number;
  progress: DeploymentProgress;
}

export function createOnDeployment(deps: DeploymentDeps) {
  return createScanEventHandler(deps, {
    fn: FUNCTION_NAMES.onDeployment,
    component: COMPONENTS.onDeployment,
    classify: classifyEvent,
    images: (event) => deps.workloads.read(event),
  });
}

/** The queue handler for a source of scan events (see ScanEventSource). */
export function createScanEventHandler(deps: ScanEventDeps, source: ScanEventSource) {
  const now = deps.now ?? (() => new Date());
  const policy = deps.retryPolicy ?? defaultRetryPolicy(deps.maxScanMinutes);
  return async function onDeployment(message: unknown, context: InvocationContext): Promise<DeploymentOutcome> {
    const dequeueCount = dequeueCountOf(context);
    const messageId = messageIdOf(context);
    const log = createLogger(context, { fn: source.fn, invocationId: context.invocationId, messageId, dequeueCount });
    const lastAttempt = dequeueCount >= deps.maxDequeueCount;
    const outcome: DeploymentOutcome = { events: [] };
    await Promise.all([deps.store.ensure(), deps.locks.ensure(), deps.dedupe.ensure(), deps.polls.ensure()]);

    let raws: unknown[];
    try {
      raws = decodeEvents(message);
    } catch (error) {
      if (!(error instanceof MessageFormatError)) throw error;
      await recordUnreadable(deps, log, messageId, error.message, message);
      outcome.events.push({ outcome: DEPLOYMENT_OUTCOMES.malformed, reason: error.message });
      return outcome;
    }

    // Every event is classified first, so the ones that reach no scan are recorded once for the whole
    // message, and before a deployment of it can fail (a failed message comes back and rewrites the same record).
    const classified = raws.map((raw) => source.classify(raw));
    await recordRejected(deps, log, messageId, raws, classified);

    const failures: unknown[] = [];
    const pending: PendingEvent[] = [];
    for (const [index, item] of classified.entries()) {
      if (item.kind !== 'deployment') {
        outcome.events.push({ id: item.id, outcome: item.kind === 'ignored' ? DEPLOYMENT_OUTCOMES.ignored : DEPLOYMENT_OUTCOMES.malformed, reason: item.reason });
        continue;
      }
      const raw = raws[index];
      const event = item.event;
      const elog = log.child({ eventId: event.id, resourceId: event.resourceId, correlationId: event.correlationId });
      try {
        const done = await processDeployment(deps, source, { policy, log: elog, event, messageId, lastAttempt, now });
        outcome.events.push(done.outcome);
        if (done.pending) pending.push({ event, raw, ...done.pending });
      } catch (error) {
        elog.error('deployment event failed', { error, willRetry: !lastAttempt });
        deps.telemetry.exception(error, source.component, { ResourceId: event.resourceId, EventId: event.id, DequeueCount: dequeueCount });
        if (lastAttempt) {
          // The message goes to the poison queue next; leave a record a person can find first.
          await deps.store.saveErrorRecord('events', `${sha256(event.resourceKey).slice(0, 16)}-${recordName(event.id)}`, {
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
    if (pending.length > 0 && deps.redeliver) {
      // A delayed copy of just the pending events carries the deployments on; the claims (with what is
      // settled already and how often they were re-sent) move to it, so it resumes instead of skipping.
      const waitSec = Math.max(...pending.map((p) => p.retryAfterSec));
      const delaySec = Math.max(1, (deps.queueDelaySec ?? ((s: number) => s))(waitSec));
      const next = await deps.redeliver(pending.length === 1 ? pending[0]!.raw : pending.map((p) => p.raw), delaySec);
      const visibleAt = new Date(now().getTime() + waitSec * 1000);
      for (const p of pending) await deps.dedupe.handOver(p.event, messageId, next, now(), p.progress, visibleAt);
      log.info('deployment handed back for later (rate limit, or a scan of the same content in flight)', { delaySec, redeliveredAs: next, defers: Math.max(...pending.map((p) => p.progress.defers)) });
      outcome.redelivered = { messageId: next, delaySec };
    }
    return outcome;
  };
}

function deploymentEvent(telemetry: Telemetry, dimensions: Partial<Record<DeploymentEventDimension, string | number>>): void {
  telemetry.event(DEPLOYMENT_EVENT, dimensions);
}

/** A message whose body holds no events at all. */
async function recordUnreadable(deps: ScanEventDeps, log: Logger, messageId: string, reason: string, message: unknown): Promise<void> {
  const path = await deps.store.saveErrorRecord('messages', messageId, { reason, messageId, body: rejectedBody(message), at: new Date().toISOString() });
  log.warn('malformed deployment message recorded', { reason, blobPath: path });
  deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.malformed, Count: 1, Reason: reason, MessageId: messageId });
}

/** Malformed events of one message whose text a record keeps, and how many characters of each. */
const SAMPLE_EVENTS = 10;
const SAMPLE_EVENT_CHARS = 2048;
/** Characters kept of an event's id or reason in the sample. */
const SAMPLE_TEXT_CHARS = 300;

const clip = (text: string) => (text.length > SAMPLE_TEXT_CHARS ? `${text.slice(0, SAMPLE_TEXT_CHARS)}...` : text);

/**
 * The events of a message that reach no scan, once per message however many there are: ignored events
 * as one Ignored event and one log line, malformed events as one record (counts by reason and the first
 * few events) and one Malformed event. Its cost grows with the message, never with the square of it.
 */
async function recordRejected(deps: ScanEventDeps, log: Logger, messageId: string, raws: readonly unknown[], classified: readonly ClassifiedEvent[]): Promise<void> {
  const ignored = new ReasonTally();
  const malformed = new ReasonTally();
  const sample: { index: number; id?: string; reason: string; event: string }[] = [];
  for (const [index, item] of classified.entries()) {
    if (item.kind === 'ignored') ignored.add(item.reason);
    if (item.kind !== 'malformed') continue;
    malformed.add(item.reason);
    if (sample.length < SAMPLE_EVENTS) {
      sample.push({ index, ...(item.id !== undefined ? { id: clip(item.id) } : {}), reason: clip(item.reason), event: rejectedEvent(raws[index], SAMPLE_EVENT_CHARS) });
    }
  }
  if (ignored.count > 0) {
    const reasons = ignored.summary();
    // Ignoring is normal (events of other operations), so it is counted, not recorded.
    log.info('deployment events ignored', { count: ignored.count, reasons });
    deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.ignored, Count: ignored.count, Reason: reasons, MessageId: messageId });
  }
  if (malformed.count > 0) {
    const reason = `${malformed.count} of ${raws.length} events malformed: ${malformed.summary()}`;
    const path = await deps.store.saveErrorRecord('messages', messageId, {
      reason,
      messageId,
      events: raws.length,
      malformed: malformed.count,
      reasons: malformed.reasons(),
      ...(malformed.otherReasons > 0 ? { otherReasons: malformed.otherReasons } : {}),
      sample,
      at: new Date().toISOString(),
    });
    log.warn('malformed deployment events recorded', { count: malformed.count, reason, blobPath: path });
    deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.malformed, Count: malformed.count, Reason: reason, MessageId: messageId });
  }
}

/** Why the deployment must stop waiting, once its re-sends are past the budget. */
function budgetSpent(progress: DeploymentProgress, policy: RetryPolicy, at: Date): string | undefined {
  if (progress.defers === 0) return undefined;
  const since = progress.firstDeferredAt ? Date.parse(progress.firstDeferredAt) : at.getTime();
  const elapsedSec = Math.max(0, (at.getTime() - since) / 1000);
  if (progress.defers < policy.deploymentMaxDefers && elapsedSec < policy.deploymentMaxDeferSec) return undefined;
  return `gave up after ${progress.defers} re-sends of the deployment over ${Math.round(elapsedSec / 60)} minutes`;
}

/** One event of a message, as processDeployment handles it. */
interface EventJob {
  policy: RetryPolicy;
  log: Logger;
  event: DeploymentEvent;
  messageId: string;
  lastAttempt: boolean;
  now: () => Date;
}

const GONE_WHAT: Record<DeploymentEvent['containerType'], string> = { ACI: 'container group', ACA: 'container app', ACR: 'registry repository' };

async function processDeployment(
  deps: ScanEventDeps,
  source: ScanEventSource,
  job: EventJob,
): Promise<{ outcome: DeploymentOutcome['events'][number]; pending?: { retryAfterSec: number; progress: DeploymentProgress } }> {
  const { policy, log, event, messageId, lastAttempt, now } = job;
  const claim = await deps.dedupe.claim(event, messageId, { staleMs: claimStaleMs(deps.maxDequeueCount), now: now() });
  if (claim.kind === 'duplicate') {
    log.info('duplicate deployment event skipped', { firstEventId: claim.firstEventId, state: claim.state, reason: claim.state === 'processing' ? 'another delivery of this deployment is being handled' : 'this deployment was handled already' });
    deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.duplicate, Count: 1, ResourceId: event.resourceId, OperationName: event.operationName });
    return { outcome: { id: event.id, outcome: DEPLOYMENT_OUTCOMES.duplicate } };
  }
  const progress: DeploymentProgress = (claim.kind === 'resume' ? claim.progress : undefined) ?? { defers: 0, settled: [], waitedOn: [] };
  const lookup = await source.images(event);
  if (lookup.kind === 'gone') {
    const reason = `${GONE_WHAT[event.containerType]} no longer exists (ARM answered ${lookup.statusCode})`;
    const path = await deps.store.saveErrorRecord('resources', `${sha256(event.resourceKey).slice(0, 16)}-${sha256(event.correlationId).slice(0, 8)}`, {
      reason,
      resourceId: event.resourceId,
      eventId: event.id,
      correlationId: event.correlationId,
      at: now().toISOString(),
    });
    log.warn('workload gone before it could be read; recorded', { reason, blobPath: path });
    deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.resourceGone, Count: 1, ResourceId: event.resourceId, OperationName: event.operationName, Reason: reason });
    await deps.dedupe.finish(event, 'gone', { reason });
    return { outcome: { id: event.id, outcome: DEPLOYMENT_OUTCOMES.resourceGone, reason } };
  }
  const workload = lookup.workload;
  const info: WorkloadInfo = { resourceId: workload.resourceId, subscriptionId: event.subscriptionId, resourceGroup: event.resourceGroup, location: workload.location };
  const distinct = [...new Set(workload.containers.map((c) => c.image.trim()))];
  const settled = new Map(progress.settled.map((i) => [i.image, i as unknown as ImageOutcome]));
  log.info('deployment accepted', { containerType: event.containerType, images: distinct.length, containers: workload.containers.length, ...(progress.defers > 0 ? { resend: progress.defers, settled: settled.size } : {}) });
  if (progress.defers === 0) deploymentEvent(deps.telemetry, { Outcome: DEPLOYMENT_OUTCOMES.accepted, Count: 1, ResourceId: event.resourceId, OperationName: event.operationName });

  const owner = `${event.resourceKey}|${event.correlationId}`;
  const round: Round = { progress, spent: budgetSpent(progress, policy, now()) };
  const results = await Promise.allSettled(
    distinct.map(
      async (raw) =>
        settled.get(raw) ??
        scanImage(deps, { policy, round, log: log.child({ image: raw }), containerType: event.containerType, info, owner, raw, lastAttempt, now }),
    ),
  );
  const images: ImageOutcome[] = [];
  const errors: unknown[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') images.push(r.value);
    else errors.push(r.reason);
  }
  if (errors.length > 0) throw errors[0];
  const waiting = images.filter(imagePending);
  if (deps.redeliver && waiting.length > 0) {
    // Not finished: the delayed copy of this event handles what is still pending, and only that.
    const next: DeploymentProgress = {
      defers: progress.defers + 1,
      firstDeferredAt: progress.firstDeferredAt ?? now().toISOString(),
      settled: images.filter((i) => !imagePending(i)).map((i) => ({ ...i })),
      waitedOn: [...new Set([...progress.waitedOn, ...waiting.filter((i) => i.kind === 'waiting').map((i) => i.scanId)])],
    };
    return { outcome: { id: event.id, outcome: DEPLOYMENT_OUTCOMES.accepted, images }, pending: { retryAfterSec: Math.max(...waiting.map((i) => i.retryAfterSec)), progress: next } };
  }
  await deps.dedupe.finish(event, 'done', { images: images.map((i) => ({ image: i.image, kind: i.kind, scanId: i.scanId })), ...(progress.defers > 0 ? { resends: progress.defers } : {}) });
  return { outcome: { id: event.id, outcome: DEPLOYMENT_OUTCOMES.accepted, images } };
}
