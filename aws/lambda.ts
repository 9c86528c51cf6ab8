import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { BUNDLE_HANDLER, functionCode, type AwsBundleName } from './bundles';
import { functionRoleLogicalName, LAMBDA_ARCHITECTURE, LAMBDA_RUNTIME, type AwsContext } from './context';
import { logsStatement, tracingStatement, metricsStatement, keyUseStatement } from './iam';
import { policyDocument, policyJson, serviceTrust, type PolicyStatement } from './policy';

export interface ShipscanFunctionArgs {
  bundle: AwsBundleName;
  /** `file.export` in the bundle (default index.handler; the inventory bundle holds three functions). */
  handler?: string;
  /** Physical function name (and its role's): fixed, so the event pattern can exclude it before it exists. */
  functionName: string;
  key: aws.kms.Key;
  logRetentionDays: number;
  memoryMb: number;
  timeoutSec: number;
  ephemeralMb?: number;
  layers?: pulumi.Input<string>[];
  environment: Record<string, pulumi.Input<string>>;
  /** Permissions beyond logs, traces, metrics and the stack key. */
  statements: (PolicyStatement | undefined)[];
}

export interface ShipscanFunction {
  fn: aws.lambda.Function;
  role: aws.iam.Role;
  logGroup: aws.cloudwatch.LogGroup;
}

/**
 * A Lambda function with its own role (inline least-privilege policy), a KMS-encrypted log group
 * with retention created before the function (so Lambda never creates one without them), X-Ray
 * active tracing, JSON logs, and environment variables encrypted with the stack key.
 */
export function shipscanFunction(name: string, ctx: AwsContext, args: ShipscanFunctionArgs, parent: pulumi.Resource): ShipscanFunction {
  const opts = { parent };
  const logGroup = new aws.cloudwatch.LogGroup(
    `${name}-logs`,
    { name: `/aws/lambda/${args.functionName}`, retentionInDays: args.logRetentionDays, kmsKeyId: args.key.arn, tags: ctx.tags },
    opts,
  );
  // Named like the function (fixed, not auto-named): a spoke trusts exactly the hub's scanner and
  // bulk roles by ARN, which the hub stack outputs (aws.spokeHub.roleArns).
  const role = new aws.iam.Role(
    functionRoleLogicalName(name),
    { name: args.functionName, assumeRolePolicy: serviceTrust('lambda.amazonaws.com'), tags: ctx.tags },
    opts,
  );
  const statements = [logsStatement(logGroup.arn), tracingStatement(), metricsStatement(), keyUseStatement(args.key.arn), ...args.statements];
  const rolePolicy = new aws.iam.RolePolicy(`${name}-policy`, { role: role.id, policy: policyJson(policyDocument(statements)) }, opts);
  const fn = new aws.lambda.Function(
    name,
    {
      name: args.functionName,
      role: role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: args.handler ?? BUNDLE_HANDLER,
      code: functionCode(args.bundle),
      memorySize: args.memoryMb,
      timeout: args.timeoutSec,
      ...(args.ephemeralMb ? { ephemeralStorage: { size: args.ephemeralMb } } : {}),
      ...(args.layers && args.layers.length > 0 ? { layers: args.layers } : {}),
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      kmsKeyArn: args.key.arn,
      environment: { variables: { NODE_OPTIONS: '--enable-source-maps', ...args.environment } },
      tags: ctx.tags,
    },
    { parent, dependsOn: [logGroup, rolePolicy] },
  );
  return { fn, role, logGroup };
}
