import { objectAt, sameText, stringAt } from '../arm';
import { STORAGE_ACCOUNT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * Reachable from every network: public network access on (`Enabled`, or unset, which ARM treats as enabled
 * unless a network security perimeter decides) and the firewall's default action `Allow` (also the default
 * when `networkAcls` is absent). `Disabled` and `SecuredByPerimeter` pass, as does a `Deny` default action
 * (the firewall's IP and virtual network rules then decide).
 */
export const storagePublicNetworkAccess: AzurePostureRule = {
  id: 'azure.storage.public-network-access',
  title: 'Storage account is reachable from all networks',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'storage',
  category: 'posture',
  risk: 'With the firewall open to all networks, anyone who obtains a key, a SAS token or an over-broad role can reach the data from anywhere on the internet.',
  remediation: {
    text: 'Set the storage firewall default action to Deny and allow only the virtual networks, IP ranges or private endpoints that need access (or disable public network access).',
    url: 'https://learn.microsoft.com/azure/storage/common/storage-network-security',
  },
  resourceType: STORAGE_ACCOUNT.type,
  triggers: STORAGE_ACCOUNT.triggers,
  deleteOperationNames: STORAGE_ACCOUNT.deleteOperationNames,
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
