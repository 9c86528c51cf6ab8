import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { failureReason } from '../telemetry';
import { count, SECURITY_METRICS } from './metrics';
import { SecurityEventPipeline, type SecurityEventOutcome, type SecurityEventPipelineDeps } from './pipeline';

/**
 * The security-events Lambda's SQS handler (event source with ReportBatchItemFailures). Each record is one
 * EventBridge event (or, replayed, a raw record or trail file):
 * - processed (findings recorded, or nothing to record): succeeds;
 * - unprocessable (does not parse, or no detector handles it): recorded in the results bucket, counted,
 *   logged, and succeeds, since no retry can change it;
 * - a detector that throws: counted in DetectorErrors and logged, the other detectors' findings recorded,
 *   and the record succeeds (retrying would hit the same bug);
 * - anything thrown (DynamoDB, a notification channel, the notify secret, S3): the record is reported
 *   failed, SQS delivers it again, and after the queue's maxReceiveCount it waits in the DLQ. The recorder's
 *   conditional writes and notification outbox make the redelivery record and send only what is missing.
 */

export interface SecurityEventsHandlerDeps extends SecurityEventPipelineDeps {
  tracer?: Tracer;
  /** Called with every record's outcome (offline runner, tests). */
  onOutcome?: (record: SQSRecord, outcome: SecurityEventOutcome) => void;
}

export type SecurityEventsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

export function createSecurityEventsHandler(deps: SecurityEventsHandlerDeps): SecurityEventsHandler {
  const pipeline = new SecurityEventPipeline(deps);
  const { logger, metrics, tracer } = deps;

  return async (event, context) => {
    logger.addContext(context);
    metrics.captureColdStartMetric();
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
      logger.appendKeys({ messageId: record.messageId, correlation_id: record.messageId });
      const parent = tracer?.getSegment();
      const subsegment = parent?.addNewSubsegment('### security event');
      if (tracer && subsegment) tracer.setSegment(subsegment);
      try {
        const outcome = await pipeline.process(record.body, { messageId: record.messageId, receiveCount });
        deps.onOutcome?.(record, outcome);
      } catch (error) {
        count(metrics, SECURITY_METRICS.recordFailures, 1);
        // The error names the call and the resource; channels and the secret reader keep secrets out of it.
        logger.error('security event failed; SQS delivers it again (then the DLQ keeps it)', { error: error as Error, reason: failureReason(error), receiveCount });
        subsegment?.addError(error as Error);
        throw error;
      } finally {
        subsegment?.close();
        if (tracer && parent) tracer.setSegment(parent);
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
