import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

/**
 * Published event and API samples. The maintained copy lives beside the checkout in
 * ../shared/corpus; `local/corpus/` is a byte-identical snapshot (checked by a test) so a clone on
 * its own (GitHub Actions, a user's machine running `npm start`) still has the samples.
 */
export const SHARED_CORPUS_DIR = path.resolve(__dirname, '..', '..', 'shared', 'corpus');
export const SNAPSHOT_CORPUS_DIR = path.resolve(__dirname, 'corpus');
export const CORPUS_DIR = existsSync(SHARED_CORPUS_DIR) ? SHARED_CORPUS_DIR : SNAPSHOT_CORPUS_DIR;

export function corpusPath(relative: string): string {
  return path.join(CORPUS_DIR, relative);
}

/** Loads a corpus JSON file by its path under the corpus (e.g. `azure/cloudevents-...json`). */
export function loadCorpus<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(corpusPath(relative), 'utf8')) as T;
}
