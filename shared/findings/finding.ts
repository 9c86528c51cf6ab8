import { createHash } from 'node:crypto';
import { z } from 'zod';
import { SEVERITIES } from '../severity';

/**
 * Finding v1: one risk shipscan keeps track of, whatever saw it (a risky call, a resource configuration, a
 * scanned artifact, a vulnerability in a workload). Every capability ends here, with one lifecycle
 * (lifecycle.ts) and one store per cloud.
 */
export const FINDING_SCHEMA = 'shipscan.finding/v1' as const;

export const FINDING_CATEGORIES = ['vulnerability', 'posture', 'activity', 'artifact'] as const;
export const FINDING_STATES = ['ACTIVE', 'RESOLVED', 'SUPPRESSED'] as const;
export const FINDING_TRIGGERS = ['event', 'schedule', 'scan', 'manual'] as const;
export const CLOUDS = ['aws', 'azure'] as const;

export type FindingCategory = (typeof FINDING_CATEGORIES)[number];
export type FindingState = (typeof FINDING_STATES)[number];
export type FindingTrigger = (typeof FINDING_TRIGGERS)[number];
export type Cloud = (typeof CLOUDS)[number];

/** Serialised evidence is kept small: findings are read by people and sent in emails. */
export const EVIDENCE_MAX_BYTES = 4096;

const nonEmpty = z.string().min(1);
const isoTime = z.iso.datetime({ offset: true });

export const FindingScopeSchema = z
  .strictObject({
    account: z.string().regex(/^[0-9]{12}$/, 'a 12-digit AWS account id').optional(),
    subscription: nonEmpty.optional(),
    region: nonEmpty.optional(),
  })
  .refine((s) => (s.account === undefined) !== (s.subscription === undefined), {
    message: 'a scope names exactly one of account (AWS) or subscription (Azure)',
  });

export const FindingResourceSchema = z.strictObject({
  /** `AWS::EC2::SecurityGroup`, `microsoft.network/networksecuritygroups`, `lambda`, `container-image`... */
  type: nonEmpty,
  /** ARN or ARM resource id (or the workload id a scanned image runs in). */
  id: nonEmpty,
  name: nonEmpty,
});

export const RemediationSchema = z.strictObject({ text: nonEmpty, url: z.url().optional() });

export const FindingSourceSchema = z.strictObject({
  trigger: z.enum(FINDING_TRIGGERS),
  eventId: nonEmpty.optional(),
  eventName: nonEmpty.optional(),
  /** Principal ARN (AWS) or UPN / object id (Azure) that made the call. */
  actor: nonEmpty.optional(),
  sourceIp: nonEmpty.optional(),
  /** The scan (ScanResult.scanId) or inventory run that last saw the finding. */
  scanId: nonEmpty.optional(),
  runId: nonEmpty.optional(),
});

export const VulnerabilityDetailSchema = z.strictObject({
  qid: nonEmpty.optional(),
  cves: z.array(nonEmpty),
  package: nonEmpty.optional(),
  installedVersion: z.string().optional(),
  fixedVersion: z.string().optional(),
  cvss3: z.number().min(0).max(10).optional(),
});

export const SuppressionRefSchema = z.strictObject({
  reason: nonEmpty,
  /** The suppression's resource pattern, so a reader sees which entry of the config matched. */
  resource: nonEmpty,
  expiresAt: isoTime.optional(),
});

const EvidenceSchema = z
  .record(z.string(), z.unknown())
  .refine((evidence) => Buffer.byteLength(JSON.stringify(evidence), 'utf8') <= EVIDENCE_MAX_BYTES, {
    message: `evidence is at most ${EVIDENCE_MAX_BYTES} bytes of JSON (use boundedEvidence)`,
  });

