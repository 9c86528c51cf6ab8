import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import * as path from 'node:path';
import { listBenches } from '../../bench/run';

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
});
