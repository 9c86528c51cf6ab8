import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { PROJECT_ROOT } from '../../local/plan';
import { placeholderBundles } from './support/aws-plans';

const run = promisify(execFile);

/** Runs `local/plan.ts` as `npm run plan` does after building (the build itself is the runtime's). */
async function planCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join('local', 'plan.ts'), ...args], { cwd: PROJECT_ROOT, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('npm run plan (CLI)', function () {
  // Plans are child processes; on a loaded machine a few of them queued together take a while.
  this.timeout(180_000);
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'shipscan-plan-')), 'plan.json');

  it('plans the committed dev stack with --placeholder-secrets, saying so, writing { type, name, parent, inputs } with secrets masked', async function () {
    const result = await planCli(['--stack', 'dev', '--placeholder-secrets', '--out', out, '--bundle-dir', placeholderBundles()]);
    expect(result.code, result.stderr).to.equal(0);
    expect(result.stdout).to.include('note: placeholder secrets (--placeholder-secrets): shipscan:qualys.accessToken is not set in the stack file and is planned with a masked placeholder; pulumi preview and pulumi up stop until it is set');
    expect(result.stdout).to.match(/shipscan:aws:AwsScanner\s+1\n/);
    const document = JSON.parse(readFileSync(out, 'utf8')) as { stack: string; resources: Record<string, unknown>[]; outputs: Record<string, unknown> };
    expect(document.stack).to.equal('dev');
    expect(result.stdout).to.include(`wrote ${document.resources.length} resources to ${out}`);
    expect(result.stdout).to.match(new RegExp(`total\\s+${document.resources.length}$`, 'm'));
    for (const resource of document.resources) {
      expect(Object.keys(resource).every((key) => ['type', 'name', 'parent', 'inputs'].includes(key)), JSON.stringify(Object.keys(resource))).to.equal(true);
    }
    const version = document.resources.find((r) => r['type'] === 'aws:secretsmanager/secretVersion:SecretVersion');
    expect((version?.['inputs'] as Record<string, unknown>)['secretString']).to.equal('[secret]');
    expect(readFileSync(out, 'utf8')).not.to.include('plan-secret-');
    const scanner = document.resources.find((r) => r['type'] === 'aws:lambda/function:Function' && r['name'] === 'shipscan-scanner');
    expect(scanner?.['parent']).to.equal('urn:pulumi:dev::shipscan::shipscan:aws:AwsScanner::shipscan');
  });

  it('without --placeholder-secrets fails where the real program fails: exit 2, the key and what to set, no stack trace', async function () {
    const result = await planCli(['--stack', 'dev', '--bundle-dir', placeholderBundles()]);
    expect(result.code, result.stdout).to.equal(2);
    expect(result.stderr).to.include('stack "dev": invalid shipscan configuration:');
    expect(result.stderr).to.include('shipscan:qualys.accessToken = (unset)');
    expect(result.stderr).to.include('add --placeholder-secrets to plan it anyway');
    expect(result.stderr).to.not.match(/\n\s+at /);
    const verbose = await planCli(['--stack', 'dev', '--bundle-dir', placeholderBundles(), '--verbose']);
    expect(verbose.code).to.equal(2);
    expect(verbose.stderr).to.match(/\n\s+at /);
  });

  it('names a stack file that does not exist (exit 2)', async function () {
    const result = await planCli(['--stack', 'nope']);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('Pulumi.nope.yaml does not exist');
  });

  it('requires --stack (exit 2)', async function () {
    const result = await planCli([]);
    expect(result.code).to.equal(2);
    expect(result.stderr).to.include('--stack is required');
  });

  it('asks for the function build when bundles are missing', async function () {
    const result = await planCli(['--stack', 'dev', '--placeholder-secrets', '--bundle-dir', mkdtempSync(path.join(tmpdir(), 'shipscan-empty-'))]);
    expect(result.code).to.equal(1);
    expect(result.stderr).to.include('run npm run build:functions first');
  });
});
