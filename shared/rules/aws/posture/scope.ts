import type { PostureResource } from './types';

/**
 * Per-rule scope from `shipscan:aws.inventory.ruleScopes` (seed 001's "filters by policy scope
 * (all/account/tags)"): a rule runs on a resource when the resource's account is listed (or no accounts are)
 * and it carries every listed tag with the listed value (`*` accepts any value).
 */
export interface RuleScope {
  accounts?: readonly string[];
  tags?: Readonly<Record<string, string>>;
}

export function inScope(scope: RuleScope | undefined, resource: Pick<PostureResource, 'account' | 'tags'>): boolean {
  if (!scope) return true;
  if (scope.accounts && scope.accounts.length > 0 && !scope.accounts.includes(resource.account)) return false;
  for (const [key, value] of Object.entries(scope.tags ?? {})) {
    const actual = resource.tags[key];
    if (actual === undefined || (value !== '*' && actual !== value)) return false;
  }
  return true;
}
