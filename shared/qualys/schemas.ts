import { z } from 'zod';

/**
 * Response shapes of the Container Security API, parsed defensively: epoch-ms and numbers arrive as
 * strings or numbers, fields go missing, and unknown fields are dropped (zod strips them).
 */

function toNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** A number, or a string holding one; anything else becomes undefined rather than failing the parse. */
const looseNumber = z.unknown().optional().transform(toNumber);
const looseString = z.unknown().optional().transform((v) => (typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined));
const looseStrings = z.unknown().optional().transform((v) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string' && x !== '') : []));
/** Drops keys whose value is undefined so parsed objects compare and serialise cleanly. */
function compact<T extends object>(value: T): T {
  for (const key of Object.keys(value) as (keyof T)[]) if (value[key] === undefined) delete value[key];
  return value;
}

function looseArray<T extends z.ZodType>(item: T) {
  return z.unknown().optional().transform((v) => {
    if (!Array.isArray(v)) return [] as z.output<T>[];
    const out: z.output<T>[] = [];
    for (const entry of v) {
      const parsed = item.safeParse(entry);
      if (parsed.success) out.push(parsed.data);
    }
    return out;
  });
}

export const SeverityCountsSchema = z.object({
  severity1Count: looseNumber.transform((n) => n ?? 0),
  severity2Count: looseNumber.transform((n) => n ?? 0),
  severity3Count: looseNumber.transform((n) => n ?? 0),
  severity4Count: looseNumber.transform((n) => n ?? 0),
  severity5Count: looseNumber.transform((n) => n ?? 0),
});
export type QualysSeverityCounts = z.output<typeof SeverityCountsSchema>;

const RepoSchema = z.object({ registry: looseString, repository: looseString, tag: looseString }).transform(compact);
const RepoDigestSchema = z.object({ registry: looseString, repository: looseString, digest: looseString }).transform(compact);

export const ImageSchema = z.object({
  sha: z.string().min(1),
  imageId: looseString,
  uuid: looseString,
  repo: looseArray(RepoSchema),
  repoDigests: looseArray(RepoDigestSchema),
  created: looseNumber,
  updated: looseNumber,
  lastScanned: looseNumber,
  size: looseNumber,
  scanStatus: looseString,
  scanTypes: looseStrings,
  scanErrorCode: looseString,
  vulnerabilities: SeverityCountsSchema.optional().catch(undefined),
  registryUuid: looseString,
  source: looseStrings,
}).transform(compact);
export type QualysImage = z.output<typeof ImageSchema>;

export const ImageListSchema = z.object({
  data: z.array(z.unknown()).nullish().transform((v) => v ?? []),
  count: looseNumber,
});

const SoftwareSchema = z.object({ name: looseString, version: looseString, fixVersion: looseString }).transform(compact);

export const VulnDetailSchema = z.object({
  qid: z.union([z.number(), z.string().min(1)]).transform(String),
  title: looseString,
  /**
   * As sent, made comparable: a number (numeric strings converted, out-of-range values such as 0 kept),
   * another non-empty string, or undefined. An unusable value does not drop the finding; mapping it to
   * the unified scale, with its fallback, is the reader's job (workflow.ts).
   */
  severity: z.unknown().optional().transform((v) => toNumber(v) ?? (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined)),
  cveids: looseStrings,
  cvss3Info: z.object({ baseScore: looseNumber }).optional().catch(undefined),
  software: looseArray(SoftwareSchema),
  firstFound: looseNumber,
  lastFound: looseNumber,
  typeDetected: looseString,
  category: looseString,
}).transform(compact);
export type QualysVulnDetail = z.output<typeof VulnDetailSchema>;

export const VulnListSchema = z.object({
  details: z.array(z.unknown()).nullish().transform((v) => v ?? []),
});

export const RegistrySchema = z.object({
  registryUuid: z.string().min(1),
  registryUri: z.string().min(1),
  registryType: looseString,
}).transform(compact);
export type QualysRegistry = z.output<typeof RegistrySchema>;

export const RegistryListSchema = z.object({
  data: z.array(z.unknown()).nullish().transform((v) => v ?? []),
  count: looseNumber,
});

export const ScheduleResponseSchema = z.union([
  z.object({ scheduleId: z.union([z.string().min(1), z.number()]).transform(String) }),
  z.object({ data: z.object({ scheduleId: z.union([z.string().min(1), z.number()]).transform(String) }) }).transform((v) => v.data),
]);