export const FindingSchema = z.strictObject({
  schema: z.literal(FINDING_SCHEMA),
  /** sha256(cloud|scope|resourceId|ruleId|subject), hex: the same risk always has the same id. */
  id: z.string().regex(/^[a-f0-9]{64}$/, 'a sha256 hex digest'),
  ruleId: nonEmpty,
  category: z.enum(FINDING_CATEGORIES),
  severity: z.enum(SEVERITIES),
  title: nonEmpty,
  cloud: z.enum(CLOUDS),
  scope: FindingScopeSchema,
  resource: FindingResourceSchema,
  /** What within the resource the finding is about (a port range, a CVE in a package, an event id); may be empty. */
  subject: z.string(),
  state: z.enum(FINDING_STATES),
  firstSeenAt: isoTime,
  lastSeenAt: isoTime,
  resolvedAt: isoTime.optional(),
  /** Why the finding was resolved: `fixed`, `resource deleted`, `not in the latest scan`... */
  resolvedReason: nonEmpty.optional(),
  reopenCount: z.number().int().nonnegative(),
  suppressedBy: SuppressionRefSchema.optional(),
  evidence: EvidenceSchema,
  remediation: RemediationSchema,
  source: FindingSourceSchema,
  vulnerability: VulnerabilityDetailSchema.optional(),
});

export type Finding = z.infer<typeof FindingSchema>;
export type FindingScope = z.infer<typeof FindingScopeSchema>;
export type FindingResource = z.infer<typeof FindingResourceSchema>;
export type FindingSource = z.infer<typeof FindingSourceSchema>;
export type Remediation = z.infer<typeof RemediationSchema>;
export type VulnerabilityDetail = z.infer<typeof VulnerabilityDetailSchema>;
export type SuppressionRef = z.infer<typeof SuppressionRefSchema>;

export class FindingError extends Error {
  override readonly name = 'FindingError';
  constructor(readonly issues: readonly { path: string; message: string }[]) {
    super(`invalid Finding v1:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/** Validates untrusted JSON (a stored item, a message) as Finding v1; the error lists every bad path. */
export function parseFinding(json: unknown): Finding {
  const parsed = FindingSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new FindingError(parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })));
}

/** `account/region` or `subscription`: the scope as one string, for ids and store keys. */
export function scopeKey(scope: FindingScope): string {
  const owner = scope.account ?? scope.subscription ?? '';
  return scope.region ? `${owner}/${scope.region}` : owner;
}

export interface FindingIdentity {
  cloud: Cloud;
  scope: FindingScope;
  resourceId: string;
  ruleId: string;
  subject: string;
}

/**
 * The deterministic id. Parts are joined with `|` after escaping `\` and `|`, so no two identities share a
 * preimage (a resource id containing `|` cannot pose as another rule).
 */
export function findingId(identity: FindingIdentity): string {
  const escape = (part: string) => part.replace(/\\/g, '\\\\').replace(/\|/g, '\\|');
  const parts = [identity.cloud, scopeKey(identity.scope), identity.resourceId, identity.ruleId, identity.subject].map(escape);
  return createHash('sha256').update(parts.join('|'), 'utf8').digest('hex');
}

/**
 * Where a finding lives in a store: the partition holds every finding of one resource (so a deleted resource's
 * findings are one query away), the sort key tells rule and subject apart.
 */
export interface FindingKey {
  partition: string;
  sort: string;
}

export function resourceKey(cloud: Cloud, scope: FindingScope, resourceId: string): string {
  return `${cloud}|${scopeKey(scope)}|${resourceId}`;
}

export function findingKey(identity: FindingIdentity): FindingKey {
  return { partition: resourceKey(identity.cloud, identity.scope, identity.resourceId), sort: `${identity.ruleId}#${identity.subject}` };
}

export function identityOf(finding: Pick<Finding, 'cloud' | 'scope' | 'resource' | 'ruleId' | 'subject'>): FindingIdentity {
  return { cloud: finding.cloud, scope: finding.scope, resourceId: finding.resource.id, ruleId: finding.ruleId, subject: finding.subject };
}
