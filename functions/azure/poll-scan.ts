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
import { failureResult, finishOutcome, recordOutcome, scanTarget, type RecordContext, type WorkloadInfo } from './recorder';
import { defaultRetryPolicy, pollRetryDelaySec, type RetryPolicy } from './retry-policy';
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
  /** Retries of transient Qualys failures (defaults: defaultRetryPolicy). */
  retryPolicy?: Pick<RetryPolicy, 'pollMaxAttempts' | 'pollRetryBaseSec' | 'pollRetryMaxSec'>;
  alert?: RecordContext['alert'];
  /** Told how long each completed scan took (the poll policy's guess for images of unknown size). */
  durations?: { record(ms: number): void };
  /** Turns a wait (seconds of `now`'s clock) into queue seconds (identity outside simulated time). */
  queueDelaySec?: (sec: number) => number;
  now?: () => Date;
}

export type PollOutcome =
  /** `state`: PENDING/RUNNING (not done yet), RATE_LIMITED (Qualys asked to wait), RETRYING (a transient failure). */
  | { kind: 'requeued'; scanId: string; delaySec: number; state: string }
  /** `recovered`: an earlier delivery stored the row and died before finishing; this one finished it. */
  | { kind: 'stored'; scanId: string; status: string; blobPath: string; recovered?: true }
  | { kind: 'duplicate'; scanId: string }
  | { kind: 'malformed'; reason: string };

function meta(context: InvocationContext, key: string): unknown {
  return (context.triggerMetadata as Record<string, unknown> | undefined)?.[key];
}

