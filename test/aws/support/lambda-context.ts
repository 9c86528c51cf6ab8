import type { Context } from 'aws-lambda';
import { lambdaContext } from '../../../local/lambda-invocation';

export { lambdaContext };

/** A context whose invokedFunctionArn places the handler in `account` (what the scanner takes as its own). */
export function lambdaContextIn(account: string, remainingMs: number, functionName = 'shipscan-scanner', region = 'us-east-1'): Context {
  return { ...lambdaContext(remainingMs, functionName), invokedFunctionArn: `arn:aws:lambda:${region}:${account}:function:${functionName}` };
}
