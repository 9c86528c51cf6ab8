import type { QScannerOutcome, QScannerRunOptions, QScannerTarget } from '../../shared/qualys/contracts';
import type { ScanTarget } from '../../shared/scan-result';

/**
 * The one step that runs a scanner. The record pipeline depends on this interface only, so its
 * other steps can be tested without a child process; production uses the shared QScanner runner.
 */

export interface ScanJob {
  target: QScannerTarget;
  resultTarget: ScanTarget;
  scanId: string;
  timeoutMs: number;
  /** Registry / AWS credentials for cross-account targets (child env only). */
  extraEnv?: Readonly<Record<string, string>>;
}

export interface ScanEngine {
  scan(job: ScanJob): Promise<QScannerOutcome>;
}

export type QScannerRunner = (options: QScannerRunOptions) => Promise<QScannerOutcome>;

export interface QScannerEngineOptions {
  run: QScannerRunner;
  binaryPath: string;
  pod?: string;
  gateway?: string;
  cacheDir: string;
  tmpRoot?: string;
  scanTypes?: readonly string[];
  policyTags?: readonly string[];
  /** Fetched per scan (the provider caches); handed to the runner, which passes it by env only. */
  accessToken: () => Promise<string>;
}

export function createQScannerEngine(options: QScannerEngineOptions): ScanEngine {
  return {
    async scan(job) {
      const accessToken = await options.accessToken();
      return options.run({
        binaryPath: options.binaryPath,
        target: job.target,
        accessToken,
        ...(options.pod ? { pod: options.pod } : {}),
        ...(options.gateway ? { gateway: options.gateway } : {}),
        timeoutMs: job.timeoutMs,
        cacheDir: options.cacheDir,
        ...(options.tmpRoot ? { tmpRoot: options.tmpRoot } : {}),
        ...(job.extraEnv ? { extraEnv: job.extraEnv } : {}),
        resultTarget: job.resultTarget,
        scanId: job.scanId,
        ...(options.scanTypes?.length ? { scanTypes: options.scanTypes } : {}),
        ...(options.policyTags?.length ? { policyTags: options.policyTags } : {}),
      });
    },
  };
}
