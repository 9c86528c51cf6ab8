import type { KustoType, TableSchema } from './kusto';

/**
 * The Azure Resource Graph tables the inventory queries (shared/rules/azure/resource-graph.ts), with the columns of
 * the Resource Graph table reference (learn.microsoft.com/azure/governance/resource-graph/reference/supported-tables-resources):
 * every ARM-shaped table has the same top-level columns, the resource's own fields sit in `properties`.
 * Resource Graph is not a Log Analytics workspace: these tables are analysed apart from WORKSPACE_TABLES.
 */
const ARM_COLUMNS: Readonly<Record<string, KustoType>> = {
  id: 'string',
  name: 'string',
  type: 'string',
  tenantId: 'string',
  kind: 'string',
  location: 'string',
  resourceGroup: 'string',
  subscriptionId: 'string',
  managedBy: 'string',
  sku: 'dynamic',
  plan: 'dynamic',
  properties: 'dynamic',
  tags: 'dynamic',
  identity: 'dynamic',
  zones: 'dynamic',
  extendedLocation: 'dynamic',
};

export const RESOURCE_GRAPH_TABLES: readonly TableSchema[] = [
  { name: 'resources', columns: ARM_COLUMNS },
  // Role assignments and definitions, classic administrators.
  { name: 'authorizationresources', columns: ARM_COLUMNS },
];
