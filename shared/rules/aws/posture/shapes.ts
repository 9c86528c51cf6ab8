/**
 * The configurations the inventory collectors store (functions/aws/inventory/collectors) and the posture
 * rules read. Each shape is the answer of the public AWS API that describes the resource, field names and
 * casing as the API (and SDK v3) return them, cut to what the rules and a reader need, with:
 * - timestamps as ISO 8601 strings (the SDK's Date objects do not survive JSON),
 * - one member per extra call, holding that call's answer, or null when the API says there is none (a
 *   NoSuchEntity / NotFound answer is data: "no password policy", "no bucket policy"),
 * so a stored item reads like the API documentation it came from. The collectors assign SDK output to these
 * types, so the compiler holds the two together; shared/ itself imports no SDK.
 */

/** `Tags: [{ Key, Value }]` as EC2, RDS, ELBv2, IAM and S3 (GetBucketTagging TagSet) return them. */
export interface TagShape {
  Key?: string;
  Value?: string;
}

// ---------------------------------------------------------------- S3

/** GetPublicAccessBlock `PublicAccessBlockConfiguration` (bucket level: S3; account level: S3 Control). */
export interface PublicAccessBlockShape {
  BlockPublicAcls?: boolean;
  IgnorePublicAcls?: boolean;
  BlockPublicPolicy?: boolean;
  RestrictPublicBuckets?: boolean;
}

/** ListBuckets `Buckets[]` item, then GetPublicAccessBlock, GetBucketPolicy, GetBucketEncryption, GetBucketVersioning, GetBucketLogging, GetBucketTagging. */
export interface S3BucketShape {
  Name: string;
  CreationDate?: string;
  /** ListBuckets `BucketRegion` (or GetBucketLocation's answer, `us-east-1` for the empty constraint). */
  BucketRegion?: string;
  /** null: NoSuchPublicAccessBlockConfiguration (no bucket-level block at all). */
  PublicAccessBlock: PublicAccessBlockShape | null;
  /** GetBucketPolicy `Policy`, the policy document as JSON text; null: NoSuchBucketPolicy. */
  Policy: string | null;
  /** GetBucketEncryption `ServerSideEncryptionConfiguration`; null: ServerSideEncryptionConfigurationNotFoundError. */
  Encryption: { Rules?: { ApplyServerSideEncryptionByDefault?: { SSEAlgorithm?: string; KMSMasterKeyID?: string }; BucketKeyEnabled?: boolean }[] } | null;
  /** GetBucketVersioning: `Status` is absent on a bucket that never had versioning. */
  Versioning: { Status?: string; MFADelete?: string };
  /** GetBucketLogging: `LoggingEnabled` is absent when server access logging is off. */
  Logging: { LoggingEnabled?: { TargetBucket?: string; TargetPrefix?: string } };
  /** GetBucketTagging `TagSet`; empty when NoSuchTagSet. */
  TagSet: TagShape[];
}

/** S3 Control GetPublicAccessBlock for the account; null: NoSuchPublicAccessBlockConfiguration. */
export interface S3AccountShape {
  AccountId: string;
  PublicAccessBlock: PublicAccessBlockShape | null;
}

// ---------------------------------------------------------------- EC2

/** DescribeSecurityGroups `IpPermissions[]` / `IpPermissionsEgress[]` item. */
export interface IpPermissionShape {
  /** `tcp`, `udp`, `icmp`, `-1` (all) or a protocol number. */
  IpProtocol?: string;
  FromPort?: number;
  ToPort?: number;
  IpRanges?: { CidrIp?: string; Description?: string }[];
  Ipv6Ranges?: { CidrIpv6?: string; Description?: string }[];
  PrefixListIds?: { PrefixListId?: string; Description?: string }[];
  UserIdGroupPairs?: { GroupId?: string; UserId?: string; Description?: string }[];
}

/** DescribeSecurityGroups `SecurityGroups[]` item. */
export interface SecurityGroupShape {
  GroupId: string;
  GroupName?: string;
  Description?: string;
  VpcId?: string;
  OwnerId?: string;
  SecurityGroupArn?: string;
  IpPermissions?: IpPermissionShape[];
  IpPermissionsEgress?: IpPermissionShape[];
  Tags?: TagShape[];
}

/** DescribeInstances `Reservations[].Instances[]` item (running, pending, stopping and stopped ones). */
export interface Ec2InstanceShape {
  InstanceId: string;
  InstanceType?: string;
  ImageId?: string;
  LaunchTime?: string;
  State?: { Name?: string };
  PublicIpAddress?: string;
  /** `HttpTokens` `required` means IMDSv2 only; `optional` also answers IMDSv1 requests. */
  MetadataOptions?: { HttpTokens?: string; HttpEndpoint?: string; HttpPutResponseHopLimit?: number; State?: string };
  Tags?: TagShape[];
}

// ---------------------------------------------------------------- IAM

/** ListAccessKeys `AccessKeyMetadata[]` item with GetAccessKeyLastUsed's `AccessKeyLastUsed`. */
export interface AccessKeyShape {
  AccessKeyId: string;
  /** `Active` or `Inactive`. */
  Status?: string;
  CreateDate?: string;
  /** `LastUsedDate` is absent for a key that was never used. */
  LastUsed?: { LastUsedDate?: string; ServiceName?: string; Region?: string };
}

