import { parentResourceTrigger, sameResourceTrigger } from './triggers';
import type { ArmPostureTrigger } from './types';

/**
 * The resource types the posture rules read, with the ARM operations that change or delete them (spelled as
 * `data.operationName` spells them; matching ignores case). Rules of one type share these, so the Event Grid
 * filter and the routing cannot disagree between two rules about the same resource.
 */
export interface ArmResourceKind {
  /** Lower-case ARM type (Resource Graph's spelling). */
  type: string;
  triggers: readonly ArmPostureTrigger[];
  deleteOperationNames: readonly string[];
}

function kind(type: string, write: string, del: string, extra: readonly ArmPostureTrigger[] = []): ArmResourceKind {
  return { type, triggers: [sameResourceTrigger(type, [write]), ...extra], deleteOperationNames: [del] };
}

export const NETWORK_SECURITY_GROUP = kind(
  'microsoft.network/networksecuritygroups',
  'Microsoft.Network/networkSecurityGroups/write',
  'Microsoft.Network/networkSecurityGroups/delete',
  // A security rule is its own ARM resource: writing or deleting one changes what the NSG allows, so both
  // re-read the parent NSG (whose GET lists every rule) rather than the rule alone.
  [
    parentResourceTrigger('microsoft.network/networksecuritygroups/securityrules', 'microsoft.network/networksecuritygroups', [
      'Microsoft.Network/networkSecurityGroups/securityRules/write',
      'Microsoft.Network/networkSecurityGroups/securityRules/delete',
    ]),
  ],
);

export const STORAGE_ACCOUNT = kind('microsoft.storage/storageaccounts', 'Microsoft.Storage/storageAccounts/write', 'Microsoft.Storage/storageAccounts/delete');

export const KEY_VAULT = kind('microsoft.keyvault/vaults', 'Microsoft.KeyVault/vaults/write', 'Microsoft.KeyVault/vaults/delete');

export const ROLE_ASSIGNMENT = kind(
  'microsoft.authorization/roleassignments',
  'Microsoft.Authorization/roleAssignments/write',
  'Microsoft.Authorization/roleAssignments/delete',
);

export const CONTAINER_GROUP = kind(
  'microsoft.containerinstance/containergroups',
  'Microsoft.ContainerInstance/containerGroups/write',
  'Microsoft.ContainerInstance/containerGroups/delete',
);

export const CONTAINER_APP = kind('microsoft.app/containerapps', 'Microsoft.App/containerApps/write', 'Microsoft.App/containerApps/delete');
