import type { Logger } from '@aws-lambda-powertools/logger';
import type { ScanResult } from '../../../shared/scan-result';

/**
 * The one place object results become findings: vulnerable packages (per package and CVE) and secrets (per type
 * and file, never the value) through the vulnerability-findings fold, the cloud-neutral ScanResult -> findings
 * function every scanner calls. Until that fold is wired into this function, the results are recorded (S3,
 * ScanResult v1) and `pendingFindingsFold` stands in: it records nothing and says so once per cold start, so
 * connecting the fold is a change to this file and the wiring in from-env.ts only.
 */

export interface FoldContext {
  /** Where the ScanResult this fold reads was stored. */
  resultKey: string;
  trigger: 'event' | 'manual';
  eventId?: string;
  eventName?: string;
  actor?: string;
}

export interface FindingsFold {
  fold(result: ScanResult, context: FoldContext): Promise<void>;
}

export function pendingFindingsFold(logger: Pick<Logger, 'info'>): FindingsFold {
  let told = false;
  return {
    async fold(result, context) {
      if (told) return;
      told = true;
      logger.info('object findings: the vulnerability-findings fold is not wired yet; the ScanResult is recorded', { scanId: result.scanId, resultKey: context.resultKey });
    },
  };
}