export function createPollScan(deps: PollDeps) {
  const now = deps.now ?? (() => new Date());
  const policy = deps.retryPolicy ?? defaultRetryPolicy(30);
  const toQueueSec = (sec: number) => Math.max(1, (deps.queueDelaySec ?? ((s: number) => s))(sec));
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
    const minutes = Math.round((deadline.getTime() - startedAt.getTime()) / 60_000);

    const fail = async (status: 'FAILED' | 'TIMEOUT', code: string, reason: string, retryable: boolean): Promise<PollOutcome> => {
      const stored = await recordOutcome(record, {
        result: failureResult({ scanId: msg.scanId, target, code, message: reason, retryable, startedAt: msg.startedAt, now: now() }),
        image,
        containerType: msg.containerType,
        workload: info,
        status,
        reason,
        contentKey: msg.contentKey,
        owner: msg.owner,
        durationMs: now().getTime() - startedAt.getTime(),
      });
      return { kind: 'stored', scanId: msg.scanId, status, blobPath: stored.blobPath };
    };

    /**
     * A Qualys call that did not answer. Handled here, not by the queue: the retry is a new message
     * with a counter, so a long outage neither uses up the queue's deliveries nor loops for ever.
     */
    const onQualysError = async (error: unknown): Promise<PollOutcome> => {
      if (error instanceof QualysRateLimitError) {
        const deferrals = (msg.deferrals ?? 0) + 1;
        if (now().getTime() >= deadline.getTime()) {
          return fail('TIMEOUT', 'SCAN_TIMEOUT', `no result within ${minutes} minutes: Qualys kept rate-limiting the checks (${deferrals} deferrals, last asked to wait ${error.retryAfterSec} s)`, true);
        }
        // Qualys asked us to wait longer than the client's budget: hand the same look back for later.
        const delaySec = toQueueSec(error.retryAfterSec);
        await deps.polls.enqueue({ ...msg, deferrals }, delaySec);
        log.warn('Qualys rate limit outlasted the wait budget; check deferred', { delaySec, deferrals });
        return { kind: 'requeued', scanId: msg.scanId, delaySec, state: 'RATE_LIMITED' };
      }
      const info2 = classifyQualysError(error);
      const attempts = (msg.attempts ?? 0) + 1;
      deps.telemetry.exception(error, COMPONENTS.pollScan, { ScanId: msg.scanId, DequeueCount: dequeueCount, Attempt: attempts });
      if (info2.permanent) {
        log.error('Qualys refused; scan failed and recorded', { code: info2.code, error });
        return fail('FAILED', info2.code, `Qualys refused (${info2.code}): ${info2.message}`, false);
      }
      if (attempts >= policy.pollMaxAttempts) {
        log.error('Qualys kept failing; scan failed and recorded', { code: info2.code, attempts, error });
        return fail('FAILED', info2.code, `gave up after ${attempts} failed Qualys calls in a row (${info2.code}): ${info2.message}`, true);
      }
      const waitSec = pollRetryDelaySec(policy, attempts);
      const delaySec = toQueueSec(waitSec);
      await deps.polls.enqueue({ ...msg, attempts }, delaySec);
      log.warn('Qualys call failed; retrying later', { code: info2.code, attempt: attempts, of: policy.pollMaxAttempts, retryInSec: waitSec, error });
      return { kind: 'requeued', scanId: msg.scanId, delaySec, state: 'RETRYING' };
    };

    const run = async (): Promise<PollOutcome> => {
      // A second poll chain (a redelivered deployment event) or a redelivered poll finds the result stored.
      const row = await deps.store.getRow(imagePartitionKey(image), msg.scanId);
      if (row && row.Status !== 'CACHED') {
        const held = await deps.locks.inflight(msg.contentKey);
        if (held?.scanId !== msg.scanId) {
          log.info('scan already stored; duplicate poll dropped');
          return { kind: 'duplicate', scanId: msg.scanId };
        }
        // Stored, but the lock is still ours: the delivery that wrote the row died before finishing. The
        // cache entry, the lock release, the ContainerScan event and the alert all come after the lock
        // step, so none of them happened: do them now (from the stored document, no Qualys call).
        const result = await deps.store.readResult(row.BlobPath);
        await finishOutcome(
          record,
          {
            result,
            image,
            containerType: msg.containerType,
            workload: info,
            status: row.Status,
            reason: row.Reason || undefined,
            contentKey: msg.contentKey,
            owner: msg.owner,
            durationMs: Date.parse(result.completedAt) - startedAt.getTime(),
          },
          { partitionKey: row.partitionKey, scanId: msg.scanId, blobPath: row.BlobPath },
        );
        log.warn('scan was stored by an earlier delivery that did not finish; finished it', { status: row.Status, blobPath: row.BlobPath });
        return { kind: 'stored', scanId: msg.scanId, status: row.Status, blobPath: row.BlobPath, recovered: true };
      }

      let outcome: CheckOutcome;
      try {
        // The look scheduled at the deadline lands on or just after it: look first, give up only if still not done.
        outcome = await deps.checker.check(msg.ticket);
      } catch (error) {
        return onQualysError(error);
      }
      // A check that answered ends a run of transient failures.
      const { attempts: _spent, ...fresh } = msg;
      if ((outcome.state === 'PENDING' || outcome.state === 'RUNNING') && now().getTime() >= deadline.getTime()) {
        return fail('TIMEOUT', 'SCAN_TIMEOUT', `no result within ${minutes} minutes (${msg.checks + 1} status checks)`, true);
      }
      if (outcome.state === 'PENDING' || outcome.state === 'RUNNING') {
        const next: PollMessage = { ...fresh, ticket: outcome.ticket, checks: msg.checks + 1 };
        const delaySec = deps.pollDelay({ ticket: outcome.ticket, checks: next.checks, startedAt, deadline, now: now() });
        await deps.polls.enqueue(next, delaySec);
        log.debug('scan not done yet; checking again later', { state: outcome.state, detail: outcome.detail, delaySec });
        return { kind: 'requeued', scanId: msg.scanId, delaySec, state: outcome.state };
      }
      if (outcome.state === 'FAILED') {
        return fail('FAILED', 'QUALYS_SCAN_FAILED', `Qualys reported the scan failed: ${outcome.detail}`, false);
      }
      let fetched;
      try {
        fetched = await deps.workflow.results(outcome.ticket, target);
      } catch (error) {
        return onQualysError(error);
      }
      deps.durations?.record(now().getTime() - startedAt.getTime());
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
        owner: msg.owner,
        durationMs: now().getTime() - startedAt.getTime(),
      });
      return { kind: 'stored', scanId: msg.scanId, status: result.status, blobPath: stored.blobPath };
    };

    try {
      return await run();
    } catch (error) {
      // Not a Qualys answer (those are handled above): storage, or a bug. The queue redelivers the
      // message; its last delivery records FAILED first, so the poison queue never holds an unrecorded scan.
      deps.telemetry.exception(error, COMPONENTS.pollScan, { ScanId: msg.scanId, DequeueCount: dequeueCount });
      if (dequeueCount >= deps.maxDequeueCount) {
        const info2 = classifyQualysError(error);
        const reason = `gave up after ${dequeueCount} deliveries (${info2.code}): ${info2.message}`;
        log.error('scan failed; recording before the message goes to the poison queue', { reason });
        try {
          await fail('FAILED', info2.code, reason, true);
        } catch (storeError) {
          log.error('could not record the failure', { error: storeError });
        }
      } else {
        log.warn('scan poll failed; the queue will retry', { error });
      }
      throw error;
    }
  };
}
