import type { AwsEventContext, CloudTrailRecord } from '../../types';
import { functionOf } from '../lambda-public';
import { field, isRoot, listedArn, obj, objects, request, response, str, strings, type Json } from '../record';
import type {
  AccountTrailsShape,
  Ec2InstanceShape,
  IamRootShape,
  IamUserShape,
  KmsKeyShape,
  LambdaFunctionShape,
  LoadBalancerShape,
  PasswordPolicyShape,
  RdsInstanceShape,
  S3AccountShape,
  S3BucketShape,
  SecurityGroupShape,
  TagShape,
  TrailShape,
} from './shapes';
import type { AwsPostureTrigger, AwsResourceKind, ChangedResource } from './types';

/**
 * The kinds of resource the inventory keeps and the posture rules read. Ids are ARNs as the services give
 * them, with three deliberate exceptions:
 * - IAM users are named without their path (`user/<name>`): user names are unique in an account and
 *   CloudTrail records name users by name only, so the event path and the inventory meet on one id;
 * - account-wide settings that have no ARN of their own get an ARN-shaped id in their service's namespace
 *   (`arn:aws:s3::<account>:public-access-block`, `arn:aws:iam::<account>:password-policy`,
 *   `arn:aws:cloudtrail::<account>:multi-region-trails`), which no real resource can take.
 * The same builders serve the collectors, so both paths write the same key.
 */

export const RESOURCE_TYPES = {
  bucket: 'AWS::S3::Bucket',
  s3Account: 'AWS::S3::AccountPublicAccessBlock',
  securityGroup: 'AWS::EC2::SecurityGroup',
  instance: 'AWS::EC2::Instance',
  user: 'AWS::IAM::User',
  passwordPolicy: 'AWS::IAM::AccountPasswordPolicy',
  root: 'AWS::IAM::Root',
  function: 'AWS::Lambda::Function',
  dbInstance: 'AWS::RDS::DBInstance',
  loadBalancer: 'AWS::ElasticLoadBalancingV2::LoadBalancer',
  trail: 'AWS::CloudTrail::Trail',
  accountTrails: 'AWS::CloudTrail::AccountTrails',
  key: 'AWS::KMS::Key',
} as const;

export interface Where {
  partition: string;
  account: string;
  region: string;
}

export const ids = {
  bucket: (w: Pick<Where, 'partition'>, name: string) => `arn:${w.partition}:s3:::${name}`,
  s3Account: (w: Omit<Where, 'region'>) => `arn:${w.partition}:s3::${w.account}:public-access-block`,
  securityGroup: (w: Where, groupId: string) => `arn:${w.partition}:ec2:${w.region}:${w.account}:security-group/${groupId}`,
  instance: (w: Where, instanceId: string) => `arn:${w.partition}:ec2:${w.region}:${w.account}:instance/${instanceId}`,
  user: (w: Omit<Where, 'region'>, name: string) => `arn:${w.partition}:iam::${w.account}:user/${name}`,
  passwordPolicy: (w: Omit<Where, 'region'>) => `arn:${w.partition}:iam::${w.account}:password-policy`,
  root: (w: Omit<Where, 'region'>) => `arn:${w.partition}:iam::${w.account}:root`,
  function: (w: Where, name: string) => `arn:${w.partition}:lambda:${w.region}:${w.account}:function:${name}`,
  dbInstance: (w: Where, identifier: string) => `arn:${w.partition}:rds:${w.region}:${w.account}:db:${identifier}`,
  trail: (w: Where, name: string) => `arn:${w.partition}:cloudtrail:${w.region}:${w.account}:trail/${name}`,
  accountTrails: (w: Omit<Where, 'region'>) => `arn:${w.partition}:cloudtrail::${w.account}:multi-region-trails`,
  key: (w: Where, keyId: string) => `arn:${w.partition}:kms:${w.region}:${w.account}:key/${keyId}`,
};

