import { stringAt } from '../arm';
import { STORAGE_ACCOUNT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/** Versions at or above TLS 1.2. The spec's "default interpretation is TLS 1.0" makes an absent value fail. */
const ACCEPTED = new Set(['tls1_2', 'tls1_3']);

export const storageMinimumTls: AzurePostureRule = {
  id: 'azure.storage.minimum-tls',
  title: 'Storage account accepts TLS versions below 1.2',
  severity: 'MEDIUM',
  cloud: 'azure',
  service: 'storage',
  category: 'posture',
  risk: 'TLS 1.0 and 1.1 have known weaknesses and are deprecated; clients that negotiate them can have requests, keys and SAS tokens exposed on the wire.',
  remediation: {
    text: 'Set minimumTlsVersion to TLS1_2 on the storage account, after checking the account logs for clients still using older versions.',
    url: 'https://learn.microsoft.com/azure/storage/common/transport-layer-security-configure-minimum-version',
  },
  resourceType: STORAGE_ACCOUNT.type,
  triggers: STORAGE_ACCOUNT.triggers,
  deleteOperationNames: STORAGE_ACCOUNT.deleteOperationNames,
  evaluate(resource) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const raw = resource.properties!.minimumTlsVersion;
    const version = stringAt(raw);
    if (version !== undefined && ACCEPTED.has(version.trim().toLowerCase())) return { status: 'evaluated', failures: [] };
    const absent = raw === undefined || raw === null;
    return { status: 'evaluated', failures: [{ subject: 'minimumTlsVersion', evidence: { minimumTlsVersion: asRead(raw), absent, ...(absent ? { treatedAs: 'TLS1_0' } : {}) } }] };
  },
};
