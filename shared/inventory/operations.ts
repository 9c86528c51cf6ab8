import type { InventoryService } from '../rules/aws/posture/types';

/**
 * Every AWS API call the inventory collectors make, with the IAM action that authorises it and the resource
 * it can be scoped to: the ONE list the collectors call through (functions/aws/inventory/calls.ts refuses a
 * call that is not declared here) and the read-only policies are rendered from (aws/inventory.ts: the hub's
 * own collector role and the spoke's inventory role). A test drives every collector against mocked APIs and
 * checks that the calls made are exactly these.
 *
 * Why a narrow policy and not AWS's managed SecurityAudit: SecurityAudit grants several hundred read
 * actions over every service (including data-adjacent reads such as secret and parameter metadata, and
 * Lambda GetFunction, which hands out a download URL for the function's code); the collectors need 35.
 */

/**
 * What an action can be limited to. `any`: the API has no resource-level permission (List/Describe calls,
 * account-wide settings), so the policy must say `Resource: "*"`.
 */
export type OperationResource = 'any' | 'bucket' | 'user' | 'function' | 'db' | 'trail' | 'key';

export interface InventoryOperation {
  /** The SDK client the call goes through (functions/aws/inventory/clients.ts). */
  client: 's3' | 's3control' | 'ec2' | 'iam' | 'lambda' | 'rds' | 'elbv2' | 'cloudtrail' | 'kms';
  /** The API operation, as the SDK names its command (`<api>Command`). */
  api: string;
  /** The IAM action. */
  action: string;
  resource: OperationResource;
  /** The collector that makes the call. */
  service: InventoryService;
}

function op(service: InventoryService, client: InventoryOperation['client'], api: string, action: string, resource: OperationResource): InventoryOperation {
  return { service, client, api, action, resource };
}

export const OPERATIONS = {
  // S3: buckets are listed once per account; per-bucket reads go to the bucket's region.
  ListBuckets: op('s3', 's3', 'ListBuckets', 's3:ListAllMyBuckets', 'any'),
  GetBucketLocation: op('s3', 's3', 'GetBucketLocation', 's3:GetBucketLocation', 'bucket'),
  GetBucketPublicAccessBlock: op('s3', 's3', 'GetPublicAccessBlock', 's3:GetBucketPublicAccessBlock', 'bucket'),
  GetBucketPolicy: op('s3', 's3', 'GetBucketPolicy', 's3:GetBucketPolicy', 'bucket'),
  GetBucketEncryption: op('s3', 's3', 'GetBucketEncryption', 's3:GetEncryptionConfiguration', 'bucket'),
  GetBucketVersioning: op('s3', 's3', 'GetBucketVersioning', 's3:GetBucketVersioning', 'bucket'),
  GetBucketLogging: op('s3', 's3', 'GetBucketLogging', 's3:GetBucketLogging', 'bucket'),
  GetBucketTagging: op('s3', 's3', 'GetBucketTagging', 's3:GetBucketTagging', 'bucket'),
  GetAccountPublicAccessBlock: op('s3', 's3control', 'GetPublicAccessBlock', 's3:GetAccountPublicAccessBlock', 'any'),
  // EC2
  DescribeSecurityGroups: op('ec2', 'ec2', 'DescribeSecurityGroups', 'ec2:DescribeSecurityGroups', 'any'),
  DescribeInstances: op('ec2', 'ec2', 'DescribeInstances', 'ec2:DescribeInstances', 'any'),
  // IAM (global)
  ListUsers: op('iam', 'iam', 'ListUsers', 'iam:ListUsers', 'any'),
  GetUser: op('iam', 'iam', 'GetUser', 'iam:GetUser', 'user'),
  GetLoginProfile: op('iam', 'iam', 'GetLoginProfile', 'iam:GetLoginProfile', 'user'),
  ListMFADevices: op('iam', 'iam', 'ListMFADevices', 'iam:ListMFADevices', 'user'),
  ListAccessKeys: op('iam', 'iam', 'ListAccessKeys', 'iam:ListAccessKeys', 'user'),
  GetAccessKeyLastUsed: op('iam', 'iam', 'GetAccessKeyLastUsed', 'iam:GetAccessKeyLastUsed', 'user'),
  ListUserTags: op('iam', 'iam', 'ListUserTags', 'iam:ListUserTags', 'user'),
  GetAccountPasswordPolicy: op('iam', 'iam', 'GetAccountPasswordPolicy', 'iam:GetAccountPasswordPolicy', 'any'),
  GetAccountSummary: op('iam', 'iam', 'GetAccountSummary', 'iam:GetAccountSummary', 'any'),
  // Lambda: ListFunctions has the configuration; no GetFunction (it also hands out a code download URL).
  ListFunctions: op('lambda', 'lambda', 'ListFunctions', 'lambda:ListFunctions', 'any'),
  GetFunctionConfiguration: op('lambda', 'lambda', 'GetFunctionConfiguration', 'lambda:GetFunctionConfiguration', 'function'),
  GetPolicy: op('lambda', 'lambda', 'GetPolicy', 'lambda:GetPolicy', 'function'),
  ListFunctionUrlConfigs: op('lambda', 'lambda', 'ListFunctionUrlConfigs', 'lambda:ListFunctionUrlConfigs', 'function'),
  ListTags: op('lambda', 'lambda', 'ListTags', 'lambda:ListTags', 'function'),
  // RDS
  DescribeDBInstances: op('rds', 'rds', 'DescribeDBInstances', 'rds:DescribeDBInstances', 'db'),
  // ELBv2: Describe* calls take no resource-level permission.
  DescribeLoadBalancers: op('elbv2', 'elbv2', 'DescribeLoadBalancers', 'elasticloadbalancing:DescribeLoadBalancers', 'any'),
  DescribeListeners: op('elbv2', 'elbv2', 'DescribeListeners', 'elasticloadbalancing:DescribeListeners', 'any'),
  DescribeTags: op('elbv2', 'elbv2', 'DescribeTags', 'elasticloadbalancing:DescribeTags', 'any'),
  // CloudTrail
  DescribeTrails: op('cloudtrail', 'cloudtrail', 'DescribeTrails', 'cloudtrail:DescribeTrails', 'any'),
  GetTrailStatus: op('cloudtrail', 'cloudtrail', 'GetTrailStatus', 'cloudtrail:GetTrailStatus', 'trail'),
  GetEventSelectors: op('cloudtrail', 'cloudtrail', 'GetEventSelectors', 'cloudtrail:GetEventSelectors', 'trail'),
  // KMS
  ListKeys: op('kms', 'kms', 'ListKeys', 'kms:ListKeys', 'any'),
  DescribeKey: op('kms', 'kms', 'DescribeKey', 'kms:DescribeKey', 'key'),
  GetKeyRotationStatus: op('kms', 'kms', 'GetKeyRotationStatus', 'kms:GetKeyRotationStatus', 'key'),
  ListResourceTags: op('kms', 'kms', 'ListResourceTags', 'kms:ListResourceTags', 'key'),
} as const satisfies Record<string, InventoryOperation>;

