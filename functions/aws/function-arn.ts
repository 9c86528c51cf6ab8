/**
 * Lambda function identifiers as they appear in CloudTrail records and bulk targets: a plain name,
 * a partial ARN (`123456789012:function:name`), a full ARN, each optionally qualified by a version
 * or alias. Scans always address the unqualified function.
 */

export type Partition = 'aws' | 'aws-cn' | 'aws-us-gov';

export interface FunctionId {
  partition: Partition;
  account: string;
  region: string;
  name: string;
  /** `arn:<partition>:lambda:<region>:<account>:function:<name>`, never qualified. */
  arn: string;
}

export class FunctionIdError extends Error {
  override readonly name = 'FunctionIdError';
  constructor(readonly input: unknown, reason: string) {
    super(`invalid Lambda function identifier ${JSON.stringify(input)}: ${reason}`);
  }
}

const NAME = '[A-Za-z0-9_-]{1,140}';
const QUALIFIER = '(?::(?:\\$LATEST|[A-Za-z0-9_-]{1,128}))?';
// Account ids are exactly 12 digits. Anonymised samples with other lengths are rejected here, with
// the reason, because no AWS API (nor qscanner) would accept them: retrying could never succeed.
const FULL_ARN = new RegExp(`^arn:(aws|aws-cn|aws-us-gov):lambda:([a-z0-9-]+):([0-9]{12}):function:(${NAME})${QUALIFIER}$`);
const PARTIAL_ARN = new RegExp(`^([0-9]{12}):function:(${NAME})${QUALIFIER}$`);
const PLAIN_NAME = new RegExp(`^(${NAME})${QUALIFIER}$`);
const REGION = /^[a-z]{2,}(?:-[a-z0-9]+)+-[0-9]+[a-z]?$/;

/** The partition a region belongs to (the ones Lambda runs in). */
export function partitionOfRegion(region: string): Partition {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

export function functionArn(partition: Partition, region: string, account: string, name: string): string {
  return `arn:${partition}:lambda:${region}:${account}:function:${name}`;
}

/** Parses a full ARN (qualified or not). */
export function parseFunctionArn(input: string): FunctionId {
  const match = FULL_ARN.exec(input.trim());
  if (!match) throw new FunctionIdError(input, 'expected arn:<aws|aws-cn|aws-us-gov>:lambda:<region>:<12-digit account>:function:<name>[:<qualifier>]');
  const [, partition, region, account, name] = match as unknown as [string, Partition, string, string, string];
  return { partition, region, account, name, arn: functionArn(partition, region, account, name) };
}

/**
 * Resolves any accepted form against the account and region the call was made in (a plain name or
 * partial ARN carries neither). A full ARN's own account and region win.
 */
export function resolveFunctionId(input: string, context: { account?: string; region?: string }): FunctionId {
  const text = input.trim();
  if (text.startsWith('arn:')) return parseFunctionArn(text);
  const partial = PARTIAL_ARN.exec(text);
  const plain = partial ? undefined : PLAIN_NAME.exec(text);
  if (!partial && !plain) {
    throw new FunctionIdError(input, 'expected a function name, a partial ARN (<account>:function:<name>) or a full ARN');
  }
  const account = partial ? partial[1] : context.account;
  const name = partial ? partial[2] : plain![1];
  const region = context.region;
  if (!account) throw new FunctionIdError(input, 'no account id to resolve the name against');
  if (!/^[0-9]{12}$/.test(account)) throw new FunctionIdError(input, `account id ${JSON.stringify(account)} is not 12 digits`);
  if (!region || !REGION.test(region)) throw new FunctionIdError(input, `no valid region to resolve the name against (got ${JSON.stringify(region)})`);
  const partition = partitionOfRegion(region);
  return { partition, region, account, name: name!, arn: functionArn(partition, region, account, name!) };
}
