import type { SimResource } from './server';

/**
 * What the local Resource Graph holds: three subscriptions (prod, staging, sandbox) with resources of every
 * type the Azure posture rules read, a known set of them misconfigured, shaped as Resource Graph returns them
 * (lower-case types, ARM GET properties). `EXPECTED_FAILURES` lists what the rules must find, so tests and the
 * demo can tell a missed finding from a quiet one.
 */

export const DEMO_SUBSCRIPTIONS = {
  prod: '1b1e2d3c-5f60-4a7b-8c9d-0e1f2a3b4c01',
  staging: '1b1e2d3c-5f60-4a7b-8c9d-0e1f2a3b4c02',
  sandbox: '1b1e2d3c-5f60-4a7b-8c9d-0e1f2a3b4c03',
} as const;

const OWNER = '8e3af657-a8ff-443c-a75c-2fe8c4bcb635';
const READER = 'acdd72a7-3385-48ef-bd42-f606fba81ae7';

function rid(subscription: string, group: string, provider: string, name: string): string {
  return `/subscriptions/${subscription}/resourceGroups/${group}/providers/${provider}/${name}`;
}

export function storageAccount(subscription: string, group: string, name: string, properties: Record<string, unknown>, tags?: Record<string, string>): SimResource {
  return {
    id: rid(subscription, group, 'Microsoft.Storage/storageAccounts', name),
    name,
    type: 'microsoft.storage/storageaccounts',
    location: 'westeurope',
    subscriptionId: subscription,
    ...(tags ? { tags } : {}),
    properties: { provisioningState: 'Succeeded', supportsHttpsTrafficOnly: true, ...properties },
  };
}

