/**
 * The run as text on stdout: the scans table (120 columns by default, full values with `--wide`),
 * then failures and ignored events with their reasons, findings, the counts, and where the run folder is.
 */
import * as path from 'node:path';
import { countsLine, scanTarget, type RunSummary } from '../summary';
import { fitTable, middleEllipsis, renderTable, wrap } from '../table';

export const DEFAULT_WIDTH = 120;

export interface TextOptions {
  wide: boolean;
  /** Paths are shown relative to this directory when shorter. */
  cwd?: string;
}

function shortPath(file: string, cwd: string | undefined): string {
  if (!cwd) return file;
  const relative = path.relative(cwd, file);
  return relative.length < file.length && !relative.startsWith('..') ? relative : file;
}

export function renderText(summary: RunSummary, options: TextOptions): string {
  const width = options.wide ? Number.POSITIVE_INFINITY : DEFAULT_WIDTH;
  const sections: string[] = [];
  const headers = ['cloud', 'workload', 'image or function', 'status', 'crit/high/med/low', 'cached'];
  const rows = summary.scans.map((scan) => [
    scan.cloud,
    scan.workload,
    scanTarget(scan),
    scan.status,
    `${scan.counts.critical}/${scan.counts.high}/${scan.counts.medium}/${scan.counts.low}`,
    scan.cacheHit ? 'yes' : 'no',
  ]);
  if (options.wide) {
    sections.push(renderTable([...headers, 'stored at', 'copy in the run folder'], rows.map((row, i) => [...row, summary.scans[i]!.resultKey, summary.scans[i]!.file ?? '-'])));
  } else if (rows.length > 0) {
    sections.push(fitTable(headers, rows, DEFAULT_WIDTH, [1, 2, 3]));
  }
  /** Two lines per event: where it came from and what it is, then the reason, wrapped. */
  const entry = (e: { source: string; label: string }, reason: string) => {
    // The source loses its middle first (its end names the file and the event's position), then the label.
    const source = Number.isFinite(width) ? middleEllipsis(e.source, Math.max(24, width - 4 - e.label.length)) : e.source;
    const head = `  ${source}  ${e.label}`;
    return `${Number.isFinite(width) ? middleEllipsis(head, width) : head}\n      ${wrap(reason, width, '      ')}`;
  };
  if (summary.failures.length > 0) {
    sections.push([`failed (${summary.failures.length}):`, ...summary.failures.map((f) => entry(f.event, f.reason))].join('\n'));
  }
  if (summary.ignored.length > 0) {
    sections.push([`ignored (${summary.ignored.length}):`, ...summary.ignored.map((i) => entry(i.event, `dropped by ${i.by}: ${i.reason}`))].join('\n'));
  }
  if (summary.findings.length > 0) {
    sections.push(
      [`findings (${summary.findings.length}):`, ...summary.findings.map((f) => `  ${wrap(`${f.severity} ${f.ruleId} ${f.state} ${f.resourceId}${f.actor ? ` by ${f.actor}` : ''}`, width, '    ')}`)].join('\n'),
    );
  }
  if (summary.emails.length > 0) {
    const folder = summary.resultsDir ? `${shortPath(summary.resultsDir, options.cwd)}${path.sep}` : '';
    // The full path when it fits, so it can be pasted; else the path in the run folder the footer names.
    const where = (file: string) => (`    ${folder}${file}`.length <= width ? `${folder}${file}` : file);
    sections.push(
      [
        `emails (${summary.emails.length}, written to the run folder instead of sent):`,
        ...summary.emails.map((e) => `  ${wrap(`${e.to.join(', ')}: ${e.subject}`, width, '    ')}\n    ${where(e.eml)}`),
      ].join('\n'),
    );
  }
  const footer = [countsLine(summary)];
  if (summary.resultsDir) footer.push(`results: ${shortPath(summary.resultsDir, options.cwd)}${path.sep} (report.html, summary.json, results/)`);
  sections.push(footer.join('\n'));
  return sections.join('\n\n');
}
