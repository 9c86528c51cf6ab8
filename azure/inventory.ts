import * as pulumi from '@pulumi/pulumi';
import * as authorization from '@pulumi/azure-native/authorization';
import * as storage from '@pulumi/azure-native/storage';
import type { AzureInventoryConfig } from '../shared/config';
import { inventoryTypeOf } from '../shared/rules/azure/resource-graph';
import { INVENTORY_QUEUES, INVENTORY_TABLES, RESOURCE_GRAPH_ACTIONS } from './names';
import { stableGuid } from './roles';

/**
 * The Azure inventory's infrastructure (`shipscan:azure.inventory.enabled`): its tables and queues in the
 * runtime storage account, and the read-only role that lets Resource Graph return rows to the Function App.
 *
 * Resource Graph returns only what the caller may read, so the app needs read access on every inventoried
 * subscription. Reader would do, but it reads everything (`*\/read`, including every resource type the rules never
 * look at); the custom role `shipscan inventory reader` holds exactly the `*\/read` actions of the configured
 * types, `Microsoft.Authorization/roleAssignments/read` (role assignments come from the `authorizationresources`
 * table), `Microsoft.ResourceGraph/resources/read` (submitting the query) and `Microsoft.Resources/subscriptions/read`
 * (the subscription itself, which Resource Graph resolves the query's scope against). One definition per
 * subscription, assignable only there (as the container reader is), assigned there to the app's identity.
 */

/** The role's actions for the configured types: each type's read, role assignments always, and the query itself. */
export function inventoryReadActions(types: readonly string[]): string[] {
  const reads = types.map((type) => {
    const entry = inventoryTypeOf(type);
    if (!entry) throw new Error(`shipscan:azure.inventory.types: ${type} is not a type the inventory collects`);
    return entry.readAction;
  });
  return [...new Set([...reads, 'Microsoft.Authorization/roleAssignments/read', ...RESOURCE_GRAPH_ACTIONS])].sort();
}

export interface AzureInventoryArgs {
  inventory: AzureInventoryConfig;
  /** The subscriptions to inventory: the configured ones, or the deployment's. */
  subscriptions: pulumi.Input<string>[];
  resourceGroupName: pulumi.Input<string>;
  accountName: pulumi.Input<string>;
  /** The Function App's system-assigned identity. */
  principalId: pulumi.Input<string>;
  stack: string;
}

export class AzureInventory extends pulumi.ComponentResource {
  readonly roleAssignmentIds: pulumi.Output<string>[];

  constructor(name: string, args: AzureInventoryArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:azure:AzureInventory', name, {}, opts);
    const parent = { parent: this };
    const { resourceGroupName, accountName, stack } = args;
    for (const tableName of INVENTORY_TABLES) new storage.Table(`${name}-${tableName.toLowerCase()}`, { resourceGroupName, accountName, tableName }, parent);
    for (const queueName of INVENTORY_QUEUES) new storage.Queue(`${name}-${queueName}`, { resourceGroupName, accountName, queueName }, parent);

    const actions = inventoryReadActions(args.inventory.types);
    this.roleAssignmentIds = args.subscriptions.map((subscription, index) => {
      const scope = pulumi.output(subscription).apply((id) => `/subscriptions/${id}`);
      const role = new authorization.RoleDefinition(
        `${name}-reader-${index}`,
        {
          roleDefinitionId: scope.apply((s) => stableGuid(`shipscan/${stack}/${s}/inventory-reader`)),
          // Custom role names are unique per tenant: the subscription keeps stacks and subscriptions apart.
          roleName: scope.apply((s) => `shipscan inventory reader (${stack}, ${s.split('/')[2]})`),
          description: 'Reads the resource types shipscan posture rules evaluate, through Azure Resource Graph (read-only).',
          roleType: 'CustomRole',
          permissions: [{ actions, notActions: [], dataActions: [], notDataActions: [] }],
          assignableScopes: [scope],
          scope,
        },
        parent,
      );
      return new authorization.RoleAssignment(
        `${name}-reader-${index}`,
        { principalId: args.principalId, principalType: 'ServicePrincipal', roleDefinitionId: role.id, scope, description: 'shipscan: Resource Graph inventory of this subscription' },
        { parent: role, deleteBeforeReplace: true },
      ).id;
    });
    this.registerOutputs({});
  }
}
