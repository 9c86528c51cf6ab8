import { z } from 'zod';
import { SEVERITIES } from './severity';

/**
 * ScanResult v1: the one result document both clouds write. Every boundary that reads one
 * (queue messages, blobs, S3 objects, engine output) goes through parseScanResult.
 */
export const SCHEMA_VERSION = 1 as const;

const nonEmpty = z.string().min(1);
const count = z.number().int().nonnegative();
const isoTime = z.iso.datetime({ offset: true });

export const SeveritySchema = z.enum(SEVERITIES);

export const CountsSchema = z
  .strictObject({
    critical: count,
    high: count,
    medium: count,
    low: count,
    informational: count,
    total: count,
  })
  .refine((c) => c.total === c.critical + c.high + c.medium + c.low + c.informational, {
    message: 'total must equal critical + high + medium + low + informational',
    path: ['total'],
  });

export const ImageTargetSchema = z.strictObject({
  registry: nonEmpty,
  repository: nonEmpty,
  tag: nonEmpty.optional(),
  digest: z.string().regex(/^sha256:[a-f0-9]{64}$/, 'digest must be sha256:<64 lowercase hex>').optional(),
  reference: nonEmpty,
});

export const FunctionTargetSchema = z.strictObject({
  arn: nonEmpty,
  name: nonEmpty,
  codeSha256: nonEmpty.optional(),
  runtime: nonEmpty.optional(),
  packageType: z.enum(['Zip', 'Image']),
});

/**
 * What the scanned content belongs to. `registry`: an image pushed to a registry, scanned before anything
 * deploys it; `resourceId` names the registry repository (`<registry id>/repositories/<repository>`).
 */
export const WorkloadSchema = z.strictObject({
  resourceId: nonEmpty,
  type: z.enum(['lambda', 'aci', 'aca', 'registry']),
  account: nonEmpty,
  region: nonEmpty,
  resourceGroup: nonEmpty.optional(),
});

export const TargetSchema = z.strictObject({
  cloud: z.enum(['aws', 'azure']),
  kind: z.enum(['lambda-zip', 'lambda-image', 'container-image']),
  image: ImageTargetSchema.optional(),
  function: FunctionTargetSchema.optional(),
  workload: WorkloadSchema.optional(),
});

export const VulnerabilitySchema = z.strictObject({
  id: nonEmpty,
  cves: z.array(nonEmpty),
  title: z.string(),
  severity: SeveritySchema,
  sourceSeverity: z.union([z.string(), z.number()]),
  package: nonEmpty.optional(),
  installedVersion: z.string().optional(),
  fixedVersion: z.string().optional(),
  cvss3: z.number().min(0).max(10).optional(),
});

export const SecretFindingSchema = z.strictObject({
  id: nonEmpty,
  title: z.string(),
  severity: SeveritySchema.optional(),
  location: z.string().optional(),
});

export const ScanResultSchema = z.strictObject({
  schemaVersion: z.literal(SCHEMA_VERSION),
  scanId: nonEmpty.max(256),
  status: z.enum(['COMPLETED', 'PARTIAL', 'FAILED']),
  target: TargetSchema,
  engine: z.strictObject({ name: z.enum(['qscanner', 'qualys-csapi']), version: nonEmpty.optional() }),
  startedAt: isoTime,
  completedAt: isoTime,
  counts: CountsSchema,
  vulnerabilities: z.array(VulnerabilitySchema),
  secrets: z.strictObject({ count, findings: z.array(SecretFindingSchema) }).optional(),
  compliance: z.strictObject({ passed: count, failed: count }).optional(),
  /** QScanner policy evaluation (exit codes 42/43); absent when no policy was evaluated. */
  policy: z.strictObject({ verdict: z.enum(['ALLOW', 'DENY', 'AUDIT']) }).optional(),
  error: z.strictObject({ code: nonEmpty, message: z.string(), retryable: z.boolean() }).optional(),
  /** Small engine fields with no place above; writers keep it under a few kilobytes. */
  raw: z.record(z.string(), z.unknown()).optional(),
});

export type ScanResult = z.infer<typeof ScanResultSchema>;
export type ScanTarget = ScanResult['target'];
export type Vulnerability = z.infer<typeof VulnerabilitySchema>;
export type ScanStatus = ScanResult['status'];

export class ScanResultError extends Error {
  override readonly name = 'ScanResultError';
  constructor(readonly issues: readonly { path: string; message: string }[]) {
    super(`invalid ScanResult v1:\n${issues.map((i) => `  - ${i.path || '(root)'}: ${i.message}`).join('\n')}`);
  }
}

/** Validates untrusted JSON as ScanResult v1; the error lists every bad path. */
export function parseScanResult(json: unknown): ScanResult {
  const parsed = ScanResultSchema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw new ScanResultError(
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
