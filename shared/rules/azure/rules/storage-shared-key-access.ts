import { booleanAt } from '../arm';
import { STORAGE_ACCOUNT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * `allowSharedKeyAccess`: the storage REST spec documents "The default value is null, which is equivalent to
 * true", so absent fails like an explicit `true` (and Azure Policy's audit flags both). Only `false` passes.
 */
export const storageSharedKeyAccess: AzurePostureRule = {
  id: 'azure.storage.shared-key-access',
  title: 'Storage account allows Shared Key (account key) authorization',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'storage',
  category: 'posture',
  risk: 'An account key is a password to every object and the configuration of the account: it cannot be scoped, leaks through connection strings and service SAS tokens, and leaves no identity in the logs.',
  remediation: {
    text: 'Move clients to Microsoft Entra ID (managed identities, user delegation SAS), then set allowSharedKeyAccess to false.',
    url: 'https://learn.microsoft.com/azure/storage/common/shared-key-authorization-prevent',
  },
  resourceType: STORAGE_ACCOUNT.type,
  triggers: STORAGE_ACCOUNT.triggers,
  deleteOperationNames: STORAGE_ACCOUNT.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const raw = resource.properties!.allowSharedKeyAccess;
    if (booleanAt(raw) === false) return { status: 'evaluated', failures: [] };
    const absent = raw === undefined || raw === null;
    return { status: 'evaluated', failures: [{ subject: 'allowSharedKeyAccess', evidence: { allowSharedKeyAccess: asRead(raw), absent } }] };
  },
};
