/** Cold `require` time of the function bundles, one fresh Node process per sample. */
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..', '..');

/** What each bundle needs at load (they validate their settings at init, as in the cloud). */
export const SCANNER_ENV: Readonly<Record<string, string>> = {
  RESULTS_BUCKET: 'bench-results',
  CACHE_TABLE: 'bench-cache',
  FINDINGS_TOPIC_ARN: 'arn:aws:sns:us-east-1:111111111111:bench',
  QUALYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:q',
  QUALYS_POD: 'US2',
  SCAN_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/111111111111/bench',
  AWS_REGION: 'us-east-1',
};
export const BULK_ENV: Readonly<Record<string, string>> = { SCAN_QUEUE_URL: SCANNER_ENV.SCAN_QUEUE_URL!, AWS_REGION: 'us-east-1' };
export const AZURE_APP_ENV: Readonly<Record<string, string>> = { AzureWebJobsStorage__accountName: 'benchaccount', QUALYS_POD: 'US2', QUALYS_ACCESS_TOKEN: 'bench-token' };

/** Milliseconds to run `script` (e.g. a require) in fresh node processes. */
export function coldRequire(script: string, env: Readonly<Record<string, string>>, runs: number): number[] {
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', `const t=process.hrtime.bigint();${script};process.stdout.write('\\n'+String(Number(process.hrtime.bigint()-t)/1e6))`], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env },
      encoding: 'utf8',
      // The Azure bundle reports, on stderr, that it runs outside the Functions host: expected here.
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    samples.push(Number(out.trim().split('\n').pop()));
  }
  return samples;
}
