import { z } from 'zod';
import { toSeverity, type Severity } from '../severity';
import type { Vulnerability } from '../scan-result';

/**
 * Reads QScanner's `*-Report.sarif.json` (SARIF 2.1.0) and `*-ScanResult.json` metadata. Severity
 * comes from the result's `properties.severity`, else the rule's `properties.severity` (by ruleId),
 * else the SARIF `level` (error -> 5, warning -> 3, note -> 2), as ../reference/qualys.md documents.
 * A result without a level has SARIF 2.1.0's default: its rule's `defaultConfiguration.level`, else
 * "warning" (-> 3, MEDIUM), so a finding missing every severity is still counted, not the report lost.
 */

export class QScannerReportError extends Error {
  override readonly name = 'QScannerReportError';
  constructor(readonly file: string, reason: string) {
    super(`cannot read QScanner report ${file}: ${reason}`);
  }
}

const severityValue = z.union([z.number(), z.string()]).optional().catch(undefined);
const stringList = z.array(z.string()).optional().catch(undefined);
const optString = z.string().optional().catch(undefined);
const optNumber = z.coerce.number().min(0).max(10).optional().catch(undefined);

const PropertiesSchema = z
  .object({
    severity: severityValue,
    cves: stringList,
    category: optString,
    package: optString,
    installedVersion: optString,
    fixedVersion: optString,
    cvss3: optNumber,
    tags: stringList,
  })
  .optional()
  .catch(undefined);

const RuleSchema = z.object({
  id: z.string(),
  name: optString,
  defaultConfiguration: z.object({ level: optString }).optional().catch(undefined),
  shortDescription: z.object({ text: z.string() }).optional().catch(undefined),
  properties: PropertiesSchema,
});

const ResultSchema = z.object({
  ruleId: z.string(),
  level: optString,
  message: z.object({ text: z.string() }).optional().catch(undefined),
  locations: z
    .array(
      z.object({
        physicalLocation: z
          .object({
            artifactLocation: z.object({ uri: z.string() }).optional(),
            region: z.object({ startLine: z.number() }).optional(),
          })
          .optional(),
      }),
    )
    .optional()
    .catch(undefined),
  properties: PropertiesSchema,
});

const SarifSchema = z.object({
  version: z.string().optional(),
  runs: z.array(
    z.object({
      tool: z
        .object({ driver: z.object({ name: z.string().optional(), version: optString, rules: z.array(RuleSchema).optional() }) })
        .optional(),
      results: z.array(ResultSchema).default([]),
    }),
  ),
});

const LEVEL_FALLBACK: Record<string, number> = { error: 5, warning: 3, note: 2 };
/** SARIF 2.1.0 (3.27.10): a result's level, when neither it nor its rule's default configuration gives one. */
const SARIF_DEFAULT_LEVEL = 'warning';

export interface SecretFinding {
  id: string;
  title: string;
  severity?: Severity;
  location?: string;
}

export interface SarifFindings {
  vulnerabilities: Vulnerability[];
  secrets: SecretFinding[];
  toolVersion?: string;
}

function isSecret(ruleId: string, ...props: (z.infer<typeof PropertiesSchema> | undefined)[]): boolean {
  if (ruleId.toLowerCase().startsWith('secret')) return true;
  return props.some((p) => p?.category?.toLowerCase() === 'secret' || p?.tags?.some((t) => t.toLowerCase() === 'secret'));
}

function readSeverity(file: string, ruleId: string, ...candidates: (string | number | undefined)[]): { severity: Severity; raw: string | number } {
  for (const raw of candidates) {
    if (raw === undefined || raw === '') continue;
    try {
      return { severity: toSeverity(raw), raw };
    } catch {
      // An unreadable value at one level falls through to the next documented fallback.
    }
  }
  throw new QScannerReportError(file, `no readable severity for rule ${JSON.stringify(ruleId)}`);
}

function parseReportJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new QScannerReportError(file, `not JSON (${(err as Error).message})`);
  }
}

