import { SEVERITIES } from '../../severity';
import type { ActivityDetector, AwsEventContext, CloudTrailRecord, Detection } from '../types';
import { cloudTrailDeleted, cloudTrailLoggingStopped, cloudTrailManagementEventsDropped, cloudTrailWeakened } from './cloudtrail-tampering';
import { configDeliveryChannelDeleted, configRecorderStopped, guardDutyDisabled, securityHubDisabled } from './detection-services';
import { sgOpenIngress } from './ec2-sg-open-ingress';
import { elbInternetFacing, elbListenerWithoutTls } from './elb';
import { canonicalEventName } from './event-names';
import { iamAccessKeyCreated } from './iam-access-key';
import { iamAdminPolicy } from './iam-admin-policy';
import { iamRoleTrust } from './iam-role-trust';
import { iamLoginProfileCreated, iamUserCreated } from './iam-user';
import { kmsKeyDeletionScheduled, kmsKeyDisabled } from './kms';
import { lambdaPublicPermission, lambdaPublicUrl } from './lambda-public';
import { rdsPubliclyAccessible } from './rds-public';
import { isObject } from './record';
import { s3AccountPublicAccessBlock, s3BucketPublicAccessBlock } from './s3-public-access-block';
import { s3PublicAcl } from './s3-public-acl';
import { s3PublicPolicy } from './s3-public-policy';
import { consoleSignInWithoutMfa, rootConsoleSignIn } from './signin';
import { vpcFlowLogsDeleted } from './vpc-flow-logs';

/**
 * The AWS activity detectors and the one loop that runs them (seed 002's handler registry, without its
 * failure modes): records are routed by eventSource + eventName to the detectors that asked for them, failed
 * calls never reach a detector, and a detector that throws (or returns something malformed) becomes a typed
 * DetectorError beside the other detectors' results instead of losing them.
 */

export const AWS_ACTIVITY_DETECTORS: readonly ActivityDetector[] = [
  sgOpenIngress,
  s3PublicAcl,
  s3PublicPolicy,
  s3BucketPublicAccessBlock,
  s3AccountPublicAccessBlock,
  iamUserCreated,
  iamAccessKeyCreated,
  iamLoginProfileCreated,
  iamAdminPolicy,
  iamRoleTrust,
  cloudTrailLoggingStopped,
  cloudTrailDeleted,
  cloudTrailWeakened,
  cloudTrailManagementEventsDropped,
  rootConsoleSignIn,
  consoleSignInWithoutMfa,
  rdsPubliclyAccessible,
  elbInternetFacing,
  elbListenerWithoutTls,
  lambdaPublicPermission,
  lambdaPublicUrl,
  kmsKeyDeletionScheduled,
  kmsKeyDisabled,
  guardDutyDisabled,
  securityHubDisabled,
  configRecorderStopped,
  configDeliveryChannelDeleted,
  vpcFlowLogsDeleted,
];

export interface DetectorRegistry {
  readonly detectors: readonly ActivityDetector[];
  /** The detectors for a record's source and (undated) name, in registry order; empty when none. */
  detectorsFor(eventSource: string, eventName: string): readonly ActivityDetector[];
}

export class RegistryError extends Error {
  override readonly name = 'RegistryError';
}

const RULE_ID = /^aws\.[a-z0-9-]+\.[a-z0-9-]+$/;
const NONE: readonly ActivityDetector[] = Object.freeze([]);

function routeKey(eventSource: string, eventName: string): string {
  return `${eventSource} ${eventName}`;
}

/**
 * Builds a registry; a registry that could never work (duplicate ids, a detector listening to nothing, an
 * id outside `aws.<service>.<name>`) is a programming error and throws at load time, not per event.
 */
export function createRegistry(detectors: readonly ActivityDetector[] = AWS_ACTIVITY_DETECTORS, options: { disabledRules?: readonly string[] } = {}): DetectorRegistry {
  const disabled = new Set(options.disabledRules ?? []);
  const ids = new Set<string>();
  const routes = new Map<string, ActivityDetector[]>();
  const enabled: ActivityDetector[] = [];
  for (const detector of detectors) {
    if (!RULE_ID.test(detector.id)) throw new RegistryError(`detector id ${JSON.stringify(detector.id)} is not aws.<service>.<name>`);
    if (ids.has(detector.id)) throw new RegistryError(`detector id ${detector.id} is registered twice`);
    if (detector.eventNames.length === 0) throw new RegistryError(`detector ${detector.id} names no events`);
    ids.add(detector.id);
    if (disabled.has(detector.id)) continue;
    enabled.push(detector);
    for (const name of detector.eventNames) {
      const key = routeKey(detector.eventSource, canonicalEventName(detector.eventSource, name));
      const list = routes.get(key);
      if (list) list.push(detector);
      else routes.set(key, [detector]);
    }
  }
  return {
    detectors: enabled,
    detectorsFor: (eventSource, eventName) => routes.get(routeKey(eventSource, canonicalEventName(eventSource, eventName))) ?? NONE,
  };
}

