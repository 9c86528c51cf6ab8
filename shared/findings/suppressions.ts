import { z } from 'zod';
import type { Cloud, SuppressionRef } from './finding';

/**
 * Suppressions are data, not code (as Cloud Custodian filters are): a rule id, a resource pattern, a reason
 * and an expiry, from the stack config. A matching suppression turns a failure into SUPPRESSED without a
 * notification; once it expires the finding comes back as ACTIVE.
 */

const GLOB_HELP = 'a glob over the resource id: * matches any run of characters, ? one character';

export const SuppressionSchema = z.strictObject({
  ruleId: z.string().min(1).describe('Rule id, or a glob such as aws.s3.* or *.'),
  resource: z.string().min(1).max(2048).describe(`Resource pattern: ${GLOB_HELP} (ARN or ARM id; case-insensitive for Azure ids).`),
  reason: z.string().min(3).max(500).describe('Why the risk is accepted (shown on the finding).'),
  expiresAt: z.iso
    .datetime({ offset: true, error: 'an ISO 8601 date-time such as 2027-06-30T00:00:00Z' })
    .describe('When the suppression stops applying; a suppression never lasts forever.'),
});

export type Suppression = z.infer<typeof SuppressionSchema>;

function globToRegExp(glob: string, caseInsensitive: boolean): RegExp {
  const body = [...glob].map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[\\^$.+()|[\]{}]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`, caseInsensitive ? 'is' : 's');
}

export interface CompiledSuppression {
  ref: SuppressionRef;
  matches(ruleId: string, cloud: Cloud, resourceId: string, at: Date): boolean;
}

/** Compiles the configured suppressions once per process; matching is then a few regular expression tests. */
export function compileSuppressions(suppressions: readonly Suppression[]): CompiledSuppression[] {
  return suppressions.map((s) => {
    const rule = globToRegExp(s.ruleId, false);
    const exact = globToRegExp(s.resource, false);
    // ARM ids are case-insensitive; ARNs are not.
    const folded = globToRegExp(s.resource, true);
    const expires = Date.parse(s.expiresAt);
    return {
      ref: { reason: s.reason, resource: s.resource, expiresAt: s.expiresAt },
      matches(ruleId, cloud, resourceId, at) {
        if (at.getTime() >= expires) return false;
        if (!rule.test(ruleId)) return false;
        return (cloud === 'azure' ? folded : exact).test(resourceId);
      },
    };
  });
}

/** The first suppression that applies to a failure of `ruleId` on `resourceId` at `at`, if any. */
export function findSuppression(compiled: readonly CompiledSuppression[], ruleId: string, cloud: Cloud, resourceId: string, at: Date): SuppressionRef | undefined {
  return compiled.find((s) => s.matches(ruleId, cloud, resourceId, at))?.ref;
}