/** `[{Key, Value}]` as one map (the last of a repeated key wins, as the consoles show it). */
export function tagMap(tags: readonly TagShape[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (typeof tag.Key === 'string') out[tag.Key] = typeof tag.Value === 'string' ? tag.Value : '';
  return out;
}

function where(ctx: AwsEventContext): Where {
  return { partition: ctx.partition, account: ctx.account, region: ctx.region };
}

function changed(type: string, arn: string, region: string): ChangedResource {
  return { type, arn, region };
}

function trigger(eventSource: string, eventNames: readonly string[], resourcesFor: AwsPostureTrigger['resourcesFor']): AwsPostureTrigger {
  return { eventSource, eventNames, resourcesFor };
}

/** The ARN of a resource of `service` and `resourcePrefix` in the account, or undefined for anything else. */
function arnOf(value: unknown, service: string, resourcePrefix: string): string | undefined {
  const text = str(value);
  if (!text) return undefined;
  const match = new RegExp(`^arn:[a-z-]+:${service}:[a-z0-9-]*:[0-9]{12}:${resourcePrefix}`).exec(text);
  return match ? text : undefined;
}

// ---------------------------------------------------------------- S3

const S3 = 's3.amazonaws.com';

export const BUCKET: AwsResourceKind<S3BucketShape> = {
  type: RESOURCE_TYPES.bucket,
  service: 's3',
  scope: 'account',
  nameOf: (c) => c.Name,
  tagsOf: (c) => tagMap(c.TagSet),
  triggers: [
    trigger(
      S3,
      [
        'CreateBucket',
        'DeleteBucket',
        'PutBucketPublicAccessBlock',
        'DeleteBucketPublicAccessBlock',
        'PutBucketPolicy',
        'DeleteBucketPolicy',
        'PutBucketEncryption',
        'DeleteBucketEncryption',
        'PutBucketVersioning',
        'PutBucketLogging',
        'PutBucketTagging',
        'DeleteBucketTagging',
      ],
      (record, ctx) => {
        const name = str(request(record).bucketName);
        // Bucket calls are logged in the bucket's region.
        return name && /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) ? [changed(RESOURCE_TYPES.bucket, ids.bucket(ctx, name), ctx.region)] : [];
      },
    ),
  ],
};

export const S3_ACCOUNT: AwsResourceKind<S3AccountShape> = {
  type: RESOURCE_TYPES.s3Account,
  service: 's3',
  scope: 'account',
  nameOf: (c) => `S3 account settings ${c.AccountId}`,
  tagsOf: () => ({}),
  triggers: [trigger(S3, ['PutAccountPublicAccessBlock', 'DeleteAccountPublicAccessBlock'], (_record, ctx) => [changed(RESOURCE_TYPES.s3Account, ids.s3Account(ctx), ctx.region)])],
};

// ---------------------------------------------------------------- EC2

const EC2 = 'ec2.amazonaws.com';

/** EC2's newer APIs log their request wrapped (`ModifySecurityGroupRulesRequest: {...}`); older ones do not. */
function unwrapped(req: Json, wrapper: string): Json {
  return obj(req[wrapper]) ?? req;
}

/** Resource ids of CreateTags / DeleteTags with the given prefix (`sg-`, `i-`). */
function taggedIds(record: CloudTrailRecord, prefix: string): string[] {
  const req = request(record);
  const items = objects(field(req, 'resourcesSet')).map((item) => str(item.resourceId));
  const direct = strings(field(unwrapped(req, 'CreateTagsRequest'), 'ResourceId'));
  return [...items, ...direct].filter((id): id is string => id !== undefined && id.startsWith(prefix));
}

function groupIdsOf(record: CloudTrailRecord): string[] {
  const req = request(record);
  const resp = response(record);
  const out = new Set<string>();
  for (const id of [str(req.groupId), str(resp.groupId), str(unwrapped(req, 'ModifySecurityGroupRulesRequest').GroupId)]) if (id) out.add(id);
  for (const rule of [...objects(resp.securityGroupRuleSet), ...objects(resp.revokedSecurityGroupRuleSet)]) {
    const id = str(rule.groupId);
    if (id) out.add(id);
  }
  return [...out].filter((id) => /^sg-[0-9a-f]{1,32}$/.test(id));
}

export const SECURITY_GROUP: AwsResourceKind<SecurityGroupShape> = {
  type: RESOURCE_TYPES.securityGroup,
  service: 'ec2',
  scope: 'region',
  nameOf: (c) => (c.GroupName ? `${c.GroupName} (${c.GroupId})` : c.GroupId),
  tagsOf: (c) => tagMap(c.Tags),
  triggers: [
    trigger(
      EC2,
      ['CreateSecurityGroup', 'DeleteSecurityGroup', 'AuthorizeSecurityGroupIngress', 'AuthorizeSecurityGroupEgress', 'RevokeSecurityGroupIngress', 'RevokeSecurityGroupEgress', 'ModifySecurityGroupRules'],
      (record, ctx) => groupIdsOf(record).map((id) => changed(RESOURCE_TYPES.securityGroup, ids.securityGroup(where(ctx), id), ctx.region)),
    ),
    trigger(EC2, ['CreateTags', 'DeleteTags'], (record, ctx) => taggedIds(record, 'sg-').map((id) => changed(RESOURCE_TYPES.securityGroup, ids.securityGroup(where(ctx), id), ctx.region))),
  ],
};

