import { boundedEvidence } from '../../findings/evidence';
import type { FindingResource, FindingScope, FindingSource } from '../../findings/finding';
import type { Observation } from '../../findings/lifecycle';
import type { ArmActivity, ArmActivityDetector, Detection, PostureEvaluation } from '../types';
import { parseArmId, resourceKeyOf, textAt, type ArmResource } from './arm';
import type { AzurePostureRule } from './types';

/**
 * Rules say what fails; this turns what they say into the Observation the findings lifecycle records. It is
 * the only place that decides how an Azure finding is keyed, so the event path (ARM GET after a write), the
 * delete path and the scheduled inventory (Resource Graph) all land on the same finding.
 */

/** What made the observation: an ARM event, or a scheduled inventory run (Resource Graph). */
export type ObservationOrigin =
  | { trigger: 'event'; event: ArmActivity }
  | { trigger: 'schedule'; runId: string; observedAt: string };

export type AzureRule = AzurePostureRule | ArmActivityDetector;

/**
 * The resource as findings know it: lower-case ARM type and lower-cased id (ARM ids are case-insensitive and
 * GET bodies, events and Resource Graph spell them differently), the name as ARM returned it.
 */
export function findingResourceOf(resource: Pick<ArmResource, 'id' | 'name' | 'type'>): FindingResource {
  const parsed = parseArmId(resource.id);
  const type = (textAt(resource.type) ?? parsed?.type ?? 'unknown').toLowerCase();
  const name = textAt(resource.name) ?? parsed?.name ?? resource.id;
  return { type, id: resourceKeyOf(resource.id), name };
}

/**
 * The subscription a finding belongs to: the one in the resource id, else the event's. Role assignments at
 * management-group or tenant-root scope (seen only by the scheduled inventory; the subscription topic does
 * not publish them) have none, so their scope is the management group (`managementgroups/<id>`) or `tenant`.
 */
export function scopeOf(resourceId: string, origin: ObservationOrigin): FindingScope {
  const parsed = parseArmId(resourceId);
  if (parsed?.subscriptionId) return { subscription: parsed.subscriptionId.toLowerCase() };
  if (origin.trigger === 'event') return { subscription: origin.event.subscriptionId.toLowerCase() };
  if (parsed?.managementGroup) return { subscription: `managementgroups/${parsed.managementGroup.toLowerCase()}` };
  return { subscription: 'tenant' };
}

function sourceOf(origin: ObservationOrigin): FindingSource {
  if (origin.trigger === 'schedule') return { trigger: 'schedule', runId: origin.runId };
  const { event } = origin;
  const source: FindingSource = { trigger: 'event', eventId: event.id, eventName: event.operationName };
  if (event.actor) source.actor = event.actor;
  if (event.sourceIp) source.sourceIp = event.sourceIp;
  return source;
}

/** (rule, detection, event or inventory run) -> Observation, evidence redacted and bounded. */
export function toObservation(rule: AzureRule, detection: Detection, origin: ObservationOrigin): Observation {
  const resource = findingResourceOf(detection.resource);
  const observation: Observation = {
    ruleId: rule.id,
    category: rule.category,
    severity: detection.severity ?? rule.severity,
    title: detection.title ?? rule.title,
    cloud: 'azure',
    scope: scopeOf(detection.resource.id, origin),
    resource,
    subject: detection.subject,
    outcome: detection.outcome,
    observedAt: origin.trigger === 'event' ? origin.event.eventTime : origin.observedAt,
    evidence: boundedEvidence(detection.evidence),
    remediation: rule.remediation,
    source: sourceOf(origin),
  };
  if (detection.outcome === 'pass') observation.resolvedReason = detection.resolvedReason ?? 'fixed';
  return observation;
}

/** A posture rule's failures on one resource, as detections (fail outcomes) on that resource. */
export function postureDetections(resource: ArmResource, evaluation: PostureEvaluation): Detection[] {
  if (evaluation.status !== 'evaluated') return [];
  const target: FindingResource = { type: findingResourceOf(resource).type, id: resource.id, name: findingResourceOf(resource).name };
  return evaluation.failures.map((failure) => ({ ...failure, outcome: 'fail' as const, resource: target }));
}
