import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';

/** Account, region and partition of the deploying credentials, plus the stack's name prefix. */
export interface AwsContext {
  accountId: pulumi.Output<string>;
  region: pulumi.Output<string>;
  partition: pulumi.Output<string>;
  /** `shipscan-<stack>`, short enough for every AWS name limit used here (64 characters). */
  prefix: string;
  tags: Record<string, string>;
}

export const METRICS_NAMESPACE = 'Shipscan';
export const LAMBDA_RUNTIME = 'nodejs22.x';
export const LAMBDA_ARCHITECTURE = 'x86_64';

/** Logical name of the AwsScanner component (aws/index.ts). */
export const AWS_SCANNER_NAME = 'shipscan';

/** Logical name of a function's role (see shipscanFunction in aws/lambda.ts). */
export function functionRoleLogicalName(functionLogicalName: string): string {
  return `${functionLogicalName}-role`;
}

export function namePrefix(project = pulumi.getProject(), stack = pulumi.getStack()): string {
  const prefix = `${project}-${stack}`.toLowerCase().replace(/[^a-z0-9-]/g, '-');
  return prefix.slice(0, 40).replace(/-+$/, '');
}

export function awsContext(parent: pulumi.Resource): AwsContext {
  const opts = { parent };
  return {
    accountId: aws.getCallerIdentityOutput({}, opts).accountId,
    region: aws.getRegionOutput({}, opts).region,
    partition: aws.getPartitionOutput({}, opts).partition,
    prefix: namePrefix(),
    tags: { Project: pulumi.getProject(), Stack: pulumi.getStack(), ManagedBy: 'pulumi' },
  };
}

/** `arn:<partition>:<service>:<region>:<account>:<resource>` from context outputs. */
export function arn(ctx: AwsContext, service: string, resource: string, options: { region?: string; account?: string } = {}): pulumi.Output<string> {
  return pulumi.interpolate`arn:${ctx.partition}:${service}:${options.region ?? ctx.region}:${options.account ?? ctx.accountId}:${resource}`;
}
