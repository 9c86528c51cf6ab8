import * as pulumi from '@pulumi/pulumi';
import { arn, METRICS_NAMESPACE, type AwsContext } from './context';
import type { PolicyStatement } from './policy';

/**
 * Least-privilege statements shared by the scanner, bulk and spoke roles. `Resource: "*"` appears
 * only for actions that support no resource-level permission: ecr:GetAuthorizationToken,
 * lambda:ListFunctions, tag:GetResources, xray:PutTrace*, cloudwatch:PutMetricData (conditioned).
 */

/** Only Shipscan* tag keys; `Null` keeps a request without tag keys from passing ForAllValues vacuously. */
export const SHIPSCAN_TAG_CONDITION = {
  'ForAllValues:StringLike': { 'aws:TagKeys': ['Shipscan*'] },
  Null: { 'aws:TagKeys': 'false' },
};

export function logsStatement(logGroupArn: pulumi.Input<string>): PolicyStatement {
  return {
    Sid: 'WriteOwnLogs',
    Effect: 'Allow',
    Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
    Resource: [logGroupArn, pulumi.interpolate`${logGroupArn}:*`],
  };
}

export function tracingStatement(): PolicyStatement {
  return { Sid: 'XRayTraces', Effect: 'Allow', Action: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], Resource: '*' };
}

export function metricsStatement(): PolicyStatement {
  return {
    Sid: 'PutShipscanMetrics',
    Effect: 'Allow',
    Action: 'cloudwatch:PutMetricData',
    Resource: '*',
    Condition: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE } },
  };
}

export function allFunctions(ctx: AwsContext, account?: pulumi.Input<string>): pulumi.Output<string> {
  return arn(ctx, 'lambda', 'function:*', { region: '*', ...(account ? { account: account as string } : {}) });
}

/** What reading and tagging a scanned function takes, in this account (or, for spokes, theirs). */
export function functionAccessStatements(ctx: AwsContext, options: { tagFunctions: boolean; listFunctions: boolean; tagging?: boolean }): PolicyStatement[] {
  const functions = allFunctions(ctx);
  const statements: PolicyStatement[] = [
    // GetFunction returns a function's tags (ShipscanExclude) only to callers that may also ListTags.
    { Sid: 'ReadFunctions', Effect: 'Allow', Action: ['lambda:GetFunction', 'lambda:ListTags'], Resource: functions },
    {
      Sid: 'PullFunctionImages',
      Effect: 'Allow',
      // DescribeImages resolves a tag to its digest when Lambda reports no resolved image URI.
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability', 'ecr:DescribeImages'],
      Resource: arn(ctx, 'ecr', 'repository/*', { region: '*' }),
    },
    { Sid: 'EcrLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
  ];
  if (options.listFunctions) statements.push({ Sid: 'ListFunctions', Effect: 'Allow', Action: 'lambda:ListFunctions', Resource: '*' });
  // The bulk scan finds functions tagged ShipscanExclude in one paginated call instead of one ListTags each.
  if (options.tagging) statements.push({ Sid: 'FindExcludedByTag', Effect: 'Allow', Action: 'tag:GetResources', Resource: '*' });
  if (options.tagFunctions) {
    statements.push({ Sid: 'TagShipscanKeysOnly', Effect: 'Allow', Action: 'lambda:TagResource', Resource: functions, Condition: SHIPSCAN_TAG_CONDITION });
  }
  return statements;
}

export function keyUseStatement(keyArn: pulumi.Input<string>): PolicyStatement {
  return { Sid: 'UseStackKey', Effect: 'Allow', Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Resource: keyArn };
}

export function assumeSpokeRolesStatement(roleArns: readonly pulumi.Input<string>[]): PolicyStatement | undefined {
  if (roleArns.length === 0) return undefined;
  return { Sid: 'AssumeSpokeRoles', Effect: 'Allow', Action: 'sts:AssumeRole', Resource: [...roleArns] };
}
