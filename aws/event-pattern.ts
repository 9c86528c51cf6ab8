/**
 * The EventBridge pattern for Lambda deployments recorded by CloudTrail. AWS has announced the date
 * suffixes of Lambda event names (`CreateFunction20150331`, `UpdateFunctionCode20150331v2`) may go
 * away, so each name matches both without and with a suffix. The suffix is matched by the prefix
 * `<Name>20` rather than `<Name>` alone, because a bare prefix would also catch other APIs
 * (`CreateFunctionUrlConfig20211031`).
 */
export const LAMBDA_DEPLOY_EVENTS = ['CreateFunction', 'UpdateFunctionCode'] as const;
export const LAMBDA_CONFIGURATION_EVENT = 'UpdateFunctionConfiguration';

export interface LambdaEventPatternOptions {
  /** Also react to UpdateFunctionConfiguration (layers change the code that runs). */
  includeConfigurationChanges: boolean;
  /** The stack's own functions, as names and ARNs (CloudTrail records either form). */
  excludeFunctions: readonly string[];
}

export type EventPattern = Record<string, unknown>;

export function lambdaEventPattern(options: LambdaEventPatternOptions): EventPattern {
  const names: string[] = [...LAMBDA_DEPLOY_EVENTS];
  if (options.includeConfigurationChanges) names.push(LAMBDA_CONFIGURATION_EVENT);
  const detail: Record<string, unknown> = {
    eventSource: ['lambda.amazonaws.com'],
    eventName: names.flatMap((name) => [name, { prefix: `${name}20` }]),
    // Failed calls still reach EventBridge, carrying errorCode.
    errorCode: [{ exists: false }],
  };
  if (options.excludeFunctions.length > 0) {
    detail['requestParameters'] = { functionName: [{ 'anything-but': [...options.excludeFunctions] }] };
  }
  return {
    source: ['aws.lambda'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail,
  };
}
