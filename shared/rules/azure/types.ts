import type { ArmActivity, PostureRule, PostureTrigger } from '../types';
import type { ArmResource } from './arm';

/**
 * The Azure side of the posture contract (shared/rules/types.ts): an ARM write names the resource that
 * changed, but not always the one to re-read (a security rule write means "re-read its NSG"), so each
 * trigger says how to get the id to GET from the event.
 */
export interface ArmPostureTrigger extends PostureTrigger {
  /** Matched case-insensitively against `data.operationName`. */
  operationNames: readonly string[];
  /** The id of the resource to GET and evaluate; undefined when the event's resourceUri is not what the trigger expects. */
  resourceIdFor(event: ArmActivity): string | undefined;
}

/** A posture rule over the ARM shape `{ id, name, type, location, properties }` (ARM GET or Resource Graph). */
export interface AzurePostureRule extends PostureRule<ArmResource> {
  cloud: 'azure';
  /** Lower-case ARM type, as Resource Graph spells it. */
  resourceType: string;
  triggers: readonly ArmPostureTrigger[];
  /** Operations that delete the resource itself: its findings of this rule are resolved (`resource deleted`). */
  deleteOperationNames: readonly string[];
}
