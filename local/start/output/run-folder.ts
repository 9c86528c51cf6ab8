/**
 * The run folder: what a run stored, kept after the emulators stop, in a git-ignored place a person
 * can open.
 *   <out>/runs/<UTC time>-<id>/
 *     summary.json   the same document as --json
 *     report.html    the run as one self-contained page (no network)
 *     results/s3/<bucket>/<key>, results/blob/<container>/<path>   every ScanResult the run stored
 *     findings/      one JSON file per finding, when there are findings
 *     mail/          each finding email as .eml (any mail client) and .html (a browser), when there are emails
 * The copies mirror the storage keys, which are built injective and traversal-free
 * (shared/storage-keys.ts); a key that would still leave the folder is refused.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { RunSummary } from '../summary';
import { renderReportHtml } from './report-html';

export const RUNS_DIR = 'runs';

/** `results/s3/<bucket>/<key>` for `s3://bucket/key`, `results/blob/<container>/<path>` for `blob://...`; undefined for anything else. */
export function copyPathOf(uri: string): string | undefined {
  const match = /^(s3|blob):\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) return undefined;
  const segments = [match[2]!, ...match[3]!.split('/')];
  if (segments.some((s) => s === '' || s === '.' || s === '..' || s.includes('\\'))) return undefined;
  return ['results', match[1]!, ...segments].join('/');
}

/** Reads every stored ScanResult the summary points at (call before the stack stops); sets each scan's `file`. */
export async function collectStoredResults(summary: RunSummary, readStored: (uri: string) => Promise<string | undefined>): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const scan of summary.scans) {
    const file = copyPathOf(scan.resultKey);
    if (!file) continue;
    const text = files.get(file) ?? (await readStored(scan.resultKey));
    if (text === undefined) continue;
    files.set(file, text);
    scan.file = file;
  }
  return files;
}

function runId(now: Date): string {
  return `${now.toISOString().replace(/[-:.]/g, '')}-${randomBytes(3).toString('hex')}`;
}

/** Writes the folder and returns the summary that names it. */
export function writeRunFolder(outDir: string, summary: RunSummary, files: ReadonlyMap<string, string>, now = new Date()): RunSummary {
  const dir = path.resolve(outDir, RUNS_DIR, runId(now));
  const named: RunSummary = { ...summary, resultsDir: dir, report: path.join(dir, 'report.html') };
  mkdirSync(dir, { recursive: true });
  for (const [file, text] of files) {
    const target = path.resolve(dir, file);
    if (!target.startsWith(`${dir}${path.sep}`)) continue;
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, text);
  }
  if (summary.findings.length > 0) {
    mkdirSync(path.join(dir, 'findings'), { recursive: true });
    summary.findings.forEach((finding, i) => writeFileSync(path.join(dir, 'findings', `${String(i + 1).padStart(4, '0')}.json`), `${JSON.stringify(finding, null, 2)}\n`));
  }
  writeFileSync(path.join(dir, 'summary.json'), `${JSON.stringify(named, null, 2)}\n`);
  writeFileSync(named.report!, renderReportHtml(named, now));
  return named;
}
