import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The published samples live beside the project checkout, in ../shared/corpus. */
export const CORPUS_DIR = path.resolve(__dirname, '..', '..', '..', 'shared', 'corpus');

export function corpusPath(relative: string): string {
  return path.join(CORPUS_DIR, relative);
}

/** Loads a corpus JSON file by its path under ../shared/corpus (e.g. `azure/cloudevents-...json`). */
export function loadCorpus<T = unknown>(relative: string): T {
  return JSON.parse(readFileSync(corpusPath(relative), 'utf8')) as T;
}
