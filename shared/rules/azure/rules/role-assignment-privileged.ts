import { parseArmId, stringAt, textAt } from '../arm';
import { ROLE_ASSIGNMENT } from '../resources';
import type { AzurePostureRule } from '../types';
import { asRead, propertiesMissing } from './common';

/**
 * Built-in roles that control a whole subscription or more, by the GUID that ends every roleDefinitionId
 * (`/subscriptions/<s>/providers/Microsoft.Authorization/roleDefinitions/<guid>`, or the tenant form
 * `/providers/Microsoft.Authorization/roleDefinitions/<guid>`). Reader and every other role are not listed.
 */
export const PRIVILEGED_ROLES: Readonly<Record<string, string>> = {
  '8e3af657-a8ff-443c-a75c-2fe8c4bcb635': 'Owner',
  'b24988ac-6180-42a0-ab88-20f7382dd24c': 'Contributor',
  '18d7d88d-d35e-4fb5-a5c3-7773c20a72d9': 'User Access Administrator',
};

export type BroadScope = 'tenant root' | 'management group' | 'subscription';

/** The scope kind when it is a subscription or wider; undefined for a resource group or a resource. */
export function broadScopeOf(scope: string): BroadScope | undefined {
  const trimmed = scope.trim();
  if (trimmed === '/') return 'tenant root';
  const parsed = parseArmId(trimmed);
  if (!parsed) return undefined;
  if (parsed.type === 'microsoft.resources/subscriptions') return 'subscription';
  if (parsed.type === 'microsoft.management/managementgroups') return 'management group';
  return undefined;
}

/** properties.scope, else the part of the assignment id before `/providers/Microsoft.Authorization/roleAssignments/`. */
function scopeOf(id: string, declared: string | undefined): string | undefined {
  if (declared) return declared;
  const at = id.toLowerCase().lastIndexOf('/providers/microsoft.authorization/roleassignments/');
  if (at === -1) return undefined;
  return at === 0 ? '/' : id.slice(0, at);
}

export function roleGuidOf(roleDefinitionId: string): string | undefined {
  const guid = roleDefinitionId.trim().replace(/\/+$/, '').split('/').pop()?.toLowerCase();
  return guid && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(guid) ? guid : undefined;
}

/**
 * Owner, Contributor or User Access Administrator at subscription, management-group or tenant-root scope.
 * Assignments to principals on the allow-list (trustedPrincipals, by object id) are expected automation.
 */
export const roleAssignmentPrivileged: AzurePostureRule = {
  id: 'azure.authorization.privileged-role-assignment',
  title: 'Privileged role assigned at subscription or management-group scope',
  severity: 'HIGH',
  cloud: 'azure',
  service: 'authorization',
  category: 'posture',
  risk: 'Owner, Contributor and User Access Administrator over a whole subscription or management group let one identity change or destroy everything in it (Owner and User Access Administrator can also grant themselves or others any access); a compromised principal with such a role is a full takeover.',
  remediation: {
    text: 'Assign the narrowest built-in role at the narrowest scope (a resource group or resource), use Privileged Identity Management for just-in-time elevation, and remove standing assignments that are not needed.',
    url: 'https://learn.microsoft.com/azure/role-based-access-control/best-practices',
  },
  resourceType: ROLE_ASSIGNMENT.type,
  triggers: ROLE_ASSIGNMENT.triggers,
  deleteOperationNames: ROLE_ASSIGNMENT.deleteOperationNames,
  evaluate(resource, { allowLists }) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const p = resource.properties!;
    const roleDefinitionId = textAt(p.roleDefinitionId);
    if (!roleDefinitionId) return { status: 'not-applicable', reason: 'properties.roleDefinitionId is missing' };
    const guid = roleGuidOf(roleDefinitionId);
    const role = guid ? PRIVILEGED_ROLES[guid] : undefined;
    const scope = scopeOf(resource.id, textAt(p.scope));
    const scopeKind = scope ? broadScopeOf(scope) : undefined;
    if (!role || !scopeKind) return { status: 'evaluated', failures: [] };
    const principalId = textAt(p.principalId);
    const trusted = principalId !== undefined && allowLists.trustedPrincipals.some((t) => t.toLowerCase() === principalId.toLowerCase());
    if (trusted) return { status: 'evaluated', failures: [] };
    return {
      status: 'evaluated',
      failures: [
        {
          subject: role,
          title: `${role} assigned at ${scopeKind} scope`,
          evidence: { role, roleDefinitionId, principalId: asRead(principalId), principalType: asRead(stringAt(p.principalType)), scope, scopeKind },
        },
      ],
    };
  },
};
