import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { buildAwsFunctions } from '../../functions/build';

/** Loads a bundle in a fresh node process (outside the repository, so nothing resolves from node_modules), the SDK's Node-version notice silenced as in every test. */
function loadBundle(file: string, env: Record<string, string>): { ok: boolean; output: string } {
  const script = `try { const m = require(${JSON.stringify(file)}); console.log('HANDLER:' + typeof m.handler) } catch (e) { console.log('ERROR:' + e.name + ':' + e.message) }`;
  const output = execFileSync(process.execPath, ['-e', script], { cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '', AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true', ...env }, encoding: 'utf8' });
  return { ok: output.includes('HANDLER:function'), output };
}

describe('AWS function bundles (esbuild)', function () {
  this.timeout(120_000);
  let outDir: string;
  before(async () => {
    outDir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-bundles-'));
    await buildAwsFunctions(outDir);
  });
  after(async () => {
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('one self-contained, minified CommonJS file per function with a source map', async () => {
    for (const name of ['scanner', 'bulk', 'artifacts', 'security-events']) {
      const code = await readFile(path.join(outDir, 'aws', name, 'index.js'), 'utf8');
      const map = JSON.parse(await readFile(path.join(outDir, 'aws', name, 'index.js.map'), 'utf8')) as { sources: string[] };
      expect(code, name).to.match(/sourceMappingURL=index\.js\.map/);
      // The SDK is inside: no require of a client, smithy, Powertools or zod package is left (the SDK's
      // optional, guarded requires of signature-v4a / signature-v4-crt stay and are never reached here).
      expect(code, name).not.to.match(/require\(["'](@aws-sdk\/(client|lib|core|credential)|@smithy|@aws-lambda-powertools|zod)/);
      expect(map.sources.some((source) => source.includes(`functions/aws/${name}/index.ts`)), name).to.equal(true);
      expect(code.split('\n').length, `${name} is minified`).to.be.lessThan(code.length / 1000);
    }
  });

  it('the scanner bundle exports handler with a valid environment and stops at init naming a bad variable', () => {
    const env = {
      RESULTS_BUCKET: 'results-bucket',
      CACHE_TABLE: 'cache-table',
      FINDINGS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:findings',
      QUALYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:q',
      QUALYS_POD: 'US2',
      AWS_REGION: 'eu-west-1',
    };
    const file = path.join(outDir, 'aws', 'scanner', 'index.js');
    expect(loadBundle(file, env).output).to.include('HANDLER:function');
    const bad = loadBundle(file, { ...env, SPOKE_ROLES: '[{"accountId":"12"}]' });
    expect(bad.ok).to.equal(false);
    expect(bad.output).to.include('ERROR:EnvError');
    expect(bad.output).to.include('SPOKE_ROLES');
  });

  it('the security-events bundle exports handler with a valid environment and refuses settings that hold a secret', () => {
    const env = {
      FINDINGS_TABLE: 'findings-table',
      FINDINGS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:findings',
      RESULTS_BUCKET: 'results-bucket',
      FINDINGS_SETTINGS: JSON.stringify({ email: { from: 'shipscan@example.com', to: ['secops@example.com'] } }),
      AWS_REGION: 'eu-west-1',
    };
    const file = path.join(outDir, 'aws', 'security-events', 'index.js');
    expect(loadBundle(file, env).output).to.include('HANDLER:function');
    const leaked = loadBundle(file, { ...env, FINDINGS_SETTINGS: JSON.stringify({ slackWebhookUrl: 'https://hooks.slack.com/services/T/B/planted-Wq1' }) });
    expect(leaked.ok).to.equal(false);
    expect(leaked.output).to.include('ERROR:EnvError');
    expect(leaked.output).to.include('FINDINGS_SETTINGS');
    expect(leaked.output).to.include('they belong in the notify secret');
    expect(leaked.output, 'the error names the key, not the value').to.not.include('planted-Wq1');
  });

  it('the bulk bundle exports handler', () => {
    const result = loadBundle(path.join(outDir, 'aws', 'bulk', 'index.js'), { SCAN_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/scan', AWS_REGION: 'eu-west-1' });
    expect(result.output).to.include('HANDLER:function');
  });
});