export type OperationName = keyof typeof OPERATIONS;

export const ALL_OPERATIONS: readonly InventoryOperation[] = Object.values(OPERATIONS);

/** The IAM actions of the given services' collectors (all by default), sorted and unique. */
export function inventoryActions(services?: readonly InventoryService[]): string[] {
  const wanted = services ? new Set(services) : undefined;
  return [...new Set(ALL_OPERATIONS.filter((o) => !wanted || wanted.has(o.service)).map((o) => o.action))].sort();
}

/**
 * The resource ARN patterns an action may be limited to, in an account (`*` for `any`). Organization trails
 * belong to the management account, so trails match any account.
 */
export function operationResourceArn(resource: OperationResource, partition: string, account: string): string {
  switch (resource) {
    case 'any':
      return '*';
    case 'bucket':
      return `arn:${partition}:s3:::*`;
    case 'user':
      return `arn:${partition}:iam::${account}:user/*`;
    case 'function':
      return `arn:${partition}:lambda:*:${account}:function:*`;
    case 'db':
      return `arn:${partition}:rds:*:${account}:db:*`;
    case 'trail':
      return `arn:${partition}:cloudtrail:*:*:trail/*`;
    case 'key':
      return `arn:${partition}:kms:*:${account}:key/*`;
  }
}

/** Read-only statements, grouped by the resource they are limited to (one statement per resource kind). */
export function inventoryPolicyGroups(services?: readonly InventoryService[]): { resource: OperationResource; actions: string[] }[] {
  const wanted = services ? new Set(services) : undefined;
  const groups = new Map<OperationResource, Set<string>>();
  for (const o of ALL_OPERATIONS) {
    if (wanted && !wanted.has(o.service)) continue;
    const set = groups.get(o.resource) ?? new Set<string>();
    set.add(o.action);
    groups.set(o.resource, set);
  }
  return [...groups.entries()].map(([resource, actions]) => ({ resource, actions: [...actions].sort() }));
}
