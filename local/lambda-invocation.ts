/**
 * What the Lambda service hands a handler, built locally: an SQS-shaped event and a context whose
 * remaining time counts down. Used by `npm start`, the benchmarks and the tests to drive the real
 * handlers the way an SQS event source mapping does.
 */
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';

let messageCounter = 0;

export const LOCAL_SCAN_QUEUE_ARN = 'arn:aws:sqs:us-east-1:111111111111:shipscan-scan-queue';

/** A Lambda context whose remaining time counts down from `remainingMs`. */
export function lambdaContext(remainingMs: number, functionName = 'shipscan-scanner'): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:111111111111:function:${functionName}`,
    memoryLimitInMB: '2048',
    awsRequestId: `req-${Date.now()}-${++messageCounter}`,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** One SQS record per body, as the event source mapping delivers a batch. */
export function sqsEvent(bodies: readonly unknown[], queueArn = LOCAL_SCAN_QUEUE_ARN, receiveCount = 1): SQSEvent {
  const region = queueArn.split(':')[3] ?? 'us-east-1';
  return {
    Records: bodies.map((body): SQSRecord => {
      const id = `m-${++messageCounter}`;
      return {
        messageId: id,
        receiptHandle: `rh-${id}`,
        body: typeof body === 'string' ? body : JSON.stringify(body),
        attributes: {
          ApproximateReceiveCount: String(receiveCount),
          SentTimestamp: String(Date.now()),
          SenderId: 'local',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: queueArn,
        awsRegion: region,
      };
    }),
  };
}
