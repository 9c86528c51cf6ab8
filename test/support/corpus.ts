/** Tests load the published samples through the same loader as the offline stack. */
export { CORPUS_DIR, corpusPath, loadCorpus } from '../../local/corpus';
