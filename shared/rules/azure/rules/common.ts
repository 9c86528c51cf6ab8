import type { PostureEvaluation } from '../../types';
import type { ArmResource } from '../arm';

/**
 * A resource the rules can read: a Resource Graph row that projected no `properties` (or a GET body cut
 * short) says nothing about the configuration, so the rule does not apply rather than passing it.
 */
export function propertiesMissing(resource: ArmResource): PostureEvaluation | undefined {
  return resource.properties ? undefined : { status: 'not-applicable', reason: 'the resource carries no properties' };
}

/** A property as read, for the evidence: the value ARM returned, or null when it was absent. */
export function asRead(value: unknown): unknown {
  return value === undefined ? null : value;
}
