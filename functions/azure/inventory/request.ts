import { z } from 'zod';
import { AZURE_REGISTRY, type AzureRuleRegistry } from '../../../shared/rules/azure/registry';
import { inventoryTypeOf } from '../../../shared/rules/azure/resource-graph';

/**
 * The manual payloads of the `inventory-requests` queue, after seed 001's Lambda payloads:
 * - `{"service":"all"}`: inventory of every configured type and subscription, then evaluation of what it saw;
 * - `{"service":"storage"}`: the types the rules of one service read (`network`, `storage`, `keyvault`,
 *   `authorization`, `containerinstance`, `containerapps`);
 * - `{"type":"microsoft.storage/storageaccounts"}`: one resource type;
 * - `{"subscriptionId":"<guid>"}`: one configured subscription;
 * - `{"ruleId":"azure.storage.public-blob-access"}`: a rule's launch: evaluates that rule over the stored
 *   inventory, no Resource Graph query;
 * - `{}`: the daily evaluation, every rule over the stored inventory.
 * Fields combine (`{"type":...,"subscriptionId":...}`), and `"mode":"inventory"|"evaluation"` overrides the
 * default (evaluation for `{}` and a lone ruleId, inventory otherwise).
 */

export const InventoryPayloadSchema = z.strictObject({
  mode: z.enum(['inventory', 'evaluation']).optional(),
  service: z.string().min(1).max(64).optional(),
  type: z.string().min(1).max(200).optional(),
  ruleId: z.string().min(1).max(200).optional(),
  subscriptionId: z.uuid('a subscription id (GUID)').optional(),
});

export type InventoryPayload = z.infer<typeof InventoryPayloadSchema>;

export interface InventoryRequest {
  mode: 'inventory' | 'evaluation';
  /** Lower-case ARM types to collect and/or evaluate. */
  types: string[];
  /** Lower-case subscription ids. */
  subscriptions: string[];
  /** Only these rules; every enabled rule of the types when undefined. */
  ruleIds?: string[];
  /** The payload as received (for the run record and logs). */
  label: string;
}

export class InventoryRequestError extends Error {
  override readonly name = 'InventoryRequestError';
}

export interface RequestContext {
  /** Configured subscriptions (lower-case). */
  subscriptions: readonly string[];
  /** Configured types (lower-case). */
  types: readonly string[];
  disabledRules: readonly string[];
  registry?: AzureRuleRegistry;
}

/** Parses a queue message body (object, JSON text, or bytes) into a request within what the stack may read. */
export function parseInventoryRequest(message: unknown, ctx: RequestContext): InventoryRequest {
  let body = message;
  if (body instanceof Uint8Array) body = Buffer.from(body).toString('utf8');
  if (typeof body === 'string') {
    const text = body;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InventoryRequestError(`not JSON: ${JSON.stringify(text.slice(0, 120))}`);
    }
  }
  const parsed = InventoryPayloadSchema.safeParse(body);
  if (!parsed.success) {
    throw new InventoryRequestError(
      `not an inventory request (${parsed.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; ')}); expected e.g. {"service":"all"}, {"type":"microsoft.storage/storageaccounts"}, {"ruleId":"..."}, {"subscriptionId":"..."}`,
    );
  }
  return requestOf(parsed.data, ctx);
}

export function requestOf(payload: InventoryPayload, ctx: RequestContext): InventoryRequest {
  const registry = ctx.registry ?? AZURE_REGISTRY;
  const enabled = registry.posture.filter((r) => !ctx.disabledRules.includes(r.id));
  let types = [...ctx.types];
  let ruleIds: string[] | undefined;

  if (payload.service && payload.service.toLowerCase() !== 'all') {
    const service = payload.service.toLowerCase();
    const rules = enabled.filter((r) => r.service === service);
    if (rules.length === 0) {
      const services = [...new Set(enabled.map((r) => r.service))].sort();
      throw new InventoryRequestError(`service ${JSON.stringify(payload.service)}: no enabled Azure posture rule of that service (one of all, ${services.join(', ')})`);
    }
    types = types.filter((t) => rules.some((r) => r.resourceType === t));
    ruleIds = rules.map((r) => r.id);
  }
  if (payload.type) {
    const known = inventoryTypeOf(payload.type);
    if (!known) throw new InventoryRequestError(`type ${JSON.stringify(payload.type)}: not a type the inventory collects (${ctx.types.join(', ')})`);
    if (!ctx.types.includes(known.type)) throw new InventoryRequestError(`type ${known.type} is not in azure.inventory.types (${ctx.types.join(', ')})`);
    types = types.filter((t) => t === known.type);
  }
  if (payload.ruleId) {
    const rule = registry.posture.find((r) => r.id === payload.ruleId);
    if (!rule) throw new InventoryRequestError(`ruleId ${JSON.stringify(payload.ruleId)}: not an Azure posture rule (${registry.posture.map((r) => r.id).join(', ')})`);
    if (ctx.disabledRules.includes(rule.id)) throw new InventoryRequestError(`rule ${rule.id} is disabled (findings.disabledRules)`);
    if (!ctx.types.includes(rule.resourceType)) throw new InventoryRequestError(`rule ${rule.id} reads ${rule.resourceType}, which is not in azure.inventory.types`);
    types = types.filter((t) => t === rule.resourceType);
    ruleIds = ruleIds ? ruleIds.filter((id) => id === rule.id) : [rule.id];
  }
  let subscriptions = [...ctx.subscriptions];
  if (payload.subscriptionId) {
    const wanted = payload.subscriptionId.toLowerCase();
    if (!ctx.subscriptions.includes(wanted)) {
      throw new InventoryRequestError(`subscription ${wanted} is not in azure.inventory.subscriptions (the Function App can read only ${ctx.subscriptions.join(', ')})`);
    }
    subscriptions = [wanted];
  }
  if (types.length === 0 || (ruleIds && ruleIds.length === 0)) throw new InventoryRequestError(`${JSON.stringify(payload)} selects no rule and type to run`);
  const onlyRule = payload.ruleId !== undefined && !payload.service && !payload.type && !payload.subscriptionId;
  const empty = !payload.service && !payload.type && !payload.ruleId && !payload.subscriptionId;
  const mode = payload.mode ?? (onlyRule || empty ? 'evaluation' : 'inventory');
  return { mode, types, subscriptions, ...(ruleIds ? { ruleIds } : {}), label: JSON.stringify(payload) };
}
