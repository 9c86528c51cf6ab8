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

/**
 * Logical name of the AwsScanner component (aws/index.ts). The scanner's and bulk function's roles
 * are auto-named from it (`shipscan-scanner-role-<7 hex>`), which is what spoke trust policies
 * match, since a spoke does not know the hub's stack name: keep the two in step through this.
 */
export const AWS_SCANNER_NAME = 'shipscan';
/** The hub functions that assume spoke roles, by the suffix of their logical name. */
export const HUB_FUNCTIONS = ['scanner', 'bulk'] as const;

/** Logical name of a function's role (see shipscanFunction in aws/lambda.ts). */
export function functionRoleLogicalName(functionLogicalName: string): string {
  return `${functionLogicalName}-role`;
}

/**
 * `arn:<partition>:iam::<hub>:role/<auto-name>*` for each hub role that assumes spoke roles. Pulumi's
 * default auto-naming appends `-<random hex>` to the logical name, hence the trailing wildcard.
 */
export function hubRoleArnPatterns(partition: pulumi.Input<string>, hubAccountId: string): pulumi.Output<string>[] {
  return HUB_FUNCTIONS.map(
    (fn) => pulumi.interpolate`arn:${partition}:iam::${hubAccountId}:role/${functionRoleLogicalName(`${AWS_SCANNER_NAME}-${fn}`)}-*`,
  );
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