export const DEFAULT_REGISTRY: DetectorRegistry = createRegistry();

/** A detector bug, reported beside the other detectors' results so the handler can count it (DetectorErrors). */
export class DetectorError extends Error {
  override readonly name = 'DetectorError';
  constructor(
    readonly detectorId: string,
    readonly eventName: string,
    readonly eventId: string | undefined,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(`detector ${detectorId} failed on ${eventName}${eventId ? ` (event ${eventId})` : ''}: ${reason}`, options);
  }
}

export interface DetectorDetection {
  detector: ActivityDetector;
  detection: Detection;
}

export type EvaluationSkip = 'failed-call' | 'no-detector';

export interface CloudTrailEvaluation {
  detections: DetectorDetection[];
  errors: DetectorError[];
  /** Why no detector ran, when none did. */
  skipped?: EvaluationSkip;
}

export interface EvaluateOptions {
  /** Defaults to every AWS detector. */
  registry?: DetectorRegistry;
  /** Rule ids that never run (findings config `disabledRules`), on top of the registry's own. */
  disabledRules?: readonly string[] | ReadonlySet<string>;
}

const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);

function nonEmpty(value: unknown): boolean {
  return typeof value === 'string' && value.length > 0;
}

/** Why a detection cannot become a finding, or undefined when it is well-formed. */
export function malformed(detection: unknown): string | undefined {
  if (!isObject(detection)) return 'a detection must be an object';
  if (detection.outcome !== 'fail' && detection.outcome !== 'pass') return `outcome ${JSON.stringify(detection.outcome)} is neither fail nor pass`;
  const resource = detection.resource;
  if (!isObject(resource) || !nonEmpty(resource.type) || !nonEmpty(resource.id) || !nonEmpty(resource.name)) return 'resource needs a non-empty type, id and name';
  if (typeof detection.subject !== 'string') return 'subject must be a string';
  if (!isObject(detection.evidence)) return 'evidence must be an object';
  if (detection.severity !== undefined && !SEVERITY_SET.has(String(detection.severity))) return `severity ${JSON.stringify(detection.severity)} is not one of ${SEVERITIES.join(', ')}`;
  if (detection.title !== undefined && !nonEmpty(detection.title)) return 'title, when given, must be non-empty';
  return undefined;
}

function isDisabled(id: string, disabled: EvaluateOptions['disabledRules']): boolean {
  if (!disabled) return false;
  // Array.isArray does not narrow a readonly array out of the union, hence the cast on the other branch.
  return Array.isArray(disabled) ? disabled.includes(id) : (disabled as ReadonlySet<string>).has(id);
}

/** Runs the detectors a record is routed to. Never throws for anything a detector does. */
export function evaluateCloudTrail(record: CloudTrailRecord, ctx: AwsEventContext, options: EvaluateOptions = {}): CloudTrailEvaluation {
  // A failed call changed nothing (CloudTrail records it with errorCode); ConsoleLogin failures carry none and are the sign-in detectors' to judge.
  if (typeof record.errorCode === 'string' && record.errorCode.length > 0) return { detections: [], errors: [], skipped: 'failed-call' };
  const registry = options.registry ?? DEFAULT_REGISTRY;
  const candidates = registry.detectorsFor(record.eventSource, record.eventName);
  if (candidates.length === 0) return { detections: [], errors: [], skipped: 'no-detector' };
  const detections: DetectorDetection[] = [];
  const errors: DetectorError[] = [];
  for (const detector of candidates) {
    if (isDisabled(detector.id, options.disabledRules)) continue;
    let result: unknown;
    try {
      result = detector.match(record, ctx);
    } catch (error) {
      errors.push(new DetectorError(detector.id, record.eventName, record.eventID, error instanceof Error ? error.message : String(error), { cause: error }));
      continue;
    }
    if (!Array.isArray(result)) {
      errors.push(new DetectorError(detector.id, record.eventName, record.eventID, 'match() did not return an array'));
      continue;
    }
    for (const detection of result) {
      const problem = malformed(detection);
      if (problem) errors.push(new DetectorError(detector.id, record.eventName, record.eventID, `malformed detection: ${problem}`));
      // malformed() has checked every field the Detection type promises.
      else detections.push({ detector, detection: detection as Detection });
    }
  }
  return { detections, errors };
}
