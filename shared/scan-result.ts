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

/**
 * A stored object (an S3 object, a blob). sha256, mime and size are known once its bytes were read;
 * an object skipped before that (too large, gone, excluded) has only what its event said.
 */
export const ObjectTargetSchema = z.strictObject({
  /** Bucket (S3) or `<account>/<container>` (Blob storage). */
  bucket: nonEmpty,
  /** The decoded key, as GetObject takes it. */
  key: nonEmpty.max(1024),
  versionId: nonEmpty.optional(),
  sha256: z.string().regex(/^[a-f0-9]{64}$/, 'sha256 must be 64 lowercase hex').optional(),
  /** From the first bytes (magic numbers), never from the name or the Content-Type header. */
  mime: nonEmpty.optional(),
  size: count.optional(),
  account: nonEmpty,
  region: nonEmpty,
});

export const TargetSchema = z.strictObject({
  cloud: z.enum(['aws', 'azure']),
  kind: z.enum(['lambda-zip', 'lambda-image', 'container-image', 'object']),
  image: ImageTargetSchema.optional(),
  function: FunctionTargetSchema.optional(),
  workload: WorkloadSchema.optional(),
  object: ObjectTargetSchema.optional(),
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

export const ScanResultSchema = z
  .strictObject({
    schemaVersion: z.literal(SCHEMA_VERSION),
    scanId: nonEmpty.max(256),
    /** SKIPPED: deliberately not scanned (too large, excluded type, gone); `skipped` says why. */
    status: z.enum(['COMPLETED', 'PARTIAL', 'FAILED', 'SKIPPED']),
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
    /** Why a SKIPPED result was not scanned (`OBJECT_TOO_LARGE`, `OBJECT_GONE`, `EXCLUDED_TYPE`...). */
    skipped: z.strictObject({ code: nonEmpty, reason: z.string() }).optional(),
    /**
     * The same content was scanned before: this result repeats that scan's findings for this target and
     * names where the original is (content-addressed dedupe: one scan, one record per target).
     */
    reusedScan: z.strictObject({ scanId: nonEmpty.max(256), resultKey: nonEmpty }).optional(),
  })
  .superRefine((result, ctx) => {
    if ((result.status === 'SKIPPED') !== (result.skipped !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['skipped'], message: 'a SKIPPED result, and only a SKIPPED one, says why in skipped' });
    }
    const object = result.target.object;
    if ((result.target.kind === 'object') !== (object !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['target', 'object'], message: 'target.object is present exactly when target.kind is object' });
    }
    if (object && (result.status === 'COMPLETED' || result.status === 'PARTIAL') && (!object.sha256 || !object.mime || object.size === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['target', 'object'], message: 'a scanned object names its sha256, mime and size' });
    }
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
