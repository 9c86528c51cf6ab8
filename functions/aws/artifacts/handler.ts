import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { accountOfFunctionArn } from '../account-access';
import { queueUrlFromArn, RetryLaterError, ScanFailedError } from '../scanner/handler';
import { countScanFailure, failureReason } from '../telemetry';
import { parseObjectMessage } from './object-event';
import { ObjectPipeline, type ObjectOutcome, type ObjectPipelineDeps } from './object-pipeline';

/**
 * The object scanner's SQS handler (ReportBatchItemFailures), one record after another (each may spool a large
 * object to ephemeral storage and run a scanner child). A message holds one event, or the records of a trail file;
 * each announced object gets an outcome:
 * - scanned, cache hit, skipped (recorded with the reason), ignored (the stack's own bucket), unrecognised: done;
 * - failed permanently (access denied, an account with no reader role): recorded as FAILED, counted, not retried,
 *   so a misconfigured account cannot turn into a retry storm;
 * - retry-later (the same bytes scanned right now elsewhere, a report not ready): visibility set to the delay and
 *   the record handed back; a failed scan, or anything thrown (throttling, a network error): handed back, retried by
 *   SQS and finally kept by the DLQ.
 */

export interface ObjectHandlerDeps extends ObjectPipelineDeps {
  sqs: SQSClient;
  queueUrl?: string;
  tracer?: Tracer;
  onOutcome?: (record: SQSRecord, outcomes: ObjectOutcome[]) => void;
}

export type ObjectHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createObjectHandler(deps: ObjectHandlerDeps): ObjectHandler {
  const pipeline = new ObjectPipeline(deps);
  const { logger, metrics } = deps;

  async function delay(record: SQSRecord, delaySec: number): Promise<void> {
    const queueUrl = deps.queueUrl ?? queueUrlFromArn(record.eventSourceARN);
    try {
      await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: Math.max(0, Math.min(Math.round(delaySec), 43_200)) }));
    } catch (error) {
      logger.warn('could not change message visibility', { errorName: failureReason(error), messageId: record.messageId });
    }
  }

  return async (event, context) => {
    logger.addContext(context);
    deps.access.setOwnAccount(accountOfFunctionArn(context.invokedFunctionArn));
    metrics.captureColdStartMetric();
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      logger.appendKeys({ messageId: record.messageId, correlation_id: record.messageId });
      try {
        const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
        const outcomes: ObjectOutcome[] = [];
        for (const parsed of parseObjectMessage(record.body)) {
          if (parsed.kind === 'unrecognised') {
            logger.warn('message not recognised; dropped without retry', { reason: parsed.reason });
            metrics.addMetric('EventUnrecognised', MetricUnit.Count, 1);
            outcomes.push(parsed);
            continue;
          }
          if (parsed.kind === 'skip') {
            logger.info('event announces no object to scan', { reason: parsed.reason });
            outcomes.push({ kind: 'ignored', reason: parsed.reason });
            continue;
          }
          logger.appendKeys({ bucket: parsed.request.bucket, objectAccount: parsed.request.account, ...(parsed.request.eventId ? { eventId: parsed.request.eventId } : {}) });
          outcomes.push(await pipeline.process(parsed.request, { remainingMs: () => context.getRemainingTimeInMillis(), receiveCount }));
        }
        deps.onOutcome?.(record, outcomes);
        const later = outcomes.filter((o): o is Extract<ObjectOutcome, { kind: 'retry-later' }> => o.kind === 'retry-later');
        if (later.length > 0) {
          await delay(record, Math.max(...later.map((o) => o.delaySec)));
          throw new RetryLaterError(later.map((o) => o.reason).join('; '));
        }
        const failed = outcomes.find((o) => o.kind === 'failed' && !o.permanent);
        if (failed && failed.kind === 'failed') throw new ScanFailedError(`${failed.code}: ${failed.reason}`);
      } catch (error) {
        if (!(error instanceof RetryLaterError) && !(error instanceof ScanFailedError)) {
          countScanFailure(metrics, failureReason(error));
          logger.error('record failed', { errorName: failureReason(error), error: error as Error, messageId: record.messageId });
        }
        throw error;
      } finally {
        logger.resetKeys();
      }
    };
    try {
      return await processPartialResponse(event, recordHandler, processor, { context, processInParallel: false, throwOnFullBatchFailure: false });
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
