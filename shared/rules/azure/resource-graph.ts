import { CONTAINER_APP, CONTAINER_GROUP, KEY_VAULT, NETWORK_SECURITY_GROUP, ROLE_ASSIGNMENT, STORAGE_ACCOUNT } from './resources';

/**
 * What the scheduled inventory asks Azure Resource Graph for: one query per resource type the posture rules
 * read, each projecting the ARM shape the rules evaluate (`id, name, type, location, properties`) plus what the
 * inventory keys and scopes on (`subscriptionId`, `tags`).
 *
 * Role assignments are not in Resource Graph's `resources` table: they live in `authorizationresources`
 * (with role definitions and classic administrators), so a `resources` query for their type returns nothing.
 */

export type ResourceGraphTable = 'resources' | 'authorizationresources';

export interface InventoryType {
  /** Lower-case ARM type, as Resource Graph spells it. */
  type: string;
  table: ResourceGraphTable;
  /** The ARM `*\/read` action the reader needs for Resource Graph to return rows of this type. */
  readAction: string;
}

export const INVENTORY_TYPE_TABLE: readonly InventoryType[] = [
  { type: NETWORK_SECURITY_GROUP.type, table: 'resources', readAction: 'Microsoft.Network/networkSecurityGroups/read' },
  { type: STORAGE_ACCOUNT.type, table: 'resources', readAction: 'Microsoft.Storage/storageAccounts/read' },
  { type: KEY_VAULT.type, table: 'resources', readAction: 'Microsoft.KeyVault/vaults/read' },
  { type: ROLE_ASSIGNMENT.type, table: 'authorizationresources', readAction: 'Microsoft.Authorization/roleAssignments/read' },
  { type: CONTAINER_GROUP.type, table: 'resources', readAction: 'Microsoft.ContainerInstance/containerGroups/read' },
  { type: CONTAINER_APP.type, table: 'resources', readAction: 'Microsoft.App/containerApps/read' },
];

/** Every type the inventory can collect (lower-case ARM types). */
export const INVENTORY_TYPES = [
  'microsoft.network/networksecuritygroups',
  'microsoft.storage/storageaccounts',
  'microsoft.keyvault/vaults',
  'microsoft.authorization/roleassignments',
  'microsoft.containerinstance/containergroups',
  'microsoft.app/containerapps',
] as const;

export type InventoryTypeName = (typeof INVENTORY_TYPES)[number];

export function inventoryTypeOf(type: string): InventoryType | undefined {
  const lower = type.trim().toLowerCase();
  return INVENTORY_TYPE_TABLE.find((t) => t.type === lower);
}

/** Resource Graph answers at most 1000 rows per page. */
export const RESOURCE_GRAPH_MAX_PAGE = 1000;
/** Subscriptions per query: Resource Graph's guidance is to batch at most about 300. */
export const RESOURCE_GRAPH_MAX_SUBSCRIPTIONS = 300;

/**
 * The query of one type. The type is a constant of this module (never request text), so nothing is quoted
 * from outside. `order by id` keeps paging stable; `id` is projected, without which Resource Graph returns
 * no skipToken.
 */
export function inventoryQuery(type: string): string {
  const entry = inventoryTypeOf(type);
  if (!entry) throw new RangeError(`no Resource Graph query for ${type}: one of ${INVENTORY_TYPES.join(', ')}`);
  return `${entry.table} | where type =~ '${entry.type}' | project id, name, type, location, subscriptionId, tags, properties | order by id asc`;
}
