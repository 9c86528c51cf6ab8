import { createHash } from 'node:crypto';

/** Built-in Azure role definition ids (the GUIDs are the same in every tenant). */
export const BUILT_IN_ROLES = {
  storageBlobDataOwner: 'b7e6dc6d-f1e8-4753-8033-0f276bb0955b',
  storageBlobDataContributor: 'ba92f5b4-2d11-453d-a403-e96b0029c9fe',
  storageBlobDataReader: '2a2b9908-6ea1-4ae2-8e65-a410df84e7d1',
  storageQueueDataContributor: '974c5e8b-45b9-4653-ba55-5f855dd0fb88',
  storageQueueDataMessageSender: 'c6a89b2d-59bc-44d0-9896-0f6e12d7b80a',
  storageTableDataContributor: '0a9a7e1f-b9d0-4cc4-a60d-0319b160aaa3',
  keyVaultSecretsUser: '4633458b-17de-408a-b874-0445c86b69e6',
  acrPull: '7f951dda-4ed3-4680-a7ca-43fe172d538d',
} as const;
export type BuiltInRole = keyof typeof BUILT_IN_ROLES;

/** Broad roles no assignment of this stack may use. */
export const FORBIDDEN_ROLES = {
  owner: '8e3af657-a8ff-443c-a75c-2fe8c4bcb635',
  contributor: 'b24988ac-6180-42a0-ab88-20f7382dd24c',
  reader: 'acdd72a7-3385-48ef-bd42-f606fba81ae7',
  userAccessAdministrator: '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9',
} as const;

export function roleDefinitionId(subscriptionId: string, guid: string): string {
  return `/subscriptions/${subscriptionId}/providers/Microsoft.Authorization/roleDefinitions/${guid}`;
}

/** A GUID derived from a seed: stable across runs, so names that must be GUIDs do not churn. */
export function stableGuid(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  // Shaped as a version-5-style UUID (variant bits set) so ARM accepts it as a GUID.
  const variant = ((parseInt(h.slice(16, 17), 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}
