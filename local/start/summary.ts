/**
 * What a run reports, one shape for every output (the table, `--json`, report.html and the results
 * folder's summary.json): every event ends up processed, ignored (with the rule or handler that dropped
 * it and why) or failed (with the reason); scans and findings are listed as rows.
 * New sections are added here once and rendered by each output.
 */
import type { SeverityCounts } from '../../shared/severity';

export const RUN_SCHEMA = 'shipscan.run/v1';

/** Which replayed event a row is about: where it came from and a short human label. */
export interface EventRef {
  /** `file.json#3` (1-based position in the file), `demo#2`, or `http#1` for --serve. */
  source: string;
  cloud: 'aws' | 'azure' | 'unknown';
  /** e.g. `CreateFunction20150331 orders-api (123456789012, us-east-1)`, `ResourceWriteSuccess containerGroups/write orders-aci`. */
  label: string;
}

export interface ScanRow {
  cloud: 'aws' | 'azure';
  /** `ACI orders-aci`, `ACA web-aca`, `lambda orders-api`, `s3 shop-releases/app.tar.gz`. */
  workload: string;
  image?: string;
  function?: string;
  /** The stored object a scan is about (S3 object events); sha256, mime and size once its bytes were read. */
  object?: ObjectRow;
  status: string;
  counts: SeverityCounts;
  cacheHit: boolean;
  /** Where the pipeline stored the ScanResult: `s3://bucket/key` or `blob://container/path`, `-` when nothing was stored. */
  resultKey: string;
  /** The copy of that ScanResult in the run folder, relative to it (`results/s3/...json`). */
  file?: string;
}

export interface ObjectRow {
  bucket: string;
  key: string;
  /** null when the event named no version (an unversioned bucket). */
  versionId: string | null;
  sha256?: string;
  mime?: string;
  size?: number;
}

/** What the table and the report show in the image-or-function column. */
export function scanTarget(scan: ScanRow): string {
  if (scan.image ?? scan.function) return (scan.image ?? scan.function)!;
  if (scan.object?.sha256) return `${scan.object.mime ?? '?'} sha256:${scan.object.sha256.slice(0, 12)}`;
  return '-';
}

export interface IgnoredEvent {
  event: EventRef;
  /** What dropped it: `EventBridge rule shipscan-local-deployments`, `Event Grid subscription`, `scanner`, `onDeployment`. */
  by: string;
  reason: string;
}

export interface FailedEvent {
  event: EventRef;
  reason: string;
}

/** A finding (security events, posture rules): the section exists so every output already renders it. */
export interface FindingRow {
  cloud: 'aws' | 'azure';
  ruleId: string;
  category: string;
  severity: string;
  state: string;
  resourceId: string;
  actor?: string;
}

/** A finding email the run sent: to whom, about what, and its copy in the run folder (`.eml` and `.html`). */
export interface EmailRow {
  cloud: 'aws' | 'azure';
  channel: string;
  to: string[];
  subject: string;
  findingId: string;
  transition: string;
  /** `mail/<name>.eml`, relative to the run folder (opens in any mail client). */
  eml: string;
  /** `mail/<name>.html`, relative to the run folder (opens in a browser). */
  html: string;
}

export interface RunSummary {
  schema: typeof RUN_SCHEMA;
  events: number;
  /** Events that led to scans or cache hits. */
  processed: number;
  scans: ScanRow[];
  failures: FailedEvent[];
  ignored: IgnoredEvent[];
  findings: FindingRow[];
  /** Finding emails, written to the run folder instead of being sent (the local stack has no relay). */
  emails: EmailRow[];
  /** The run folder (absolute), when one was written. */
  resultsDir?: string;
  /** The run's report.html (absolute), when one was written. */
  report?: string;
}

export function emptySummary(): RunSummary {
  return { schema: RUN_SCHEMA, events: 0, processed: 0, scans: [], failures: [], ignored: [], findings: [], emails: [] };
}

/** The one-line count under the table and in progress output. */
export function countsLine(summary: RunSummary): string {
  return (
    `${summary.events} events: ${summary.processed} processed, ${summary.ignored.length} ignored, ${summary.failures.length} failed; ` +
    `${summary.scans.length} scan records, ${summary.findings.length} findings`
  );
}
