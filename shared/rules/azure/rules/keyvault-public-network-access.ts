import { objectAt, sameText, stringAt } from '../arm';
import { KEY_VAULT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * A vault reachable from all networks: public network access `Enabled` (the default when unset) and the
 * firewall's default action `Allow`, or no `networkAcls` at all (the Vaults_Get example of 2023-07-01 has
 * none: that vault accepts every network). `Disabled` passes, as does a `Deny` default action.
 */
export const keyVaultPublicNetworkAccess: AzurePostureRule = {
  id: 'azure.keyvault.public-network-access',
  title: 'Key Vault is reachable from all networks',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'keyvault',
  category: 'posture',
  risk: 'Secrets, keys and certificates are then one stolen token away from anyone on the internet; network rules or private endpoints are the second line when an identity is compromised.',
  remediation: {
    text: 'Set the vault firewall default action to Deny and allow only the virtual networks, IP ranges or private endpoints that need it (or disable public network access); keep "Allow trusted Microsoft services" only if needed.',
    url: 'https://learn.microsoft.com/azure/key-vault/general/network-security',
  },
  resourceType: KEY_VAULT.type,
  triggers: KEY_VAULT.triggers,
  deleteOperationNames: KEY_VAULT.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const p = resource.properties!;
    const publicNetworkAccess = stringAt(p.publicNetworkAccess);
    const publicOn = publicNetworkAccess === undefined || sameText(publicNetworkAccess, 'Enabled');
    const acls = objectAt(p.networkAcls);
    const defaultAction = stringAt(acls?.defaultAction);
    const allowAll = defaultAction === undefined || sameText(defaultAction, 'Allow');
    if (!publicOn || !allowAll) return { status: 'evaluated', failures: [] };
    return {
      status: 'evaluated',
      failures: [
        {
          subject: 'publicNetworkAccess',
          evidence: { publicNetworkAccess: asRead(p.publicNetworkAccess), networkAclsDefaultAction: asRead(acls?.defaultAction), networkAclsPresent: acls !== undefined },
        },
      ],
    };
  },
};
