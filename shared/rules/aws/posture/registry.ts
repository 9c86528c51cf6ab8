import type { AwsEventContext, CloudTrailRecord, PostureEvaluation } from '../../types';
import { canonicalEventName } from '../event-names';
import { kindOf, RESOURCE_KINDS } from './kinds';
import { cloudTrailLogFileValidationOff } from './rules/cloudtrail-log-file-validation-off';
import { cloudTrailNoMultiRegionTrail } from './rules/cloudtrail-no-multi-region-trail';
import { cloudTrailTrailNotLogging } from './rules/cloudtrail-trail-not-logging';
import type { Failure } from './rules/common';
import { ec2DefaultSecurityGroup } from './rules/ec2-default-security-group';
import { ec2InstanceImdsv1 } from './rules/ec2-instance-imdsv1';
import { ec2SecurityGroupOpen } from './rules/ec2-security-group-open';
import { elbv2HttpListenerWithoutRedirect } from './rules/elbv2-http-listener-without-redirect';
import { iamAccessKeyTooOld } from './rules/iam-access-key-too-old';
import { iamAccessKeyUnused } from './rules/iam-access-key-unused';
import { iamConsoleUserWithoutMfa } from './rules/iam-console-user-without-mfa';
import { iamPasswordPolicyWeak } from './rules/iam-password-policy-weak';
import { iamRootAccessKeys } from './rules/iam-root-access-keys';
import { iamRootWithoutMfa } from './rules/iam-root-without-mfa';
import { kmsKeyRotationOff } from './rules/kms-key-rotation-off';
import { lambdaCriticalVulnerabilities } from './rules/lambda-critical-vulnerabilities';
import { lambdaDeprecatedRuntime } from './rules/lambda-deprecated-runtime';
import { lambdaFunctionUrlNoAuth } from './rules/lambda-function-url-no-auth';
import { lambdaResourcePolicyPublic } from './rules/lambda-resource-policy-public';
import { rdsPubliclyAccessible } from './rules/rds-publicly-accessible';
import { rdsStorageUnencrypted } from './rules/rds-storage-unencrypted';
import { s3AccountBlockPublicAccess } from './rules/s3-account-block-public-access';
import { s3BucketAccessLogging } from './rules/s3-bucket-access-logging';
import { s3BucketBlockPublicAccess } from './rules/s3-bucket-block-public-access';
import { s3BucketEncryption } from './rules/s3-bucket-encryption';
import { s3BucketPolicyPublic } from './rules/s3-bucket-policy-public';
import { s3BucketVersioning } from './rules/s3-bucket-versioning';
import type { AwsPostureContext, AwsPostureRule, ChangedResource, InventoryService, PostureResource } from './types';

/**
 * The AWS posture rules and what the pipeline asks of them: which rules read a kind of resource, which
 * CloudTrail calls change which resources (the real-time path and the EventBridge rule), and what the rules
 * say about one stored resource. Rules are pure; a rule that throws is reported, never fatal.
 */

export const AWS_POSTURE_RULES: readonly AwsPostureRule[] = [
  s3BucketBlockPublicAccess,
  s3AccountBlockPublicAccess,
  s3BucketPolicyPublic,
  s3BucketEncryption,
  s3BucketVersioning,
  s3BucketAccessLogging,
  ec2SecurityGroupOpen,
  ec2InstanceImdsv1,
  ec2DefaultSecurityGroup,
  iamAccessKeyTooOld,
  iamAccessKeyUnused,
  iamConsoleUserWithoutMfa,
  iamPasswordPolicyWeak,
  iamRootWithoutMfa,
  iamRootAccessKeys,
  lambdaResourcePolicyPublic,
  lambdaFunctionUrlNoAuth,
  lambdaCriticalVulnerabilities,
  lambdaDeprecatedRuntime,
  rdsPubliclyAccessible,
  rdsStorageUnencrypted,
  elbv2HttpListenerWithoutRedirect,
  cloudTrailNoMultiRegionTrail,
  cloudTrailLogFileValidationOff,
  cloudTrailTrailNotLogging,
  kmsKeyRotationOff,
];

export class PostureRegistryError extends Error {
  override readonly name = 'PostureRegistryError';
}

export interface PostureRegistry {
  readonly rules: readonly AwsPostureRule[];
  rule(id: string): AwsPostureRule | undefined;
  /** The enabled rules that read a resource type, in registry order. */
  rulesFor(type: string): readonly AwsPostureRule[];
  /** Resource types some enabled rule reads. */
  readonly types: readonly string[];
}

const RULE_ID = /^aws\.[a-z0-9-]+\.[a-z0-9-]+$/;
const NONE: readonly AwsPostureRule[] = Object.freeze([]);

