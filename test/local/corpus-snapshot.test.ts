import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { SHARED_CORPUS_DIR, SNAPSHOT_CORPUS_DIR } from '../../local/corpus';

function files(root: string, dir = ''): string[] {
  return readdirSync(path.join(root, dir)).flatMap((entry) => {
    const relative = path.join(dir, entry);
    return statSync(path.join(root, relative)).isDirectory() ? files(root, relative) : [relative];
  });
}

describe('corpus snapshot', () => {
  it('local/corpus is byte-identical to ../shared/corpus (when the shared corpus is beside the checkout)', function () {
    if (!existsSync(SHARED_CORPUS_DIR)) {
      // A clone on its own can only check that the snapshot is complete enough to load.
      expect(files(SNAPSHOT_CORPUS_DIR)).to.include(path.join('reference', 'distribution-reference-cases.json'));
      return;
    }
    const shared = files(SHARED_CORPUS_DIR).sort();
    expect(files(SNAPSHOT_CORPUS_DIR).sort()).to.deep.equal(shared);
    for (const relative of shared) {
      expect(readFileSync(path.join(SNAPSHOT_CORPUS_DIR, relative)).equals(readFileSync(path.join(SHARED_CORPUS_DIR, relative))), relative).to.equal(true);
    }
  });
});
