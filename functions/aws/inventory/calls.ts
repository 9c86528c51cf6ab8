import { DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTagsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetAccessKeyLastUsedCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
} from '@aws-sdk/client-iam';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { GetFunctionConfigurationCommand, GetPolicyCommand, ListFunctionsCommand, ListFunctionUrlConfigsCommand, ListTagsCommand } from '@aws-sdk/client-lambda';
import { DescribeDBInstancesCommand } from '@aws-sdk/client-rds';
import {
  GetBucketEncryptionCommand,
  GetBucketLocationCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand } from '@aws-sdk/client-s3-control';
import { OPERATIONS, type InventoryOperation, type OperationName } from '../../../shared/inventory/operations';

/**
 * Every collector call goes through here: it must be one of the declared operations
 * (shared/inventory/operations.ts, what the IAM policies are made from), it is counted (metrics, the
 * bench), and the API's "there is none" answers become data instead of errors.
 */

export class UndeclaredOperationError extends Error {
  override readonly name = 'UndeclaredOperationError';
}

export interface CallCounter {
  /** Calls per operation name (`s3:GetBucketPolicy`...), pages of a paginator counted one each. */
  readonly counts: Map<string, number>;
  count(operation: InventoryOperation): void;
  total(): number;
}

export function callCounter(): CallCounter {
  const counts = new Map<string, number>();
  return {
    counts,
    count(operation) {
      counts.set(operation.action, (counts.get(operation.action) ?? 0) + 1);
    },
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
  };
}

/**
 * The SDK command class of each declared operation. Checked with instanceof, which survives minification
 * (class names do not).
 */
export const COMMANDS: Record<OperationName, abstract new (...args: never[]) => object> = {
  ListBuckets: ListBucketsCommand,
  GetBucketLocation: GetBucketLocationCommand,
  GetBucketPublicAccessBlock: GetPublicAccessBlockCommand,
  GetBucketPolicy: GetBucketPolicyCommand,
  GetBucketEncryption: GetBucketEncryptionCommand,
  GetBucketVersioning: GetBucketVersioningCommand,
  GetBucketLogging: GetBucketLoggingCommand,
  GetBucketTagging: GetBucketTaggingCommand,
  GetAccountPublicAccessBlock: GetAccountPublicAccessBlockCommand,
  DescribeSecurityGroups: DescribeSecurityGroupsCommand,
  DescribeInstances: DescribeInstancesCommand,
  ListUsers: ListUsersCommand,
  GetUser: GetUserCommand,
  GetLoginProfile: GetLoginProfileCommand,
  ListMFADevices: ListMFADevicesCommand,
  ListAccessKeys: ListAccessKeysCommand,
  GetAccessKeyLastUsed: GetAccessKeyLastUsedCommand,
  ListUserTags: ListUserTagsCommand,
  GetAccountPasswordPolicy: GetAccountPasswordPolicyCommand,
  GetAccountSummary: GetAccountSummaryCommand,
  ListFunctions: ListFunctionsCommand,
  GetFunctionConfiguration: GetFunctionConfigurationCommand,
  GetPolicy: GetPolicyCommand,
  ListFunctionUrlConfigs: ListFunctionUrlConfigsCommand,
  ListTags: ListTagsCommand,
  DescribeDBInstances: DescribeDBInstancesCommand,
  DescribeLoadBalancers: DescribeLoadBalancersCommand,
  DescribeListeners: DescribeListenersCommand,
  DescribeTags: DescribeTagsCommand,
  DescribeTrails: DescribeTrailsCommand,
  GetTrailStatus: GetTrailStatusCommand,
  GetEventSelectors: GetEventSelectorsCommand,
  ListKeys: ListKeysCommand,
  DescribeKey: DescribeKeyCommand,
  GetKeyRotationStatus: GetKeyRotationStatusCommand,
  ListResourceTags: ListResourceTagsCommand,
};

interface Sendable<Out> {
  send(command: object): Promise<Out>;
}

/** Sends `command` as the declared operation `name`; a command of another API is a programming error. */
export async function call<Out>(counter: CallCounter, name: OperationName, client: object, command: object): Promise<Out> {
  const operation = OPERATIONS[name];
  if (!(command instanceof COMMANDS[name])) throw new UndeclaredOperationError(`a command that is not ${operation.api} was sent as ${name}; declare each call in shared/inventory/operations.ts`);
  counter.count(operation);
  // Every SDK client has send(command); the caller names the output type of the command it built.
  return (client as unknown as Sendable<Out>).send(command);
}

/** Counts each page of a paginator as one call of the declared operation. */
export async function* pages<Page>(counter: CallCounter, name: OperationName, paginator: AsyncIterable<Page>): AsyncGenerator<Page> {
  const operation = OPERATIONS[name];
  for await (const page of paginator) {
    counter.count(operation);
    yield page;
  }
}

/** The error's SDK name (`NoSuchEntityException`, `AccessDenied`...). */
export function errorName(error: unknown): string {
  const e = error as { name?: unknown; Code?: unknown; code?: unknown } | undefined;
  if (typeof e?.name === 'string' && e.name !== 'Error') return e.name;
  if (typeof e?.Code === 'string') return e.Code;
  return typeof e?.code === 'string' ? e.code : 'Error';
}

/** Access denied on one resource's detail (a bucket policy that denies even auditors): recorded, not fatal. */
export function isAccessDenied(error: unknown): boolean {
  return /^(AccessDenied|AccessDeniedException|UnauthorizedOperation|AuthorizationError|AllAccessDisabled)$/.test(errorName(error));
}

/**
 * `fn()`'s answer, or `absent` when the API answers with one of `notFound` (NoSuchBucketPolicy,
 * NoSuchEntity...): the resource has no such configuration.
 */
export async function orAbsent<T, A>(fn: () => Promise<T>, notFound: readonly string[], absent: A): Promise<T | A> {
  try {
    return await fn();
  } catch (error) {
    if (notFound.includes(errorName(error))) return absent;
    throw error;
  }
}

/** Runs `fn` over `items` with at most `limit` at once, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index]!, index);
    }
  });
  await Promise.all(workers);
  return results;
}

/** ISO text of an SDK date (Date, or the string some deserialisers leave). */
export function iso(value: Date | string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const date = value instanceof Date ? value : new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