function instanceIdsOf(record: CloudTrailRecord): string[] {
  const req = request(record);
  const resp = response(record);
  const out = new Set<string>();
  for (const item of [...objects(resp.instancesSet), ...objects(req.instancesSet)]) {
    const id = str(item.instanceId);
    if (id) out.add(id);
  }
  for (const id of [str(req.instanceId), str(unwrapped(req, 'ModifyInstanceMetadataOptionsRequest').InstanceId), str(resp.instanceId)]) if (id) out.add(id);
  return [...out].filter((id) => /^i-[0-9a-f]{1,32}$/.test(id));
}

export const INSTANCE: AwsResourceKind<Ec2InstanceShape> = {
  type: RESOURCE_TYPES.instance,
  service: 'ec2',
  scope: 'region',
  nameOf: (c) => {
    const name = tagMap(c.Tags).Name;
    return name ? `${name} (${c.InstanceId})` : c.InstanceId;
  },
  tagsOf: (c) => tagMap(c.Tags),
  triggers: [
    trigger(EC2, ['RunInstances', 'TerminateInstances', 'ModifyInstanceMetadataOptions'], (record, ctx) =>
      instanceIdsOf(record).map((id) => changed(RESOURCE_TYPES.instance, ids.instance(where(ctx), id), ctx.region)),
    ),
    trigger(EC2, ['CreateTags', 'DeleteTags'], (record, ctx) => taggedIds(record, 'i-').map((id) => changed(RESOURCE_TYPES.instance, ids.instance(where(ctx), id), ctx.region))),
  ],
};

// ---------------------------------------------------------------- IAM

const IAM = 'iam.amazonaws.com';
const USER_NAME = /^[\w+=,.@-]{1,64}$/;

/** Access keys and MFA devices of `userName`, or of the caller when the call names no user (root for root). */
function credentialOwner(record: CloudTrailRecord, ctx: AwsEventContext): ChangedResource[] {
  const name = str(request(record).userName);
  if (name) return USER_NAME.test(name) ? [changed(RESOURCE_TYPES.user, ids.user(ctx, name), '')] : [];
  if (isRoot(record)) return [changed(RESOURCE_TYPES.root, ids.root(ctx), '')];
  const own = str(record.userIdentity?.userName);
  return record.userIdentity?.type === 'IAMUser' && own && USER_NAME.test(own) ? [changed(RESOURCE_TYPES.user, ids.user(ctx, own), '')] : [];
}

const CREDENTIAL_CALLS = ['CreateAccessKey', 'DeleteAccessKey', 'UpdateAccessKey', 'EnableMFADevice', 'DeactivateMFADevice'];

export const USER: AwsResourceKind<IamUserShape> = {
  type: RESOURCE_TYPES.user,
  service: 'iam',
  scope: 'account',
  nameOf: (c) => c.UserName,
  tagsOf: (c) => tagMap(c.Tags),
  triggers: [
    trigger(IAM, ['CreateUser', 'DeleteUser', 'CreateLoginProfile', 'DeleteLoginProfile', 'TagUser', 'UntagUser'], (record, ctx) => {
      const name = str(request(record).userName);
      return name && USER_NAME.test(name) ? [changed(RESOURCE_TYPES.user, ids.user(ctx, name), '')] : [];
    }),
    trigger(IAM, CREDENTIAL_CALLS, (record, ctx) => credentialOwner(record, ctx).filter((r) => r.type === RESOURCE_TYPES.user)),
  ],
};

export const ROOT: AwsResourceKind<IamRootShape> = {
  type: RESOURCE_TYPES.root,
  service: 'iam',
  scope: 'account',
  nameOf: () => 'root',
  tagsOf: () => ({}),
  triggers: [trigger(IAM, CREDENTIAL_CALLS, (record, ctx) => credentialOwner(record, ctx).filter((r) => r.type === RESOURCE_TYPES.root))],
};

export const PASSWORD_POLICY: AwsResourceKind<PasswordPolicyShape> = {
  type: RESOURCE_TYPES.passwordPolicy,
  service: 'iam',
  scope: 'account',
  nameOf: () => 'account password policy',
  tagsOf: () => ({}),
  triggers: [trigger(IAM, ['UpdateAccountPasswordPolicy', 'DeleteAccountPasswordPolicy'], (_record, ctx) => [changed(RESOURCE_TYPES.passwordPolicy, ids.passwordPolicy(ctx), '')])],
};

// ---------------------------------------------------------------- Lambda

