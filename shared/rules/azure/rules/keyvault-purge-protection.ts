import { booleanAt } from '../arm';
import { KEY_VAULT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * `enablePurgeProtection` is absent until someone turns it on (ARM omits it rather than returning false, as
 * the 2023-07-01 Vaults_Get example shows) and can never be turned off again, so only `true` passes.
 */
export const keyVaultPurgeProtection: AzurePostureRule = {
  id: 'azure.keyvault.purge-protection-disabled',
  title: 'Key Vault purge protection is off',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'keyvault',
  category: 'posture',
  risk: 'Without purge protection a deleted vault or secret can be purged immediately, so a compromised administrator or a mistake destroys keys (and the data they encrypt) for good.',
  remediation: {
    text: 'Enable purge protection on the vault (az keyvault update --enable-purge-protection true); it needs soft delete, which is on by default.',
    url: 'https://learn.microsoft.com/azure/key-vault/general/soft-delete-overview',
  },
  resourceType: KEY_VAULT.type,
  triggers: KEY_VAULT.triggers,
  deleteOperationNames: KEY_VAULT.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const raw = resource.properties!.enablePurgeProtection;
    if (booleanAt(raw) === true) return { status: 'evaluated', failures: [] };
    return {
      status: 'evaluated',
      failures: [
        {
          subject: 'enablePurgeProtection',
          evidence: { enablePurgeProtection: asRead(raw), enableSoftDelete: asRead(resource.properties!.enableSoftDelete), softDeleteRetentionInDays: asRead(resource.properties!.softDeleteRetentionInDays) },
        },
      ],
    };
  },
};
