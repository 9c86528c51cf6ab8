import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { ChangeMessageVisibilityCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { accountOfFunctionArn } from '../account-access';
import { countScanFailure, failureReason } from '../telemetry';
import { ScanPipeline, type PipelineDeps, type RecordOutcome } from './pipeline';

/**
 * The scanner Lambda's SQS handler (event source with ReportBatchItemFailures). Records are
 * processed one after another: each may run a scanner child that needs the function's memory.
 * - retry-later: the message's visibility is set to the wanted delay and it is reported failed,
 *   so SQS hands it back then (the queue's maxReceiveCount still bounds it);
 * - failed: reported failed, SQS retries and finally moves it to the DLQ;
 * - failed permanently (an account that is neither the own one nor a spoke): succeeds, since no
 *   retry can change it; the pipeline logged it as an error and counted ScanFailure;
 * - unrecognised / skipped: succeed (retrying cannot change them), logged with the reason;
 * - anything thrown (GetFunction, AssumeRole, S3, DynamoDB, SNS errors): reported failed and counted
 *   in ScanFailure by error name. With partial batch responses the invocation itself succeeds, so
 *   the Lambda Errors alarm never sees these; the scan-failures alarm does.
 */

export class RetryLaterError extends Error {
  override readonly name = 'RetryLaterError';
}

export class ScanFailedError extends Error {
  override readonly name = 'ScanFailedError';
}

export interface ScannerHandlerDeps extends PipelineDeps {
  sqs: SQSClient;
  /** Queue URL for visibility changes; derived from the record's eventSourceARN when absent. */
  queueUrl?: string;
  tracer?: Tracer;
  /** Called with every record's outcome (offline runner, tests). */
  onOutcome?: (record: SQSRecord, outcome: RecordOutcome) => void;
}

export type ScannerHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

/** `arn:aws:sqs:<region>:<account>:<name>` -> its queue URL. */
export function queueUrlFromArn(arn: string): string {
  const match = /^arn:(aws[a-z-]*):sqs:([a-z0-9-]+):([0-9]+):(.+)$/.exec(arn);
  if (!match) throw new Error(`cannot derive a queue URL from eventSourceARN ${JSON.stringify(arn)}`);
  const [, partition, region, account, name] = match;
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

function loggable(record: SQSRecord): Record<string, unknown> {
  return { messageId: record.messageId, receiveCount: record.attributes?.ApproximateReceiveCount };
}

export function createScannerHandler(deps: ScannerHandlerDeps): ScannerHandler {
  const pipeline = new ScanPipeline(deps);
  const { logger, metrics, tracer } = deps;

  async function delay(record: SQSRecord, delaySec: number): Promise<void> {
    const queueUrl = deps.queueUrl ?? queueUrlFromArn(record.eventSourceARN);
    // SQS caps visibility at 12 hours.
    const visibility = Math.max(0, Math.min(Math.round(delaySec), 43_200));
    try {
      await deps.sqs.send(new ChangeMessageVisibilityCommand({ QueueUrl: queueUrl, ReceiptHandle: record.receiptHandle, VisibilityTimeout: visibility }));
    } catch (error) {
      // The message still comes back after the queue's own visibility timeout.
      logger.warn('could not change message visibility', { error: error as Error, ...loggable(record) });
    }
  }

  return async (event, context) => {
    logger.addContext(context);
    // The scanner's own account is where it runs: functions there are read with its own role.
    deps.accounts.credentials.setOwnAccount(accountOfFunctionArn(context.invokedFunctionArn));
    metrics.captureColdStartMetric();
    const processor = new BatchProcessor(EventType.SQS);
    const recordHandler = async (record: SQSRecord): Promise<void> => {
      logger.appendKeys({ messageId: record.messageId, correlation_id: record.messageId });
      // One X-Ray subsegment per record, active while it runs so the SDK calls nest under it.
      const parent = tracer?.getSegment();
      const subsegment = parent?.addNewSubsegment('### scan record');
      if (tracer && subsegment) tracer.setSegment(subsegment);
      try {
        const receiveCount = Number(record.attributes?.ApproximateReceiveCount ?? 1) || 1;
        const outcome = await pipeline.process(record.body, { remainingMs: () => context.getRemainingTimeInMillis(), receiveCount });
        deps.onOutcome?.(record, outcome);
        if (outcome.kind === 'retry-later') {
          await delay(record, outcome.delaySec);
          throw new RetryLaterError(outcome.reason);
        }
        if (outcome.kind === 'failed' && !outcome.permanent) throw new ScanFailedError(`${outcome.code}: ${outcome.reason}`);
      } catch (error) {
        // Retry-later is no failure, and ScanFailedError was counted by the pipeline already.
        if (!(error instanceof RetryLaterError) && !(error instanceof ScanFailedError)) {
          countScanFailure(metrics, failureReason(error));
          logger.error('record failed', { error: error as Error, ...loggable(record) });
        }
        subsegment?.addError(error as Error);
        throw error;
      } finally {
        subsegment?.close();
        if (tracer && parent) tracer.setSegment(parent);
        logger.resetKeys();
      }
    };
    try {
      return await processPartialResponse(event, recordHandler, processor, {
        context,
        processInParallel: false,
        throwOnFullBatchFailure: false,
      });
    } finally {
      // Skipped-only batches have no metrics; publishing nothing would log a warning per invocation.
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    }
  };
}
