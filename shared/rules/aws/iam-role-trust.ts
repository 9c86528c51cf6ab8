import type { ActivityDetector, CloudTrailRecord } from '../types';
import { arn, fail, isTrustedCaller, obj, pass, request, resource, response, str } from './record';
import { hasLimitingCondition, isAllow, isPublicPrincipal, parsePolicyDocument, principalAccounts, statementsOf } from './policy';

/**
 * A role whose trust policy lets everyone (`*`) or an account that is neither this account nor one of
 * allowLists.trustedAccounts assume it. UpdateAssumeRolePolicy's policyDocument is a JSON string; CreateRole
 * carries the request's assumeRolePolicyDocument and, URL-encoded, the response's role.assumeRolePolicyDocument.
 * The whole trust policy is one subject: the latest policy decides, a clean one resolves the finding.
 */

function trustDocument(record: CloudTrailRecord) {
  const req = request(record);
  if (record.eventName === 'UpdateAssumeRolePolicy') return parsePolicyDocument(req.policyDocument);
  return parsePolicyDocument(req.assumeRolePolicyDocument) ?? parsePolicyDocument(obj(response(record).role)?.assumeRolePolicyDocument);
}

export const iamRoleTrust: ActivityDetector = {
  id: 'aws.iam.role-trust-external',
  title: 'Role trusts everyone or an unknown account',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'iam',
  risk: 'Whoever the trust policy names can assume the role and act with its permissions: "*" means any AWS principal anywhere, a foreign account means everyone that account lets in.',
  remediation: {
    text: 'Trust only this account, the accounts in the trusted list, or named roles; require sts:ExternalId for third parties and aws:PrincipalOrgID for your organisation.',
    url: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html',
  },
  eventSource: 'iam.amazonaws.com',
  eventNames: ['CreateRole', 'UpdateAssumeRolePolicy', 'DeleteRole'],
  match(record, ctx) {
    const name = str(request(record).roleName);
    if (!name) return [];
    const role = resource('AWS::IAM::Role', arn(ctx, 'iam', `role/${name}`, { region: '' }), name);
    if (record.eventName === 'DeleteRole') return [pass(role, 'trust-policy', 'role deleted')];
    const document = trustDocument(record);
    if (!document) return [];
    const known = new Set([ctx.account, ...ctx.allowLists.trustedAccounts]);
    let everyone = false;
    const foreign = new Set<string>();
    for (const statement of statementsOf(document)) {
      if (!isAllow(statement) || hasLimitingCondition(statement)) continue;
      if (isPublicPrincipal(statement)) everyone = true;
      for (const account of principalAccounts(statement)) if (!known.has(account)) foreign.add(account);
    }
    if (!everyone && foreign.size === 0) return record.eventName === 'UpdateAssumeRolePolicy' ? [pass(role, 'trust-policy', 'trust policy no longer external')] : [];
    if (isTrustedCaller(record, ctx)) return [];
    const accounts = [...foreign].sort();
    return [
      fail(
        role,
        'trust-policy',
        { role: role.id, trustsEveryone: everyone, foreignAccounts: accounts },
        everyone
          ? { title: `Role ${name} can be assumed by any AWS principal`, severity: 'CRITICAL' }
          : { title: `Role ${name} trusts account${accounts.length > 1 ? 's' : ''} ${accounts.join(', ')}` },
      ),
    ];
  },
};