/** Parses SARIF text into findings; throws QScannerReportError on malformed JSON or shape. */
export function parseQScannerSarif(text: string, file = 'sarif'): SarifFindings {
  const json = parseReportJson(text, file);
  const parsed = SarifSchema.safeParse(json);
  if (!parsed.success) {
    throw new QScannerReportError(file, `not SARIF: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const vulnerabilities: Vulnerability[] = [];
  const secrets: SecretFinding[] = [];
  let toolVersion: string | undefined;
  for (const run of parsed.data.runs) {
    toolVersion ??= run.tool?.driver.version;
    const rules = new Map((run.tool?.driver.rules ?? []).map((r) => [r.id, r]));
    for (const result of run.results) {
      const rule = rules.get(result.ruleId);
      const level = result.level ?? rule?.defaultConfiguration?.level ?? SARIF_DEFAULT_LEVEL;
      const levelValue = LEVEL_FALLBACK[level.toLowerCase()];
      // `none` (and any level outside QScanner's three) is read by name last: SARIF says "not a problem",
      // which the schema files as INFORMATIONAL rather than failing the whole report.
      const { severity, raw } = readSeverity(file, result.ruleId, result.properties?.severity, rule?.properties?.severity, levelValue, level);
      const title = rule?.shortDescription?.text ?? result.message?.text ?? result.ruleId;
      if (isSecret(result.ruleId, result.properties, rule?.properties)) {
        const loc = result.locations?.[0]?.physicalLocation;
        const location = loc?.artifactLocation ? `${loc.artifactLocation.uri}${loc.region ? `:${loc.region.startLine}` : ''}` : undefined;
        secrets.push({ id: result.ruleId, title, severity, ...(location ? { location } : {}) });
        continue;
      }
      const cves = [...new Set([...(result.properties?.cves ?? []), ...(rule?.properties?.cves ?? [])])].filter((c) => c.length > 0);
      const pkg = result.properties?.package ?? rule?.properties?.package;
      const installed = result.properties?.installedVersion;
      const fixed = result.properties?.fixedVersion;
      const cvss3 = result.properties?.cvss3 ?? rule?.properties?.cvss3;
      vulnerabilities.push({
        id: result.ruleId,
        cves,
        title,
        severity,
        sourceSeverity: raw,
        ...(pkg ? { package: pkg } : {}),
        ...(installed ? { installedVersion: installed } : {}),
        ...(fixed ? { fixedVersion: fixed } : {}),
        ...(cvss3 !== undefined ? { cvss3 } : {}),
      });
    }
  }
  return { vulnerabilities, secrets, ...(toolVersion ? { toolVersion } : {}) };
}

const ScanResultMetaSchema = z.object({
  ScannerVersion: optString,
  ArtifactType: optString,
  Metadata: z
    .object({
      TargetMetadata: z
        .object({
          ImageID: optString,
          CodeSha256: optString,
          Size: optNumber.or(z.number().optional()).catch(undefined),
          OS: z.object({ Family: optString, Name: optString }).optional().catch(undefined),
        })
        .optional()
        .catch(undefined),
    })
    .optional()
    .catch(undefined),
});

export interface QScannerMeta {
  scannerVersion?: string;
  artifactType?: string;
  imageId?: string;
  codeSha256?: string;
  os?: string;
}

/** The small, useful part of `*-ScanResult.json`; unknown keys stay behind. */
export function parseQScannerScanResultMeta(text: string, file = 'ScanResult.json'): QScannerMeta {
  const json = parseReportJson(text, file);
  const parsed = ScanResultMetaSchema.safeParse(json);
  if (!parsed.success) throw new QScannerReportError(file, 'not a QScanner ScanResult object');
  const target = parsed.data.Metadata?.TargetMetadata;
  const os = target?.OS ? [target.OS.Family, target.OS.Name].filter(Boolean).join(' ') : undefined;
  const meta: QScannerMeta = {};
  if (parsed.data.ScannerVersion) meta.scannerVersion = parsed.data.ScannerVersion;
  if (parsed.data.ArtifactType) meta.artifactType = parsed.data.ArtifactType;
  if (target?.ImageID) meta.imageId = target.ImageID;
  if (target?.CodeSha256) meta.codeSha256 = target.CodeSha256;
  if (os) meta.os = os;
  return meta;
}

