/**
 * The contracts between the Qualys engines (shared/qualys) and the runtimes that use them
 * (functions/azure uses ScanWorkflow, functions/aws uses the QScanner runner). Kept in one small
 * file so both sides build against the same names.
 */
import type { ImageReference } from '../image-reference';
import type { ScanResult, ScanTarget } from '../scan-result';

export type ScanState = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/**
 * A scan in flight at Qualys. Plain JSON so it can ride in a queue message; readers must validate
 * it (parseScanTicket) because a queue message is untrusted input.
 */
export interface ScanTicket {
  v: 1;
  /** Canonical reference of the image that was submitted. */
  image: string;
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
  /** Qualys image sha (the image id), once known. */
  imageSha?: string;
  registryUuid?: string;
  scheduleId?: string;
  /** True when an existing recent Qualys scan of the same digest was reused. */
  reused: boolean;
  /** ISO time the ticket was created. */
  submittedAt: string;
  /**
   * Epoch ms on the Qualys server's clock when it accepted the schedule (its Date header, whole
   * seconds), when it sent one. A scan is the new one only if it finished after this: comparing the
   * server's lastScanned with this host's clock would let skew pass an older scan off as the new one,
   * or hide the new one.
   */
  scheduledAtServer?: number;
  /** Image size in bytes when Qualys reported it; feeds the poll policy's first guess. */
  sizeBytes?: number;
  /**
   * Vulnerabilities the finished scan holds (the sum of the image's severity counts), when Qualys
   * reported them: the total that tells a complete `/vuln` listing from a cut one.
   */
  vulnCount?: number;
}

export interface CheckOutcome {
  state: ScanState;
  /** A sentence for logs and FAILED records. */
  detail: string;
  /** The ticket, updated with what the check learned (e.g. imageSha); store this one. */
  ticket: ScanTicket;
}

/** Drive a Qualys Container Security scan: submit, check until done, fetch the results. */
export interface ScanWorkflow {
  submit(image: ImageReference): Promise<ScanTicket>;
  check(ticket: ScanTicket): Promise<CheckOutcome>;
  /** One check for many tickets, batched into as few API calls as the API allows. */
  checkMany(tickets: readonly ScanTicket[]): Promise<CheckOutcome[]>;
  /** Results of a COMPLETED ticket as ScanResult v1, for the given target description. */
  results(ticket: ScanTicket, target: ScanTarget): Promise<ScanResult>;
}

/** What the QScanner runner scans: a function, an image, or a file tree (`repo`, e.g. an extracted archive). */
export type QScannerTarget = { kind: 'lambda'; arn: string } | { kind: 'image'; ref: string } | { kind: 'repo'; path: string };

export interface QScannerRunOptions {
  /** Path of the qscanner binary (the Lambda layer puts it at /opt/qscanner/qscanner). */
  binaryPath: string;
  target: QScannerTarget;
  /** Passed to the child ONLY as env QUALYS_ACCESS_TOKEN, never in argv, never logged. */
  accessToken: string;
  /** Qualys POD name (`US2`) or gateway URL. */
  pod?: string;
  gateway?: string;
  timeoutMs: number;
  cacheDir: string;
  /** Parent of the fresh per-run output dir (default os.tmpdir()). */
  tmpRoot?: string;
  /** Registry / AWS credentials for the child (QSCANNER_REGISTRY_*, AWS_*). */
  extraEnv?: Readonly<Record<string, string>>;
  /** Described in the ScanResult. */
  resultTarget: ScanTarget;
  scanId: string;
  /** Default ['pkg', 'secret']. */
  scanTypes?: readonly string[];
  policyTags?: readonly string[];
}

export type QScannerOutcome =
  | { kind: 'ok'; exitCode: 0; result: ScanResult }
  /** Exit 42 (DENY) or 43 (AUDIT): results exist and carry the verdict. */
  | { kind: 'policy'; exitCode: 42 | 43; verdict: 'DENY' | 'AUDIT'; result: ScanResult }
  /** Exit 15 (OS not found) with SCA results: status PARTIAL. */
  | { kind: 'partial'; exitCode: 15; result: ScanResult }
  /** Exit 40/41: the report is not ready yet; try again after retryAfterSec. */
  | { kind: 'not-ready'; exitCode: 40 | 41; retryAfterSec: number }
  /** Anything else, including a timeout (exitCode null, timedOut true). */
  | { kind: 'failed'; exitCode: number | null; timedOut: boolean; reason: string; stderrTail: string };
