import type { EventPattern, Json } from '../shared/event-pattern/match';

export type { EventPattern } from '../shared/event-pattern/match';

/**
 * The EventBridge pattern for Lambda deployments recorded by CloudTrail. AWS has announced the date
 * suffixes of Lambda event names (`CreateFunction20150331`, `UpdateFunctionCode20150331v2`) may go
 * away, so each name matches both without and with a suffix. The suffix is matched by the prefix
 * `<Name>20` rather than `<Name>` alone, because a bare prefix would also catch other APIs
 * (`CreateFunctionUrlConfig20211031`).
 */
export const LAMBDA_DEPLOY_EVENTS = ['CreateFunction', 'UpdateFunctionCode'] as const;
export const LAMBDA_CONFIGURATION_EVENT = 'UpdateFunctionConfiguration';

/**
 * The stack's own functions, which must not trigger scans of themselves.
 *
 * The request names a function however the caller chose to (name, ARN, partial ARN, with or without
 * a qualifier), so exact strings cannot cover every form. The response of a successful call names it
 * canonically (`responseElements.functionArn`, possibly with a version suffix), so the own functions
 * are excluded by the ARN prefix they share there. EventBridge allows one `anything-but` per field
 * (several matchers on one field are OR-ed), so the exact request forms are kept only as the fallback
 * for a record that carries no response.
 */
export interface OwnFunctions {
  /** `arn:<partition>:lambda:<region>:<account>:function:<stack prefix>-`: every own function's ARN starts so. */
  arnPrefix: string;
  /** Each own function as name, ARN and partial ARN, for records without responseElements. */
  requestForms: readonly string[];
}

export interface LambdaEventPatternOptions {
  /** Also react to UpdateFunctionConfiguration (layers change the code that runs). */
  includeConfigurationChanges: boolean;
  /** Omitted where nothing is excluded (a spoke forwards every deployment to the hub). */
  ownFunctions?: OwnFunctions;
}


/** The request forms CloudTrail may record for a function of this account and region. */
export function functionRequestForms(partition: string, region: string, account: string, names: readonly string[]): string[] {
  return names.flatMap((fn) => [fn, `arn:${partition}:lambda:${region}:${account}:function:${fn}`, `${account}:function:${fn}`]);
}

export function lambdaEventPattern(options: LambdaEventPatternOptions): EventPattern {
  const names: string[] = [...LAMBDA_DEPLOY_EVENTS];
  if (options.includeConfigurationChanges) names.push(LAMBDA_CONFIGURATION_EVENT);
  const detail: Record<string, Json> = {
    eventSource: ['lambda.amazonaws.com'],
    eventName: names.flatMap((name) => [name, { prefix: `${name}20` }]),
    // Failed calls still reach EventBridge, carrying errorCode.
    errorCode: [{ exists: false }],
  };
  const own = options.ownFunctions;
  if (own) {
    detail['$or'] = [
      { responseElements: { functionArn: [{ 'anything-but': { prefix: own.arnPrefix } }] } },
      {
        responseElements: { functionArn: [{ exists: false }] },
        requestParameters: { functionName: [{ 'anything-but': [...own.requestForms] }] },
      },
    ];
  }
  return {
    source: ['aws.lambda'],
    'detail-type': ['AWS API Call via CloudTrail'],
    detail,
  };
}
