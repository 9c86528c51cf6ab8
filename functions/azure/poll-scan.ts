import type { InvocationContext } from '@azure/functions';
import type { CheckOutcome, ScanTicket, ScanWorkflow } from '../../shared/qualys/contracts';
import { parseScanResult } from '../../shared/scan-result';
import { decodeQueueMessage, MessageFormatError } from './deployment-event';
import { parsePollMessage, PollMessageError, type PollMessage, type PollQueue } from './poll-message';
import type { PollDelay } from './poll-timing';
import { imagePartitionKey, type ScanStore, type StoredImage } from './scan-store';
import type { ScanLocks } from './scan-locks';
import type { Telemetry } from './telemetry';
import { createLogger } from './log';
import { classifyQualysError } from './qualys-errors';
import { QualysRateLimitError } from '../../shared/qualys/errors';
import { failureResult, recordOutcome, scanTarget, type RecordContext, type WorkloadInfo } from './recorder';
import { COMPONENTS, FUNCTION_NAMES } from './telemetry-names';

export interface PollDeps {
  /** One status check; in the app this is the CheckBatcher over `checkMany`. */
  checker: { check(ticket: ScanTicket): Promise<CheckOutcome> };
  workflow: Pick<ScanWorkflow, 'results'>;
  store: ScanStore;
  locks: ScanLocks;
  polls: PollQueue;
  pollDelay: PollDelay;
  telemetry: Telemetry;
  maxDequeueCount: number;
  alert?: RecordContext['alert'];
  /** Told how long each completed scan took (the poll policy's guess for images of unknown size). */
  durations?: { record(ms: number): void };
  /** Turns a wait Qualys asked for (seconds of its clock) into queue seconds (identity outside simulated time). */
  queueDelaySec?: (sec: number) => number;
  now?: () => Date;
}

export type PollOutcome =
  | { kind: 'requeued'; scanId: string; delaySec: number; state: string }
  | { kind: 'stored'; scanId: string; status: string; blobPath: string }
  | { kind: 'duplicate'; scanId: string }
  | { kind: 'malformed'; reason: string };

function meta(context: InvocationContext, key: string): unknown {
  return (context.triggerMetadata as Record<string, unknown> | undefined)?.[key];
}