/** Builds a registry; one that could never work (duplicate ids, a rule over an unknown kind) throws at load. */
export function createPostureRegistry(rules: readonly AwsPostureRule[] = AWS_POSTURE_RULES, options: { disabledRules?: readonly string[] } = {}): PostureRegistry {
  const disabled = new Set(options.disabledRules ?? []);
  const byId = new Map<string, AwsPostureRule>();
  const byType = new Map<string, AwsPostureRule[]>();
  for (const rule of rules) {
    if (!RULE_ID.test(rule.id)) throw new PostureRegistryError(`rule id ${JSON.stringify(rule.id)} is not aws.<service>.<name>`);
    if (byId.has(rule.id)) throw new PostureRegistryError(`rule id ${rule.id} is registered twice`);
    const kind = kindOf(rule.resourceType);
    if (!kind) throw new PostureRegistryError(`rule ${rule.id} reads ${rule.resourceType}, which no resource kind describes`);
    if (kind.service !== rule.service) throw new PostureRegistryError(`rule ${rule.id} says service ${rule.service}, its resources are collected by ${kind.service}`);
    byId.set(rule.id, rule);
    if (disabled.has(rule.id)) continue;
    byType.set(rule.resourceType, [...(byType.get(rule.resourceType) ?? []), rule]);
  }
  const enabled = rules.filter((r) => !disabled.has(r.id));
  return {
    rules: enabled,
    rule: (id) => (disabled.has(id) ? undefined : byId.get(id)),
    rulesFor: (type) => byType.get(type) ?? NONE,
    types: [...byType.keys()],
  };
}

export const DEFAULT_POSTURE_REGISTRY: PostureRegistry = createPostureRegistry();

/** The services whose collectors feed a rule of the registry (a one-rule evaluation reads only those). */
export function servicesOf(registry: PostureRegistry): InventoryService[] {
  return [...new Set(registry.rules.map((r) => r.service))];
}

// ---------------------------------------------------------------- change events

/**
 * Every (eventSource, undated eventName) that changes a resource some enabled rule reads: what the
 * security-events EventBridge rule must let through for the real-time posture path.
 */
export function postureTriggerEvents(registry: PostureRegistry = DEFAULT_POSTURE_REGISTRY): { eventSource: string; eventNames: string[] }[] {
  const bySource = new Map<string, Set<string>>();
  for (const kind of RESOURCE_KINDS) {
    if (registry.rulesFor(kind.type).length === 0) continue;
    for (const trigger of kind.triggers) {
      const names = bySource.get(trigger.eventSource) ?? new Set<string>();
      for (const name of trigger.eventNames) names.add(name);
      bySource.set(trigger.eventSource, names);
    }
  }
  return [...bySource.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([eventSource, names]) => ({ eventSource, eventNames: [...names].sort() }));
}

/**
 * The resources a successful CloudTrail call changed, among those some enabled rule reads; empty for a
 * failed call or a call no kind listens to. Never throws on a malformed record.
 */
export function changedResources(record: CloudTrailRecord, ctx: AwsEventContext, registry: PostureRegistry = DEFAULT_POSTURE_REGISTRY): ChangedResource[] {
  if (typeof record.errorCode === 'string' && record.errorCode.length > 0) return [];
  const name = canonicalEventName(record.eventSource, record.eventName);
  const out = new Map<string, ChangedResource>();
  for (const kind of RESOURCE_KINDS) {
    if (registry.rulesFor(kind.type).length === 0) continue;
    for (const trigger of kind.triggers) {
      if (trigger.eventSource !== record.eventSource || !trigger.eventNames.includes(name)) continue;
      let found: ChangedResource[];
      try {
        found = trigger.resourcesFor(record, ctx);
      } catch {
        // A trigger that cannot read a hostile record names nothing; the scheduled inventory still sees the resource.
        found = [];
      }
      for (const resource of found) out.set(`${resource.type} ${resource.arn}`, resource);
    }
  }
  return [...out.values()];
}

// ---------------------------------------------------------------- one resource

export interface RuleOutcome {
  ruleId: string;
  status: PostureEvaluation['status'] | 'error';
  /** Not-applicable reason or error message. */
  reason?: string;
  failures: Failure[];
}

/** Runs `rules` (all of the resource's type, or a subset) on one stored resource. Never throws. */
export function evaluatePosture(resource: PostureResource, rules: readonly AwsPostureRule[], ctx: AwsPostureContext): RuleOutcome[] {
  const out: RuleOutcome[] = [];
  for (const rule of rules) {
    if (rule.resourceType !== resource.type) continue;
    let evaluation: PostureEvaluation;
    try {
      evaluation = rule.evaluate(resource.config, ctx);
    } catch (error) {
      out.push({ ruleId: rule.id, status: 'error', reason: (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).slice(0, 512), failures: [] });
      continue;
    }
    if (evaluation.status === 'not-applicable') out.push({ ruleId: rule.id, status: 'not-applicable', reason: evaluation.reason, failures: [] });
    else out.push({ ruleId: rule.id, status: 'evaluated', failures: evaluation.failures });
  }
  return out;
}
