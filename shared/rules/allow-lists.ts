import { z } from 'zod';

/**
 * What the rules accept as normal, as typed config (Cloud Custodian style: data, not code). The defaults are
 * seed 002's allow-list (web ports open to the world are expected) plus what every rule needs to stay quiet on
 * ordinary setups.
 */

const port = z.number().int().min(0).max(65535);
const cidr = z
  .string()
  .regex(/^(([0-9]{1,3}\.){3}[0-9]{1,3}\/[0-9]{1,2}|[0-9a-fA-F:]+\/[0-9]{1,3})$/, 'an IPv4 or IPv6 CIDR such as 203.0.113.0/24');
const accountId = z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id');

export const AllowListsSchema = z.strictObject({
  publicPorts: z
    .array(port)
    .default([80, 443])
    .describe('Ports that may be open to the internet (0.0.0.0/0, ::/0, Internet, *) without a finding.'),
  adminPorts: z
    .array(port)
    .default([22, 3389, 5985, 5986])
    .describe('Remote administration ports: open to the internet they are CRITICAL, not HIGH.'),
  trustedCidrs: z
    .array(cidr)
    .default([])
    .describe('Source ranges treated as trusted even when broad (corporate egress ranges).'),
  trustedAccounts: z
    .array(accountId)
    .default([])
    .describe('AWS accounts that may be trusted by role trust policies, bucket and function policies (besides the own account and configured spokes).'),
  trustedPrincipals: z
    .array(z.string().min(1))
    .default([])
    .describe('Principal ARNs (AWS) or object ids / UPNs (Azure) whose IAM and role-assignment changes are expected (automation).'),
});

export type AllowLists = z.infer<typeof AllowListsSchema>;

export const DEFAULT_ALLOW_LISTS: AllowLists = AllowListsSchema.parse({});
