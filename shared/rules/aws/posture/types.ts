import type { AllowLists } from '../../allow-lists';
import type { AwsEventContext, CloudTrailRecord, PostureEvaluation, PostureRule, PostureTrigger } from '../../types';

/**
 * The AWS side of the posture contract (shared/rules/types.ts). A rule reads one stored configuration (the
 * shapes of ./shapes.ts) and says what fails; the resource kinds (./kinds.ts) say which service collects
 * it, how it is named and tagged, and which CloudTrail calls change it (so the real-time path re-describes
 * it). Rules of one kind share the kind's triggers, as the Azure rules share theirs.
 */

/** The services the inventory collects, one collector each (functions/aws/inventory/collectors). */
export const INVENTORY_SERVICES = ['s3', 'ec2', 'iam', 'lambda', 'rds', 'elbv2', 'cloudtrail', 'kms'] as const;
export type InventoryService = (typeof INVENTORY_SERVICES)[number];

/** What the rules may be tuned with (`shipscan:aws.inventory`), with the defaults of CIS / FSBP. */
export interface PostureSettings {
  /** An active access key older than this fails aws.iam.access-key-too-old. */
  accessKeyMaxAgeDays: number;
  /** An active access key not used for this long (never used: since it was created) fails aws.iam.access-key-unused. */
  accessKeyUnusedDays: number;
  /** The shortest password the account policy may allow (CIS: 14). */
  passwordMinLength: number;
  /** How many previous passwords the policy must refuse (CIS: 24). */
  passwordReusePrevention: number;
}

export const DEFAULT_POSTURE_SETTINGS: PostureSettings = {
  accessKeyMaxAgeDays: 90,
  accessKeyUnusedDays: 90,
  passwordMinLength: 14,
  passwordReusePrevention: 24,
};

export interface AwsPostureContext {
  allowLists: AllowLists;
  /** Time-dependent rules (key age, runtime end of support) judge against this, never the wall clock. */
  now: Date;
  settings: PostureSettings;
}

/**
 * A resource the rules read, as the resources table stores it: the configuration plus where it lives. Rules
 * see only `config`; the rest scopes and names the findings.
 */
export interface PostureResource<Config = unknown> {
  account: string;
  /** The resource's region; empty for account-wide resources (IAM, S3 account settings, CloudTrail coverage). */
  region: string;
  /** `AWS::S3::Bucket`... (kinds.ts). */
  type: string;
  /** ARN (or, for account-level settings, the ARN-like id kinds.ts gives them). */
  arn: string;
  name: string;
  tags: Record<string, string>;
  config: Config;
}

/** A resource a CloudTrail call changed (or deleted): re-describe it and evaluate its rules. */
export interface ChangedResource {
  type: string;
  /** ARN, or the id kinds.ts gives an account-level setting. */
  arn: string;
  /** Where to describe it: the resource's region (the call's, for most services). */
  region: string;
}

/**
 * The CloudTrail calls that change a kind of resource and how to get the changed resource from one of them.
 * Names are the undated ones (canonicalEventName); `resourcesFor` returns nothing when the record does not
 * name a resource (a malformed or partial record), never throws.
 */
export interface AwsPostureTrigger extends PostureTrigger {
  eventSource: string;
  eventNames: readonly string[];
  resourcesFor(record: CloudTrailRecord, ctx: AwsEventContext): ChangedResource[];
}

/** One kind of resource: the unit the collectors write, the rules read and the triggers point at. */
export interface AwsResourceKind<Config = unknown> {
  type: string;
  service: InventoryService;
  /** `account`: collected once per account (IAM, S3); `region`: once per account and region. */
  scope: 'account' | 'region';
  /** A readable name for tables and notices. */
  nameOf(config: Config): string;
  /** Tags as one map (rule scopes match on them); empty where the API has none. */
  tagsOf(config: Config): Record<string, string>;
  triggers: readonly AwsPostureTrigger[];
}

export interface AwsPostureRule<Config = unknown> extends PostureRule<Config> {
  cloud: 'aws';
  category: 'posture';
  service: InventoryService;
  triggers: readonly AwsPostureTrigger[];
  /** The context is wider than PostureRule's: time and settings (method parameters are checked bivariantly). */
  evaluate(config: Config, ctx: AwsPostureContext): PostureEvaluation;
}

/** The rule looked and found nothing wrong. */
export function passes(): PostureEvaluation {
  return { status: 'evaluated', failures: [] };
}

export function notApplicable(reason: string): PostureEvaluation {
  return { status: 'not-applicable', reason };
}
