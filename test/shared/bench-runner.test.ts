import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { listBenches, parseBenchArgs } from '../../bench/run';
import { RECORDED_RESULTS, RESULTS_DIR_ENV, resultsDir, SCRATCH_RESULTS } from '../../bench/support/results';

describe('bench runner (npm run bench)', () => {
  it('runs every bench/*.bench.ts, in name order, and nothing else', () => {
    const onDisk = readdirSync(path.join(__dirname, '..', '..', 'bench')).filter((f) => /\.bench\.ts$/.test(f));
    const listed = listBenches();
    expect(listed).to.include('image-parse.bench.ts');
    expect(listed).to.not.include('run.ts');
    expect([...listed].sort()).to.deep.equal([...onDisk].sort());
    expect(listed).to.deep.equal([...listed].sort());
  });

  it('filters by name when given arguments', () => {
    expect(listBenches(['image-parse'])).to.deep.equal(['image-parse.bench.ts']);
    expect(listBenches(['no-such-bench'])).to.deep.equal([]);
  });

  it('records results in bench/results (and the README) only with --write; otherwise a scratch folder', () => {
    expect(parseBenchArgs([])).to.deep.equal({ write: false, filters: [] });
    expect(parseBenchArgs(['--write', 'polling'])).to.deep.equal({ write: true, filters: ['polling'] });
    expect(resultsDir({})).to.equal(SCRATCH_RESULTS);
    expect(resultsDir({ [RESULTS_DIR_ENV]: RECORDED_RESULTS })).to.equal(RECORDED_RESULTS);
    expect(SCRATCH_RESULTS.startsWith(RECORDED_RESULTS)).to.equal(false);
  });
});
