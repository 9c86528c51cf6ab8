import type { ArmEventOutcome } from '../../../shared/rules/azure/registry';
import { parseArmId, type ArmResource } from '../../../shared/rules/azure/arm';
import { inventoryTypeOf } from '../../../shared/rules/azure/resource-graph';
import type { TableResourceStore } from './resource-store';

/**
 * The security-event pipeline's side of the inventory: when an ARM event routes to a posture evaluation
 * (`routeActivity` -> `evaluate`, the pipeline GETs the resource) or to a deletion (`resolve`), the `Resources` row
 * follows at once, so the stored inventory is as fresh as the findings the event just changed, and the next
 * scheduled evaluation does not reopen a finding the event resolved from a week-old configuration.
 *
 * The pipeline records the findings itself (with the event as their origin); this only keeps the row: written with
 * the event's time as `LastSeenAt` (a sweep of a run that started earlier keeps it), deleted when the resource is
 * gone. Types the inventory does not collect are left alone.
 */

export type ResourceSync = { status: 'written' | 'deleted'; resourceId: string; type: string } | { status: 'ignored'; reason: string };

export interface ResourceSyncDeps {
  resources: TableResourceStore;
  /** `azure.inventory.types`: only these are kept. */
  types: readonly string[];
}

type RoutedChange = Extract<ArmEventOutcome, { kind: 'evaluate' }> | Extract<ArmEventOutcome, { kind: 'resolve' }>;

/**
 * `described`: the body the pipeline's GET returned for an `evaluate` outcome, or `undefined` when that GET said
 * the resource is gone (404/410). A `resolve` outcome (a delete event) needs none.
 */
export async function syncResourceFromEvent(outcome: RoutedChange, described: ArmResource | undefined, deps: ResourceSyncDeps): Promise<ResourceSync> {
  const id = outcome.kind === 'evaluate' ? outcome.resourceId : outcome.resource.id;
  const type = (outcome.kind === 'evaluate' ? outcome.resourceType : outcome.resource.type).toLowerCase();
  if (!inventoryTypeOf(type) || !deps.types.includes(type)) return { status: 'ignored', reason: `${type} is not in azure.inventory.types` };
  const parsed = parseArmId(id);
  if (!parsed?.subscriptionId) return { status: 'ignored', reason: `${id} is not a subscription resource id` };
  const subscriptionId = parsed.subscriptionId.toLowerCase();
  const at = outcome.kind === 'evaluate' ? outcome.event.eventTime : outcome.observedAt;
  if (outcome.kind === 'evaluate' && described) {
    // The GET may answer with the id in another case than the event; the row is keyed by the lower-case id either way.
    if (typeof described.id !== 'string' || described.id.toLowerCase() !== id.toLowerCase()) return { status: 'ignored', reason: `the described resource is not ${id}` };
    // ARM GET bodies carry tags beside the fields ArmResource names; the row keeps them for rule scopes.
    const resource = { ...described, type: described.type ?? type } as ArmResource & { tags?: Record<string, string> };
    await deps.resources.ensure();
    await deps.resources.upsertMany([{ subscriptionId, type, resource }], { lastSeenAt: at, runId: `event:${outcome.event.id}` });
    return { status: 'written', resourceId: id, type };
  }
  await deps.resources.ensure();
  await deps.resources.deleteResource(subscriptionId, type, id);
  return { status: 'deleted', resourceId: id, type };
}
