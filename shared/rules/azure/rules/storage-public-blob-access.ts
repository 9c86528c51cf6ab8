import { booleanAt } from '../arm';
import { STORAGE_ACCOUNT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * `allowBlobPublicAccess` lets container owners turn on anonymous reads. Only an explicit `false` passes:
 * the property is nullable, the API docs disagree about what null means (older versions: "default
 * interpretation is true", newer: "false"), accounts created before the 2023 default change still behave as
 * allowed when it is unset, and Azure Policy's built-in audit (4fa4b6c0-31ca-4c0d-b10d-24b96f62a751) flags
 * everything that is not `false`. An absent value fails with `absent: true` in the evidence, so a reader can
 * tell it from an explicit `true`.
 */
export const storagePublicBlobAccess: AzurePostureRule = {
  id: 'azure.storage.public-blob-access',
  title: 'Storage account allows anonymous (public) blob access',
  severity: 'HIGH',
  cloud: 'azure',
  service: 'storage',
  category: 'posture',
  risk: 'Any container in the account can be switched to anonymous read, after which anyone with the URL can list or download its blobs without credentials; misconfigured containers are a common source of data leaks.',
  remediation: {
    text: 'Set allowBlobPublicAccess to false on the storage account (Configuration > Allow Blob anonymous access: Disabled), after checking that no client relies on anonymous reads.',
    url: 'https://learn.microsoft.com/azure/storage/blobs/anonymous-read-access-prevent',
  },
  resourceType: STORAGE_ACCOUNT.type,
  triggers: STORAGE_ACCOUNT.triggers,
  deleteOperationNames: STORAGE_ACCOUNT.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const raw = resource.properties!.allowBlobPublicAccess;
    if (booleanAt(raw) === false) return { status: 'evaluated', failures: [] };
    const absent = raw === undefined || raw === null;
    return {
      status: 'evaluated',
      failures: [
        {
          subject: 'allowBlobPublicAccess',
          ...(absent ? { title: 'Storage account does not disallow anonymous blob access (allowBlobPublicAccess unset)' } : {}),
          evidence: { allowBlobPublicAccess: asRead(raw), absent },
        },
      ],
    };
  },
};
