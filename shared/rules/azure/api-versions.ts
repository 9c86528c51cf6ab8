/**
 * The ARM api-version to GET each resource type the posture rules read with. Each is a stable (non-preview)
 * version whose folder in Azure/azure-rest-api-specs holds a GET example for the type, and whose response
 * carries every property the rules read:
 *
 * | type | version | spec example |
 * |---|---|---|
 * | networkSecurityGroups | 2024-05-01 | network/.../Microsoft.Network/stable/2024-05-01/examples/NetworkSecurityGroupGet.json |
 * | storageAccounts | 2023-05-01 | storage/.../Microsoft.Storage/stable/2023-05-01/examples/StorageAccountGetProperties.json |
 * | vaults (Key Vault) | 2023-07-01 | keyvault/.../Microsoft.KeyVault/stable/2023-07-01/examples/getVault.json |
 * | roleAssignments | 2022-04-01 | authorization/.../Microsoft.Authorization/stable/2022-04-01/examples/RoleAssignments_Get.json |
 * | containerGroups | 2023-05-01 | containerinstance/.../Microsoft.ContainerInstance/stable/2023-05-01/containerInstance.json |
 * | containerApps | 2024-03-01 | app/.../Microsoft.App/stable/2024-03-01/examples/ContainerApps_Get.json (also the corpus sample) |
 *
 * Keys are lower-case ARM types; look a type up with `apiVersionFor`, which ignores case.
 */
export const ARM_API_VERSIONS: Readonly<Record<string, string>> = {
  'microsoft.network/networksecuritygroups': '2024-05-01',
  'microsoft.storage/storageaccounts': '2023-05-01',
  'microsoft.keyvault/vaults': '2023-07-01',
  'microsoft.authorization/roleassignments': '2022-04-01',
  'microsoft.containerinstance/containergroups': '2023-05-01',
  'microsoft.app/containerapps': '2024-03-01',
};

export function apiVersionFor(resourceType: string): string | undefined {
  return ARM_API_VERSIONS[resourceType.toLowerCase()];
}
