import type { Context } from 'aws-lambda';

/** A Lambda context whose remaining time counts down from `remainingMs`. */
export function lambdaContext(remainingMs: number): Context {
  const deadline = Date.now() + remainingMs;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: 'shipscan-scanner',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111111111111:function:shipscan-scanner',
    memoryLimitInMB: '2048',
    awsRequestId: `req-${Date.now()}`,
    logGroupName: '/aws/lambda/shipscan-scanner',
    logStreamName: 'stream',
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}