const LAMBDA = 'lambda.amazonaws.com';

export const FUNCTION: AwsResourceKind<LambdaFunctionShape> = {
  type: RESOURCE_TYPES.function,
  service: 'lambda',
  scope: 'region',
  nameOf: (c) => c.FunctionName,
  tagsOf: (c) => ({ ...c.Tags }),
  triggers: [
    trigger(
      LAMBDA,
      [
        'CreateFunction',
        'DeleteFunction',
        'UpdateFunctionConfiguration',
        'AddPermission',
        'RemovePermission',
        'CreateFunctionUrlConfig',
        'UpdateFunctionUrlConfig',
        'DeleteFunctionUrlConfig',
        // The scanner's Shipscan* tags carry the last scan's counts (aws.lambda.critical-vulnerabilities).
        'TagResource',
        'UntagResource',
      ],
      (record, ctx) => {
        const req = request(record);
        // Versions and aliases share the function's configuration record: the unqualified function is the resource.
        const ref = functionOf(str(response(record).functionArn) ?? req.functionName ?? req.resource, ctx);
        return ref ? [changed(RESOURCE_TYPES.function, ref.arn, ref.arn.split(':')[3]!)] : [];
      },
    ),
  ],
};

// ---------------------------------------------------------------- RDS

const RDS = 'rds.amazonaws.com';
const DB_IDENTIFIER = /^[a-zA-Z][a-zA-Z0-9-]{0,62}$/;

export const DB_INSTANCE: AwsResourceKind<RdsInstanceShape> = {
  type: RESOURCE_TYPES.dbInstance,
  service: 'rds',
  scope: 'region',
  nameOf: (c) => c.DBInstanceIdentifier,
  tagsOf: (c) => tagMap(c.TagList),
  triggers: [
    trigger(
      RDS,
      ['CreateDBInstance', 'CreateDBInstanceReadReplica', 'ModifyDBInstance', 'DeleteDBInstance', 'RestoreDBInstanceFromDBSnapshot', 'RestoreDBInstanceToPointInTime', 'AddTagsToResource', 'RemoveTagsFromResource'],
      (record, ctx) => {
        const req = request(record);
        const listed = arnOf(response(record).dBInstanceArn, 'rds', 'db:') ?? arnOf(req.resourceName, 'rds', 'db:');
        if (listed) return [changed(RESOURCE_TYPES.dbInstance, listed, listed.split(':')[3]!)];
        // ModifyDBInstance may rename (newDBInstanceIdentifier): the new name is the resource from now on.
        const id = str(req.newDBInstanceIdentifier) ?? str(req.targetDBInstanceIdentifier) ?? str(req.dBInstanceIdentifier);
        return id && DB_IDENTIFIER.test(id) ? [changed(RESOURCE_TYPES.dbInstance, ids.dbInstance(where(ctx), id.toLowerCase()), ctx.region)] : [];
      },
    ),
  ],
};

// ---------------------------------------------------------------- ELBv2

const ELB = 'elasticloadbalancing.amazonaws.com';

/** `.../listener/app/<name>/<lb id>/<listener id>` -> `.../loadbalancer/app/<name>/<lb id>`. */
export function loadBalancerOfListener(listenerArn: string): string | undefined {
  const match = /^(arn:[a-z-]+:elasticloadbalancing:[a-z0-9-]+:[0-9]{12}:)listener\/((?:app|net|gwy)\/[^/]+\/[^/]+)\/[^/]+$/.exec(listenerArn);
  return match ? `${match[1]}loadbalancer/${match[2]}` : undefined;
}

export const LOAD_BALANCER: AwsResourceKind<LoadBalancerShape> = {
  type: RESOURCE_TYPES.loadBalancer,
  service: 'elbv2',
  scope: 'region',
  nameOf: (c) => c.LoadBalancerName ?? c.LoadBalancerArn,
  tagsOf: (c) => tagMap(c.Tags),
  triggers: [
    trigger(ELB, ['CreateLoadBalancer', 'DeleteLoadBalancer', 'CreateListener', 'ModifyListener', 'DeleteListener', 'AddTags', 'RemoveTags'], (record) => {
      const req = request(record);
      const found = new Set<string>();
      const lbPrefix = 'loadbalancer/(app|net|gwy)/';
      for (const value of [req.loadBalancerArn, ...strings(req.resourceArns), ...objects(response(record).loadBalancers).map((lb) => lb.loadBalancerArn)]) {
        const arn = arnOf(value, 'elasticloadbalancing', lbPrefix);
        if (arn) found.add(arn);
      }
      const listener = str(req.listenerArn);
      const parent = listener ? loadBalancerOfListener(listener) : undefined;
      if (parent) found.add(parent);
      // Classic load balancers (same event source, names instead of ARNs) are not in this inventory.
      return [...found].map((arn) => changed(RESOURCE_TYPES.loadBalancer, arn, arn.split(':')[3]!));
    }),
  ],
};

