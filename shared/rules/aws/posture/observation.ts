import { boundedEvidence } from '../../../findings/evidence';
import type { FindingResource, FindingScope, FindingSource } from '../../../findings/finding';
import type { Observation } from '../../../findings/lifecycle';
import type { ResourceRef } from '../../../findings/store';
import type { CloudTrailRecord } from '../../types';
import { actorOf, str } from '../record';
import type { Failure } from './rules/common';
import type { AwsPostureRule, PostureResource } from './types';

/**
 * The one place a posture failure becomes an Observation, so the scheduled evaluation, the real-time path
 * and the inventory's deletions land on the same finding: scope = the resource's account and (when it has
 * one) region, resource = its kind's type, ARN and name.
 */

export type PostureOrigin =
  | { trigger: 'schedule' | 'manual'; runId: string; observedAt: string }
  | { trigger: 'event'; record: CloudTrailRecord; observedAt: string };

export function postureScope(resource: Pick<PostureResource, 'account' | 'region'>): FindingScope {
  return resource.region ? { account: resource.account, region: resource.region } : { account: resource.account };
}

export function postureResourceRef(resource: Pick<PostureResource, 'account' | 'region' | 'arn'>): ResourceRef {
  return { cloud: 'aws', scope: postureScope(resource), resourceId: resource.arn };
}

export function findingResource(resource: Pick<PostureResource, 'type' | 'arn' | 'name'>): FindingResource {
  return { type: resource.type, id: resource.arn, name: resource.name.length > 0 ? resource.name : resource.arn };
}

function sourceOf(origin: PostureOrigin): FindingSource {
  if (origin.trigger !== 'event') return { trigger: origin.trigger, runId: origin.runId };
  const { record } = origin;
  const source: FindingSource = { trigger: 'event', eventName: record.eventName };
  const eventId = str(record.eventID);
  const actor = actorOf(record);
  const ip = str(record.sourceIPAddress);
  if (eventId) source.eventId = eventId;
  if (actor) source.actor = actor;
  if (ip) source.sourceIp = ip;
  return source;
}

export function postureObservation(rule: AwsPostureRule, failure: Failure, resource: PostureResource, origin: PostureOrigin): Observation {
  return {
    ruleId: rule.id,
    category: 'posture',
    severity: failure.severity ?? rule.severity,
    title: failure.title ?? rule.title,
    cloud: 'aws',
    scope: postureScope(resource),
    resource: findingResource(resource),
    subject: failure.subject,
    outcome: 'fail',
    observedAt: origin.observedAt,
    evidence: boundedEvidence(failure.evidence),
    remediation: rule.remediation,
    source: sourceOf(origin),
  };
}
