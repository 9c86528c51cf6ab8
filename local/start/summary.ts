/** What a replay reports: per event, and one row per scan (or cache hit). */
import type { SeverityCounts } from '../../shared/severity';

export interface ScanRow {
  cloud: 'aws' | 'azure';
  /** `ACI orders-aci`, `ACA web-aca`, `lambda orders-api`. */
  workload: string;
  image?: string;
  function?: string;
  status: string;
  counts: SeverityCounts;
  cacheHit: boolean;
  /** `s3://bucket/key` or `blob://container/path`. */
  resultKey: string;
}

export interface ReplaySummary {
  events: number;
  /** Events that led to scans or cache hits. */
  processed: number;
  /** Events that needed no scan (other operations, failed calls, duplicates, the scanner's own functions). */
  ignored: number;
  /** Events that could not be processed (malformed, workload gone, unrecognised, retries exhausted). */
  failed: number;
  scans: ScanRow[];
}

export function emptySummary(): ReplaySummary {
  return { events: 0, processed: 0, ignored: 0, failed: 0, scans: [] };
}

export function mergeSummaries(...parts: ReplaySummary[]): ReplaySummary {
  return parts.reduce(
    (all, part) => ({
      events: all.events + part.events,
      processed: all.processed + part.processed,
      ignored: all.ignored + part.ignored,
      failed: all.failed + part.failed,
      scans: [...all.scans, ...part.scans],
    }),
    emptySummary(),
  );
}