// ---------------------------------------------------------------- CloudTrail

const CLOUDTRAIL = 'cloudtrail.amazonaws.com';
const TRAIL_CALLS = ['CreateTrail', 'UpdateTrail', 'DeleteTrail', 'StartLogging', 'StopLogging', 'PutEventSelectors'];

function trailOf(record: CloudTrailRecord, ctx: AwsEventContext): ChangedResource | undefined {
  const req = request(record);
  const value = str(response(record).trailARN) ?? str(req.name) ?? str(req.trailName);
  if (!value) return undefined;
  const asArn = arnOf(value, 'cloudtrail', 'trail/');
  if (asArn) return changed(RESOURCE_TYPES.trail, asArn, asArn.split(':')[3]!);
  // A trail is managed from its home region, where the call was made.
  return /^[A-Za-z0-9._-]{3,128}$/.test(value) ? changed(RESOURCE_TYPES.trail, ids.trail(where(ctx), value), ctx.region) : undefined;
}

export const TRAIL: AwsResourceKind<TrailShape> = {
  type: RESOURCE_TYPES.trail,
  service: 'cloudtrail',
  scope: 'region',
  nameOf: (c) => c.Name,
  tagsOf: () => ({}),
  triggers: [trigger(CLOUDTRAIL, TRAIL_CALLS, (record, ctx) => [trailOf(record, ctx)].filter((r): r is ChangedResource => r !== undefined))],
};

export const ACCOUNT_TRAILS: AwsResourceKind<AccountTrailsShape> = {
  type: RESOURCE_TYPES.accountTrails,
  service: 'cloudtrail',
  scope: 'account',
  nameOf: () => 'multi-region trails',
  tagsOf: () => ({}),
  // Any trail change may make or break the account's coverage; shadow trails make every region a good place to re-read it.
  triggers: [trigger(CLOUDTRAIL, TRAIL_CALLS, (_record, ctx) => [changed(RESOURCE_TYPES.accountTrails, ids.accountTrails(ctx), ctx.region)])],
};

// ---------------------------------------------------------------- KMS

const KMS = 'kms.amazonaws.com';

export const KEY: AwsResourceKind<KmsKeyShape> = {
  type: RESOURCE_TYPES.key,
  service: 'kms',
  scope: 'region',
  nameOf: (c) => c.KeyId,
  tagsOf: (c) => {
    const out: Record<string, string> = {};
    for (const tag of c.Tags ?? []) if (typeof tag.TagKey === 'string') out[tag.TagKey] = tag.TagValue ?? '';
    return out;
  },
  triggers: [
    trigger(KMS, ['CreateKey', 'EnableKeyRotation', 'DisableKeyRotation', 'ScheduleKeyDeletion', 'CancelKeyDeletion', 'EnableKey', 'DisableKey', 'TagResource', 'UntagResource'], (record, ctx) => {
      // KMS lists the key's ARN in `resources`; the request may name the key by id, ARN or alias.
      const keyMetadata = obj(response(record).keyMetadata);
      const arn = listedArn(record, 'AWS::KMS::Key') ?? arnOf(keyMetadata?.arn, 'kms', 'key/') ?? arnOf(request(record).keyId, 'kms', 'key/');
      if (arn) return [changed(RESOURCE_TYPES.key, arn, arn.split(':')[3]!)];
      const id = str(request(record).keyId) ?? str(keyMetadata?.keyId);
      return id && /^(mrk-)?[0-9a-f-]{32,36}$/.test(id) ? [changed(RESOURCE_TYPES.key, ids.key(where(ctx), id), ctx.region)] : [];
    }),
  ],
};

/** Every kind, in collection order. */
export const RESOURCE_KINDS: readonly AwsResourceKind[] = [
  BUCKET,
  S3_ACCOUNT,
  SECURITY_GROUP,
  INSTANCE,
  USER,
  PASSWORD_POLICY,
  ROOT,
  FUNCTION,
  DB_INSTANCE,
  LOAD_BALANCER,
  TRAIL,
  ACCOUNT_TRAILS,
  KEY,
];

const BY_TYPE = new Map(RESOURCE_KINDS.map((kind) => [kind.type, kind]));

export function kindOf(type: string): AwsResourceKind | undefined {
  return BY_TYPE.get(type);
}
