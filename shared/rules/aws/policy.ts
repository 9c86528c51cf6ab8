import { exposureOf, parseCidr } from './cidr';
import { isObject, strings, type Json } from './record';

/**
 * IAM policy documents as CloudTrail records them: an object (S3's bucketPolicy), a JSON string (IAM's
 * policyDocument, Lambda's statement) or a URL-encoded JSON string (CreateRole's response). Only what the
 * rules need is read: statements, their principals, actions, resources and conditions.
 */

/** Policies are at most a few tens of kB; anything far larger is not a policy and is not parsed. */
const MAX_POLICY_CHARS = 200_000;

export function parsePolicyDocument(value: unknown): Json | undefined {
  if (isObject(value)) return value;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_POLICY_CHARS) return undefined;
  const attempt = (text: string): Json | undefined => {
    try {
      const parsed: unknown = JSON.parse(text);
      return isObject(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  };
  const direct = attempt(value);
  if (direct) return direct;
  if (!value.includes('%')) return undefined;
  try {
    return attempt(decodeURIComponent(value));
  } catch {
    return undefined;
  }
}

export function statementsOf(document: Json | undefined): Json[] {
  if (!document) return [];
  const statement = document.Statement ?? document.statement;
  if (Array.isArray(statement)) return statement.filter(isObject);
  return isObject(statement) ? [statement] : [];
}

export function isAllow(statement: Json): boolean {
  return statement.Effect === 'Allow';
}

/** Values of a policy element that may be a string or a list of strings. */
export function values(element: unknown): string[] {
  return strings(element);
}

/**
 * Whether the statement's principal is everyone: `"*"`, `{"AWS": "*"}` (or a list holding `*`), or an Allow
 * with NotPrincipal (everyone except a few).
 */
export function isPublicPrincipal(statement: Json): boolean {
  if (statement.NotPrincipal !== undefined) return true;
  const principal = statement.Principal;
  if (principal === '*') return true;
  if (!isObject(principal)) return false;
  return values(principal.AWS).includes('*') || values(principal.CanonicalUser).includes('*');
}

/** The AWS account ids a principal names (`123456789012`, `arn:aws:iam::123456789012:root`, role ARNs...). */
export function principalAccounts(statement: Json): string[] {
  const principal = statement.Principal;
  if (!isObject(principal)) return [];
  const out = new Set<string>();
  for (const entry of values(principal.AWS)) {
    const match = /^(?:arn:[a-z-]+:(?:iam|sts)::)?([0-9]{12})(?::|$)/.exec(entry);
    if (match) out.add(match[1]!);
  }
  return [...out];
}

/**
 * Condition keys that narrow an Allow to a known network, organisation, account or caller. Compared in
 * lower case: condition keys are case-insensitive (Lambda writes `AWS:SourceArn`).
 */
const LIMITING_KEYS = new Set([
  'aws:sourcevpce',
  'aws:sourcevpc',
  'aws:principalorgid',
  'aws:principalorgpaths',
  'aws:sourceorgid',
  'aws:sourceorgpaths',
  'aws:sourcearn',
  'aws:sourceaccount',
  'aws:sourceowner',
  'aws:principalaccount',
  'aws:principalarn',
]);

/**
 * Whether one of the statement's conditions limits who or where the Allow applies. An operator that
 * negates (`StringNotEquals`) or tolerates a missing key (`...IfExists`, `ForAllValues:`) limits nothing, nor does a `*`
 * value; `aws:SourceIp` limits when every range it allows is narrow or private.
 */
export function hasLimitingCondition(statement: Json): boolean {
  const condition = statement.Condition;
  if (!isObject(condition)) return false;
  for (const [operator, clauses] of Object.entries(condition)) {
    // ForAllValues is true when the key is missing, so it limits nothing either.
    if (!isObject(clauses) || /not|ifexists|forallvalues/i.test(operator) || /^null$/i.test(operator)) continue;
    for (const [key, value] of Object.entries(clauses)) {
      const keyName = key.toLowerCase();
      const given = values(value);
      if (given.length === 0 || given.some((v) => v === '*')) continue;
      if (LIMITING_KEYS.has(keyName)) return true;
      if (keyName === 'aws:sourceip' && /^ipaddress$/i.test(operator)) {
        const ranges = given.map((v) => parseCidr(v));
        if (ranges.every((range) => range !== undefined && exposureOf(range) === undefined)) return true;
      }
    }
  }
  return false;
}

/** Whether the statement allows every action on every resource (`*` or `*:*` on `*`). */
export function isAdminStatement(statement: Json): boolean {
  if (!isAllow(statement)) return false;
  const actions = values(statement.Action);
  const resources = values(statement.Resource);
  return actions.some((a) => a === '*' || a === '*:*') && resources.includes('*');
}
