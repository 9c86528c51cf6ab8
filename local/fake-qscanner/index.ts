/**
 * The fake QScanner: an executable (`qscanner.js`, run directly as a child process) that behaves like
 * the QScanner CLI on the command line. It validates its arguments like the real one (unknown flags,
 * bad `--mode`/`--scan-types`/`--report-format` values, malformed Lambda ARNs, missing `--pod` /
 * `--gateway-url` -> exit 2), refuses to run without a token (env `QUALYS_ACCESS_TOKEN` or
 * `--access-token`, exit 2), and writes `<prefix>-ScanResult.json`, `<prefix>-Report.sarif.json` and
 * `<prefix>-Report.json` into `--output-dir`.
 *
 * The scenario is the first keyword found in the target (image ref or Lambda ARN, case-insensitive),
 * in this order:
 *
 * | keyword      | exit | output files | findings (critical/high/medium/low/info, secrets)       |
 * |--------------|------|--------------|----------------------------------------------------------|
 * | `slow`       | 0    | yes          | as `vuln`, after sleeping FAKE_QSCANNER_SLOW_MS (120 s) with a grandchild process |
 * | `spill`      | 1    | no           | stderr: one credential split in two writes, then filler (see below) |
 * | `leaky`      | 1    | no           | stderr echoes the token (the runner must redact it)      |
 * | `broken`     | 1    | no           | stderr: `failed to analyze artifact: unexpected EOF`      |
 * | `garbled`    | 0    | yes          | the SARIF file is truncated JSON                          |
 * | `uploadfail` | 33   | no           | stderr: `failed to upload scan result`                    |
 * | `notready`   | 40   | no           | vulnerability report not ready                            |
 * | `policywait` | 41   | no           | policy result not ready                                   |
 * | `deny`       | 42   | yes          | as `vuln`, policy verdict DENY                            |
 * | `audit`      | 43   | yes          | as `vuln`, policy verdict AUDIT                           |
 * | `nosca`      | 15   | no           | OS not found and nothing else                             |
 * | `distroless` | 15   | yes          | 0/1/1/0/0 (Go modules only), no secrets                   |
 * | `clean`      | 0    | yes          | none                                                      |
 * | `vuln` / any other target | 0 | yes | 2/2/2/1/1 (8 findings), 1 secret                        |
 *
 * The SARIF carries severities through all three documented places (result property, rule property,
 * SARIF level) so readers must implement the fallbacks to get the counts above.
 *
 * `spill` prints the value of env `FAKE_QSCANNER_SPILL_VAR` (default `QUALYS_ACCESS_TOKEN`) in two writes
 * split mid-value, then `FAKE_QSCANNER_SPILL_CHARS` (default 0) repetitions of `FAKE_QSCANNER_SPILL_FILL`
 * (default `.`), so a test can put the value right across a cut the runner makes in stderr.
 *
 * `--pod <POD>` and `--gateway-url <url>` are both accepted (one is required); unknown flags exit 2.
 *
 * Set env `FAKE_QSCANNER_LOG=<file>` to append one JSON line per run: argv, env key names, a sha256
 * of the token (never the token), the scenario and, for `slow`, the grandchild's pid.
 */
import * as path from 'node:path';
import type { SeverityCounts } from '../../shared/severity';
import scenarios from './scenarios.json';

/** Absolute path of the executable (shebang `#!/usr/bin/env node`, executable bit set). */
export const FAKE_QSCANNER_PATH = path.join(__dirname, 'qscanner.js');

export const FAKE_QSCANNER_VERSION = '4.6.0-fake';

export const FAKE_QSCANNER_SCENARIOS = [
  'slow',
  'spill',
  'leaky',
  'broken',
  'garbled',
  'uploadfail',
  'notready',
  'policywait',
  'deny',
  'audit',
  'nosca',
  'distroless',
  'clean',
  'vuln',
] as const;
export type FakeQScannerScenario = (typeof FAKE_QSCANNER_SCENARIOS)[number];

/** The scenario the fake picks for a target (same rule as the executable). */
export function fakeQScannerScenario(target: string): FakeQScannerScenario {
  const lower = target.toLowerCase();
  return FAKE_QSCANNER_SCENARIOS.find((k) => lower.includes(k)) ?? 'vuln';
}

export const FAKE_QSCANNER_EXIT_CODES: Record<FakeQScannerScenario, number> = {
  slow: 0,
  spill: 1,
  leaky: 1,
  broken: 1,
  garbled: 0,
  uploadfail: 33,
  notready: 40,
  policywait: 41,
  deny: 42,
  audit: 43,
  nosca: 15,
  distroless: 15,
  clean: 0,
  vuln: 0,
};

const LEVEL_KEYS = { 5: 'critical', 4: 'high', 3: 'medium', 2: 'low', 1: 'informational' } as const;

function findingSet(scenario: FakeQScannerScenario): 'vuln' | 'distroless' | 'clean' {
  return scenario === 'distroless' ? 'distroless' : scenario === 'clean' ? 'clean' : 'vuln';
}

export interface FakeQScannerExpectation {
  exitCode: number;
  /** Vulnerability counts a correct reader derives from the SARIF (absent when no files are written). */
  counts?: SeverityCounts;
  secrets?: number;
  /** QIDs of the vulnerabilities reported. */
  qids?: string[];
}

/** What a run against `target` must yield; tests compare the runner's outcome with it. */
export function fakeQScannerExpectation(target: string): FakeQScannerExpectation {
  const scenario = fakeQScannerScenario(target);
  const exitCode = FAKE_QSCANNER_EXIT_CODES[scenario];
  if (['spill', 'leaky', 'broken', 'uploadfail', 'notready', 'policywait', 'nosca', 'garbled'].includes(scenario)) return { exitCode };
  const set = findingSet(scenario);
  const counts: SeverityCounts = { critical: 0, high: 0, medium: 0, low: 0, informational: 0, total: 0 };
  for (const f of scenarios.findings[set]) {
    counts[LEVEL_KEYS[f.severity as 1 | 2 | 3 | 4 | 5]] += 1;
    counts.total += 1;
  }
  return { exitCode, counts, secrets: scenarios.secrets[set].length, qids: scenarios.findings[set].map((f) => f.qid) };
}
