import { readFileSync } from 'node:fs';
import * as path from 'node:path';

/** The repository's KQL queries (`queries/*.kql`), deployed as saved searches, workbook steps and alert sources. */
export const QUERIES_DIR = path.resolve(__dirname, '..', 'queries');

export type QueryUse = 'saved-search' | 'alert';

export interface QueryEntry {
  file: string;
  /** Saved searches are listed under this name in the workspace's "Queries" pane. */
  displayName: string;
  use: QueryUse;
}

export const QUERY_CATALOG: readonly QueryEntry[] = [
  { file: 'recent-scans.kql', displayName: 'Recent container scans', use: 'saved-search' },
  { file: 'failed-scans.kql', displayName: 'Failed container scans', use: 'saved-search' },
  { file: 'qualys-dependency-performance.kql', displayName: 'Qualys API performance', use: 'saved-search' },
  { file: 'high-severity-findings.kql', displayName: 'Images with critical or high findings', use: 'saved-search' },
  { file: 'poison-and-deadletter.kql', displayName: 'Poison messages and dead-lettered events', use: 'saved-search' },
  { file: 'scans-over-time.kql', displayName: 'Scans over time', use: 'saved-search' },
  { file: 'vulnerabilities-by-severity.kql', displayName: 'Vulnerabilities by severity', use: 'saved-search' },
  { file: 'top-vulnerable-images.kql', displayName: 'Top vulnerable images', use: 'saved-search' },
  { file: 'deployment-events.kql', displayName: 'Deployment events that did not reach a scan', use: 'saved-search' },
  { file: 'exceptions-by-component.kql', displayName: 'Exceptions by component', use: 'saved-search' },
  { file: 'security-findings-open-by-severity.kql', displayName: 'Open security findings by severity', use: 'saved-search' },
  { file: 'security-findings-recent-transitions.kql', displayName: 'Security finding transitions (24 h)', use: 'saved-search' },
  { file: 'security-findings-top-actors.kql', displayName: 'Top risky actors (findings opened, 30 days)', use: 'saved-search' },
  { file: 'security-findings-by-rule.kql', displayName: 'Security findings by rule (30 days)', use: 'saved-search' },
  { file: 'security-events.kql', displayName: 'Security events that reached no finding decision', use: 'saved-search' },
  { file: 'alert-failed-scans.kql', displayName: 'Alert source: failed scans', use: 'alert' },
  { file: 'alert-poison-messages.kql', displayName: 'Alert source: poison messages', use: 'alert' },
  { file: 'alert-critical-findings.kql', displayName: 'Alert source: critical findings opened', use: 'alert' },
];

export class QueryFileError extends Error {
  override readonly name = 'QueryFileError';
}

/** The query text without its leading comment lines (Azure shows the display name instead). */
export function loadQuery(file: string, dir: string = QUERIES_DIR): string {
  let text: string;
  try {
    text = readFileSync(path.join(dir, file), 'utf8');
  } catch (error) {
    throw new QueryFileError(`query ${file} not found in ${dir}: ${(error as Error).message}`);
  }
  const lines = text.split('\n');
  while (lines.length > 0 && (lines[0]!.trim().startsWith('//') || lines[0]!.trim() === '')) lines.shift();
  const body = lines.join('\n').trim();
  if (body === '') throw new QueryFileError(`query ${file} in ${dir} is empty`);
  return body;
}

/** The first comment line: what the query shows. */
export function queryDescription(file: string, dir: string = QUERIES_DIR): string {
  const first = readFileSync(path.join(dir, file), 'utf8').split('\n')[0] ?? '';
  return first.replace(/^\/\/\s*/, '').trim();
}
