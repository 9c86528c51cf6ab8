import { expect } from 'chai';
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { renderBenchBlock } from '../bench/summary';
import { EXIT } from '../local/start/exit-codes';
import { parseScanResult } from '../shared/scan-result';

const ROOT = path.resolve(__dirname, '..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');

describe('README.md, the front door', () => {
  it('gives the quick start as exactly the two commands', () => {
    expect(readme).to.match(/## Quick start\s+```sh\nnpm ci && npm start\nnpm test\n```/);
  });

  it('shows the benchmark numbers of the checked-in results (run `npm run docs:bench` after a bench)', () => {
    expect(readme).to.include(renderBenchBlock());
  });

  it('names the same test command as .ci/run', () => {
    const ci = readFileSync(path.join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).to.match(/^npm test$/m);
    expect(readme).to.include('runs exactly `npm test`');
  });

  it('links files that exist', () => {
    for (const [, target] of readme.matchAll(/\]\(((?!https?:)[^)#]+)\)/g)) {
      expect(existsSync(path.join(ROOT, target!)), target).to.equal(true);
    }
  });

  it('lists every shipped query', () => {
    for (const file of ['recent-scans', 'failed-scans', 'high-severity-findings', 'qualys-dependency-performance', 'poison-and-deadletter']) {
      expect(readme).to.include(`${file}.kql`);
      expect(existsSync(path.join(ROOT, 'queries', `${file}.kql`)), file).to.equal(true);
    }
  });

  it('ships a LICENSE matching package.json (Apache-2.0)', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
    expect(pkg.license).to.equal('Apache-2.0');
    const license = readFileSync(path.join(ROOT, 'LICENSE'), 'utf8');
    expect(license).to.match(/^\s+Apache License\n\s+Version 2\.0, January 2004\n/);
    expect(license).to.include('END OF TERMS AND CONDITIONS');
  });

  it('documents every exit code of npm start, as the CLI defines them', () => {
    const rows = [...readme.matchAll(/^\| (\d) \| ([^|]+) \|$/gm)].map((m) => Number(m[1]));
    expect(rows).to.deep.equal(Object.values(EXIT).sort());
  });

  it('shows a sample ScanResult that is a valid ScanResult v1', () => {
    const sample = /A sample, as stored[^`]*```json\n([\s\S]*?)\n```/.exec(readme);
    expect(sample, 'the sample block').to.not.equal(null);
    const result = parseScanResult(JSON.parse(sample![1]!));
    expect(result.schemaVersion).to.equal(1);
  });

  it('says how to tear a stack down and what stays, and where QScanner and the Qualys credentials come from', () => {
    expect(readme).to.match(/### Teardown\n```sh\npulumi destroy/);
    expect(readme).to.include('purge protection');
    expect(readme).to.include('QScanner is Qualys\' own scanner CLI');
    expect(readme).to.include('an access token for QScanner');
  });
});
