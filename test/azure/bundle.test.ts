import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { buildAzureApp, DIST } from '../../functions/build';

describe('azure Functions app bundle', function () {
  this.timeout(120_000);

  it('builds, and the bundle loads in a plain Node process and registers both queue functions', async () => {
    const report = await buildAzureApp();
    expect(report, 'functions/azure/index.ts is the entry').to.not.equal(undefined);
    const appDir = path.join(DIST, 'azure');
    expect(JSON.parse(readFileSync(path.join(appDir, 'package.json'), 'utf8')).main).to.equal('dist/index.js');
    expect(existsSync(path.join(appDir, 'host.json'))).to.equal(true);
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(appDir, 'dist', 'index.js'))}); console.log('LOADED')`], {
      env: { PATH: process.env.PATH, AzureWebJobsStorage__accountName: 'shipscanstore1', QUALYS_POD: 'US2', QUALYS_ACCESS_TOKEN: 'bundle-test-token' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out).to.equal(0);
    expect(out).to.contain('LOADED');
    // Outside the host, @azure/functions reports each registration it skips: both were attempted.
    expect(out).to.match(/register function "onDeployment"/);
    expect(out).to.match(/register function "pollScan"/);
    expect(out).to.not.contain('bundle-test-token');
  });

  it('with invalid settings it still loads, and says clearly which settings are wrong', () => {
    const appDir = path.join(DIST, 'azure');
    const run = spawnSync(process.execPath, ['-e', `require(${JSON.stringify(path.join(appDir, 'dist', 'index.js'))})`], {
      env: { PATH: process.env.PATH, QUALYS_PASSWORD: 'only-a-password-secret' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    const out = `${run.stdout}\n${run.stderr}`;
    expect(run.status, out).to.equal(0);
    expect(out).to.contain('invalid Function App settings');
    expect(out).to.contain('AzureWebJobsStorage__accountName');
    expect(out).to.contain('QUALYS_USERNAME and QUALYS_PASSWORD go together');
    expect(out).to.not.contain('only-a-password-secret');
  });
});
