import { expect } from 'chai';
import { readFileSync, existsSync } from 'node:fs';
import * as path from 'node:path';
import { renderBenchBlock } from '../bench/summary';

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
});