/** ListUsers `Users[]` item, then GetLoginProfile, ListMFADevices, ListAccessKeys (+ GetAccessKeyLastUsed), ListUserTags. */
export interface IamUserShape {
  UserName: string;
  UserId?: string;
  Arn: string;
  Path?: string;
  CreateDate?: string;
  PasswordLastUsed?: string;
  /** GetLoginProfile `LoginProfile`; null: NoSuchEntity (the user has no console password). */
  LoginProfile: { CreateDate?: string; PasswordResetRequired?: boolean } | null;
  /** ListMFADevices `MFADevices`. */
  MFADevices: { SerialNumber?: string; EnableDate?: string }[];
  AccessKeys: AccessKeyShape[];
  Tags?: TagShape[];
}

/** GetAccountPasswordPolicy `PasswordPolicy`; null: NoSuchEntity (the account has no password policy). */
export interface PasswordPolicyShape {
  PasswordPolicy: {
    MinimumPasswordLength?: number;
    RequireSymbols?: boolean;
    RequireNumbers?: boolean;
    RequireUppercaseCharacters?: boolean;
    RequireLowercaseCharacters?: boolean;
    AllowUsersToChangePassword?: boolean;
    ExpirePasswords?: boolean;
    MaxPasswordAge?: number;
    PasswordReusePrevention?: number;
    HardExpiry?: boolean;
  } | null;
}

/** GetAccountSummary `SummaryMap` (AccountMFAEnabled and AccountAccessKeysPresent are 0 or 1). */
export interface IamRootShape {
  SummaryMap: Record<string, number>;
}

// ---------------------------------------------------------------- Lambda

/** ListFunctions `Functions[]` item (FunctionConfiguration), then GetPolicy, ListFunctionUrlConfigs, ListTags. */
export interface LambdaFunctionShape {
  FunctionName: string;
  FunctionArn: string;
  /** Absent for container-image functions. */
  Runtime?: string;
  PackageType?: string;
  Handler?: string;
  Role?: string;
  LastModified?: string;
  CodeSha256?: string;
  /** GetPolicy `Policy` (JSON text); null: ResourceNotFoundException (no resource-based policy). */
  Policy: string | null;
  /** ListFunctionUrlConfigs `FunctionUrlConfigs`. */
  FunctionUrls: { FunctionUrl?: string; AuthType?: string; FunctionArn?: string }[];
  /** ListTags `Tags`, including the Shipscan* tags the scanner writes. */
  Tags: Record<string, string>;
}

// ---------------------------------------------------------------- RDS

/** DescribeDBInstances `DBInstances[]` item. */
export interface RdsInstanceShape {
  DBInstanceIdentifier: string;
  DBInstanceArn: string;
  Engine?: string;
  DBInstanceStatus?: string;
  PubliclyAccessible?: boolean;
  StorageEncrypted?: boolean;
  KmsKeyId?: string;
  DBClusterIdentifier?: string;
  TagList?: TagShape[];
}

// ---------------------------------------------------------------- ELBv2

/** DescribeListeners `Listeners[]` item. */
export interface ListenerShape {
  ListenerArn?: string;
  Port?: number;
  Protocol?: string;
  DefaultActions?: { Type?: string; Order?: number; RedirectConfig?: { Protocol?: string; Port?: string; StatusCode?: string } }[];
}

/** DescribeLoadBalancers `LoadBalancers[]` item, then DescribeListeners and DescribeTags. */
export interface LoadBalancerShape {
  LoadBalancerArn: string;
  LoadBalancerName?: string;
  DNSName?: string;
  /** `internet-facing` or `internal`. */
  Scheme?: string;
  /** `application`, `network` or `gateway`. */
  Type?: string;
  State?: { Code?: string };
  Listeners: ListenerShape[];
  Tags?: TagShape[];
}

// ---------------------------------------------------------------- CloudTrail

/** GetEventSelectors: basic or advanced selectors (a trail has one kind). */
export interface EventSelectorsShape {
  EventSelectors?: { ReadWriteType?: string; IncludeManagementEvents?: boolean }[];
  AdvancedEventSelectors?: { Name?: string; FieldSelectors?: { Field?: string; Equals?: string[]; NotEquals?: string[] }[] }[];
}

/** DescribeTrails `trailList[]` item, then GetTrailStatus and GetEventSelectors (and ListTags). */
export interface TrailShape {
  Name: string;
  TrailARN: string;
  HomeRegion?: string;
  IsMultiRegionTrail?: boolean;
  IsOrganizationTrail?: boolean;
  LogFileValidationEnabled?: boolean;
  S3BucketName?: string;
  KmsKeyId?: string;
  IncludeGlobalServiceEvents?: boolean;
  /** GetTrailStatus. */
  Status: { IsLogging?: boolean; LatestDeliveryError?: string; LatestDeliveryTime?: string };
  EventSelectors: EventSelectorsShape;
}

/**
 * The trails that cover every region of an account: DescribeTrails with `includeShadowTrails` (a multi-region
 * trail shows in every region as a shadow of its home region's trail), multi-region ones only, each with its
 * GetTrailStatus and GetEventSelectors.
 */
export interface AccountTrailsShape {
  /** The region the list was read in. */
  ListedIn: string;
  MultiRegionTrails: TrailShape[];
}

// ---------------------------------------------------------------- KMS

/** ListKeys `Keys[]` item, then DescribeKey `KeyMetadata`, GetKeyRotationStatus and ListResourceTags. */
export interface KmsKeyShape {
  KeyId: string;
  Arn: string;
  /** `AWS` (AWS managed, rotated by AWS) or `CUSTOMER`. */
  KeyManager?: string;
  KeyState?: string;
  KeySpec?: string;
  KeyUsage?: string;
  Origin?: string;
  Description?: string;
  /** GetKeyRotationStatus `KeyRotationEnabled`; null where rotation does not apply (not asked). */
  KeyRotationEnabled: boolean | null;
  /** ListResourceTags `Tags`. */
  Tags?: { TagKey?: string; TagValue?: string }[];
}