export function createPollScan(deps: PollDeps) {
  const now = deps.now ?? (() => new Date());
  return async function pollScan(message: unknown, context: InvocationContext): Promise<PollOutcome> {
    const dequeueCount = Number(meta(context, 'dequeueCount') ?? 1) || 1;
    const messageId = String(meta(context, 'id') ?? context.invocationId);
    const base = createLogger(context, { fn: FUNCTION_NAMES.pollScan, invocationId: context.invocationId, messageId, dequeueCount });
    await Promise.all([deps.store.ensure(), deps.locks.ensure(), deps.polls.ensure()]);

    let msg: PollMessage;
    try {
      msg = parsePollMessage(decodeQueueMessage(message));
    } catch (error) {
      if (!(error instanceof PollMessageError) && !(error instanceof MessageFormatError)) throw error;
      const path = await deps.store.saveErrorRecord('messages', `poll-${messageId}`, { reason: error.message, at: now().toISOString() });
      base.error('malformed scan-poll message recorded and dropped', { reason: error.message, blobPath: path });
      return { kind: 'malformed', reason: error.message };
    }
    const log = base.child({ scanId: msg.scanId, image: msg.image.reference, checks: msg.checks });
    const image: StoredImage = msg.image;
    const info: WorkloadInfo = msg.workload;
    const target = scanTarget(image, msg.containerType, info);
    const record: RecordContext = { store: deps.store, locks: deps.locks, telemetry: deps.telemetry, log, alert: deps.alert };
    const startedAt = new Date(msg.startedAt);
    const deadline = new Date(msg.deadline);

    // A second poll chain (a redelivered deployment event) or a redelivered poll finds the result stored.
    if (await deps.store.getRow(imagePartitionKey(image), msg.scanId)) {
      log.info('scan already stored; duplicate poll dropped');
      return { kind: 'duplicate', scanId: msg.scanId };
    }

    const fail = async (status: 'FAILED' | 'TIMEOUT', code: string, reason: string, retryable: boolean): Promise<PollOutcome> => {
      const stored = await recordOutcome(record, {
        result: failureResult({ scanId: msg.scanId, target, code, message: reason, retryable, startedAt: msg.startedAt, now: now() }),
        image,
        containerType: msg.containerType,
        workload: info,
        status,
        reason,
        contentKey: msg.contentKey,
        durationMs: now().getTime() - startedAt.getTime(),
      });
      return { kind: 'stored', scanId: msg.scanId, status, blobPath: stored.blobPath };
    };

    try {
      // The look scheduled at the deadline lands on or just after it: look first, give up only if still not done.
      const outcome = await deps.checker.check(msg.ticket);
      if ((outcome.state === 'PENDING' || outcome.state === 'RUNNING') && now().getTime() >= deadline.getTime()) {
        return await fail('TIMEOUT', 'SCAN_TIMEOUT', `no result within ${Math.round((deadline.getTime() - startedAt.getTime()) / 60_000)} minutes (${msg.checks + 1} status checks)`, true);
      }
      if (outcome.state === 'PENDING' || outcome.state === 'RUNNING') {
        const next: PollMessage = { ...msg, ticket: outcome.ticket, checks: msg.checks + 1 };
        const delaySec = deps.pollDelay({ ticket: outcome.ticket, checks: next.checks, startedAt, deadline, now: now() });
        await deps.polls.enqueue(next, delaySec);
        log.debug('scan not done yet; checking again later', { state: outcome.state, detail: outcome.detail, delaySec });
        return { kind: 'requeued', scanId: msg.scanId, delaySec, state: outcome.state };
      }
      if (outcome.state === 'FAILED') {
        return await fail('FAILED', 'QUALYS_SCAN_FAILED', `Qualys reported the scan failed: ${outcome.detail}`, false);
      }
      deps.durations?.record(now().getTime() - startedAt.getTime());
      const fetched = await deps.workflow.results(outcome.ticket, target);
      // Our scanId names the blob and the row; the engine's own ids stay inside the document.
      const result = parseScanResult({ ...fetched, scanId: msg.scanId, target: fetched.target ?? target });
      const stored = await recordOutcome(record, {
        result,
        image,
        containerType: msg.containerType,
        workload: info,
        status: result.status,
        reason: result.error?.message,
        contentKey: msg.contentKey,
        durationMs: now().getTime() - startedAt.getTime(),
      });
      return { kind: 'stored', scanId: msg.scanId, status: result.status, blobPath: stored.blobPath };
    } catch (error) {
      if (error instanceof QualysRateLimitError) {
        // Qualys asked us to wait longer than the client's budget: hand the same look back for later.
        // Completing this delivery keeps the wait from using up the queue's deliveries.
        const delaySec = Math.max(1, (deps.queueDelaySec ?? ((s: number) => s))(error.retryAfterSec));
        await deps.polls.enqueue(msg, delaySec);
        log.warn('Qualys rate limit outlasted the wait budget; check deferred', { delaySec });
        return { kind: 'requeued', scanId: msg.scanId, delaySec, state: 'RATE_LIMITED' };
      }
      const info2 = classifyQualysError(error);
      deps.telemetry.exception(error, COMPONENTS.pollScan, { ScanId: msg.scanId, DequeueCount: dequeueCount });
      if (info2.permanent || dequeueCount >= deps.maxDequeueCount) {
        const reason = info2.permanent
          ? `Qualys refused (${info2.code}): ${info2.message}`
          : `gave up after ${dequeueCount} deliveries (${info2.code}): ${info2.message}`;
        log.error('scan failed; recorded', { reason });
        try {
          const out = await fail('FAILED', info2.code, reason, !info2.permanent);
          // Permanent: done. Last delivery: still throw so the message is visible in the poison queue.
          if (info2.permanent) return out;
        } catch (storeError) {
          log.error('could not record the failure', { error: storeError });
        }
      } else {
        log.warn('scan check failed; the queue will retry', { error, code: info2.code });
      }
      throw error;
    }
  };
}