/** Storage properties every storage rule passes. */
export const COMPLIANT_STORAGE = { allowBlobPublicAccess: false, allowSharedKeyAccess: false, minimumTlsVersion: 'TLS1_2', publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Deny', bypass: 'AzureServices' } };

function nsg(subscription: string, group: string, name: string, rules: { name: string; port: string; source: string; priority: number }[]): SimResource {
  return {
    id: rid(subscription, group, 'Microsoft.Network/networkSecurityGroups', name),
    name,
    type: 'microsoft.network/networksecuritygroups',
    location: 'westeurope',
    subscriptionId: subscription,
    properties: {
      provisioningState: 'Succeeded',
      securityRules: rules.map((r) => ({
        name: r.name,
        id: `${rid(subscription, group, 'Microsoft.Network/networkSecurityGroups', name)}/securityRules/${r.name}`,
        properties: { protocol: 'Tcp', sourcePortRange: '*', destinationPortRange: r.port, sourceAddressPrefix: r.source, destinationAddressPrefix: '*', access: 'Allow', priority: r.priority, direction: 'Inbound' },
      })),
      defaultSecurityRules: [],
    },
  };
}

function vault(subscription: string, group: string, name: string, properties: Record<string, unknown>): SimResource {
  return {
    id: rid(subscription, group, 'Microsoft.KeyVault/vaults', name),
    name,
    type: 'microsoft.keyvault/vaults',
    location: 'westeurope',
    subscriptionId: subscription,
    properties: { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47', sku: { family: 'A', name: 'standard' }, enableRbacAuthorization: true, enableSoftDelete: true, ...properties },
  };
}

function roleAssignment(subscription: string, guid: string, role: string, principalType: string): SimResource {
  const id = `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleAssignments/${guid}`;
  return {
    id,
    name: guid,
    type: 'microsoft.authorization/roleassignments',
    subscriptionId: subscription,
    properties: {
      roleDefinitionId: `/subscriptions/${subscription}/providers/Microsoft.Authorization/roleDefinitions/${role}`,
      principalId: `a1b2c3d4-0000-4000-8000-${guid.slice(-12)}`,
      principalType,
      scope: `/subscriptions/${subscription}`,
    },
  };
}

export function seedResources(): SimResource[] {
  const { prod, staging, sandbox } = DEMO_SUBSCRIPTIONS;
  return [
    // prod: the misconfigured estate.
    nsg(prod, 'web-rg', 'web-nsg', [
      { name: 'allow-https', port: '443', source: 'Internet', priority: 100 },
      { name: 'allow-ssh', port: '22', source: '*', priority: 110 },
    ]),
    storageAccount(prod, 'data-rg', 'shipscanlogs01', { allowBlobPublicAccess: true, allowSharedKeyAccess: false, minimumTlsVersion: 'TLS1_2', publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Deny' } }, { env: 'prod' }),
    storageAccount(prod, 'data-rg', 'shipscanorders01', { ...COMPLIANT_STORAGE, minimumTlsVersion: 'TLS1_0' }, { env: 'prod' }),
    storageAccount(prod, 'data-rg', 'shipscansecure01', COMPLIANT_STORAGE, { env: 'prod' }),
    vault(prod, 'sec-rg', 'kv-payments', { publicNetworkAccess: 'Enabled', networkAcls: { defaultAction: 'Allow' } }),
    roleAssignment(prod, '0d2f0a6e-41c1-4a55-9b0e-6b1a2f3c4d01', OWNER, 'User'),
    roleAssignment(prod, '0d2f0a6e-41c1-4a55-9b0e-6b1a2f3c4d02', READER, 'Group'),
    {
      id: rid(prod, 'apps-rg', 'Microsoft.ContainerInstance/containerGroups', 'orders-aci'),
      name: 'orders-aci',
      type: 'microsoft.containerinstance/containergroups',
      location: 'westeurope',
      subscriptionId: prod,
      properties: {
        osType: 'Linux',
        containers: [{ name: 'orders', properties: { image: 'shipscandemo.azurecr.io/shop/orders-api:1.4.2', ports: [{ port: 80 }, { port: 22 }] } }],
        ipAddress: { type: 'Public', ip: '20.0.0.4', ports: [{ protocol: 'TCP', port: 80 }, { protocol: 'TCP', port: 22 }] },
      },
    },
    {
      id: rid(prod, 'apps-rg', 'Microsoft.App/containerApps', 'web-aca'),
      name: 'web-aca',
      type: 'microsoft.app/containerapps',
      location: 'westeurope',
      subscriptionId: prod,
      properties: { configuration: { ingress: { external: true, allowInsecure: true, targetPort: 8080, transport: 'auto', fqdn: 'web-aca.example.azurecontainerapps.io' } }, template: { containers: [{ name: 'web', image: 'shipscandemo.azurecr.io/shop/web-frontend:2.0.0' }] } },
    },
    // staging: everything in policy.
    nsg(staging, 'web-rg', 'web-nsg', [{ name: 'allow-https', port: '443', source: 'Internet', priority: 100 }]),
    storageAccount(staging, 'data-rg', 'shipscanstage01', COMPLIANT_STORAGE),
    vault(staging, 'sec-rg', 'kv-staging', { enablePurgeProtection: true, publicNetworkAccess: 'Disabled', networkAcls: { defaultAction: 'Deny' } }),
    roleAssignment(staging, '0d2f0a6e-41c1-4a55-9b0e-6b1a2f3c4d03', READER, 'ServicePrincipal'),
    // sandbox: one account open to anonymous reads.
    storageAccount(sandbox, 'play-rg', 'sandboxdata', { ...COMPLIANT_STORAGE, allowBlobPublicAccess: true }),
  ];
}

/** The findings the seed must produce: `ruleId resource-name subject`. */
export const EXPECTED_FAILURES: readonly string[] = [
  'azure.network.nsg-open-admin-port web-nsg allow-ssh',
  'azure.storage.public-blob-access shipscanlogs01 allowBlobPublicAccess',
  'azure.storage.minimum-tls shipscanorders01 minimumTlsVersion',
  'azure.keyvault.public-network-access kv-payments publicNetworkAccess',
  'azure.keyvault.purge-protection-disabled kv-payments enablePurgeProtection',
  'azure.authorization.privileged-role-assignment 0d2f0a6e-41c1-4a55-9b0e-6b1a2f3c4d01 Owner',
  'azure.containerinstance.public-port orders-aci TCP/22',
  'azure.containerapps.insecure-ingress web-aca ingress',
  'azure.storage.public-blob-access sandboxdata allowBlobPublicAccess',
];

/** `count` compliant storage accounts in one subscription (paging past 1000 rows). */
export function syntheticStorageAccounts(subscription: string, count: number, group = 'bulk-rg'): SimResource[] {
  return Array.from({ length: count }, (_, i) => storageAccount(subscription, group, `bulk${String(i).padStart(6, '0')}`, COMPLIANT_STORAGE));
}
