import type { ArmActivity } from '../types';
import { parseArmId } from './arm';
import type { ArmPostureTrigger } from './types';

/**
 * How the rules' triggers name the resource to GET. The event's resourceUri is checked against the type the
 * operation is about, so a mismatched event (an operation name on someone else's id) reads nothing.
 */

/** The write names the resource itself. */
export function sameResourceTrigger(resourceType: string, operationNames: readonly string[]): ArmPostureTrigger {
  return {
    operationNames,
    resourceIdFor(event: ArmActivity): string | undefined {
      const parsed = parseArmId(event.resourceUri);
      return parsed?.type === resourceType ? parsed.id : undefined;
    },
  };
}

/** The write (or delete) names a child resource: re-read its parent (a security rule -> its NSG). */
export function parentResourceTrigger(childType: string, parentType: string, operationNames: readonly string[]): ArmPostureTrigger {
  return {
    operationNames,
    resourceIdFor(event: ArmActivity): string | undefined {
      const child = parseArmId(event.resourceUri);
      if (child?.type !== childType || child.parentId === undefined) return undefined;
      const parent = parseArmId(child.parentId);
      return parent?.type === parentType ? parent.id : undefined;
    },
  };
}
