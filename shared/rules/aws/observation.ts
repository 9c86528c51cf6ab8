import { boundedEvidence } from '../../findings/evidence';
import type { Observation } from '../../findings/lifecycle';
import type { FindingSource } from '../../findings/finding';
import type { ActivityDetector, AwsEventContext, CloudTrailRecord, Detection } from '../types';
import { actorOf, roleOf, str } from './record';

/**
 * The one place a detector's detection becomes an Observation for the findings lifecycle. The detector says
 * what is wrong with which resource; the record says who did it, from where and when: actor (principal ARN;
 * for an assumed role the session ARN, with the role in the evidence), source IP, event id and name.
 */

/** eventTime as ISO 8601 with milliseconds; the parser has already rejected records whose time does not parse. */
function observedAt(record: CloudTrailRecord): string {
  const ms = Date.parse(record.eventTime);
  return Number.isNaN(ms) ? record.eventTime : new Date(ms).toISOString();
}

function sourceOf(record: CloudTrailRecord): FindingSource {
  const source: FindingSource = { trigger: 'event', eventName: record.eventName };
  const eventId = str(record.eventID);
  const actor = actorOf(record);
  const sourceIp = str(record.sourceIPAddress);
  if (eventId) source.eventId = eventId;
  if (actor) source.actor = actor;
  if (sourceIp) source.sourceIp = sourceIp;
  return source;
}

/** Who called, beyond the actor ARN: the identity type, the role behind a session, whether MFA was used. */
function callerEvidence(record: CloudTrailRecord): Record<string, string> | undefined {
  const identity = record.userIdentity;
  if (!identity) return undefined;
  const caller: Record<string, string> = {};
  const type = str(identity.type);
  const role = roleOf(record);
  const mfa = str(identity.sessionContext?.attributes?.mfaAuthenticated);
  const invokedBy = str(identity.invokedBy);
  if (type) caller.type = type;
  if (role) caller.role = role;
  if (mfa) caller.mfaAuthenticated = mfa;
  if (invokedBy) caller.invokedBy = invokedBy;
  return Object.keys(caller).length > 0 ? caller : undefined;
}

export function toObservation(detector: ActivityDetector, detection: Detection, record: CloudTrailRecord, ctx: AwsEventContext): Observation {
  const caller = callerEvidence(record);
  const observation: Observation = {
    ruleId: detector.id,
    category: 'activity',
    severity: detection.severity ?? detector.severity,
    title: detection.title ?? detector.title,
    cloud: 'aws',
    scope: { account: ctx.account, region: ctx.region },
    resource: detection.resource,
    subject: detection.subject,
    outcome: detection.outcome,
    observedAt: observedAt(record),
    evidence: boundedEvidence(caller ? { ...detection.evidence, caller } : detection.evidence),
    remediation: detector.remediation,
    source: sourceOf(record),
  };
  if (detection.outcome === 'pass') observation.resolvedReason = detection.resolvedReason ?? 'fixed';
  return observation;
}
