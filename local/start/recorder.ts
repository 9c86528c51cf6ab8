/**
 * Collects what a run produced while the replayers work: each event is settled exactly once
 * (processed, ignored or failed), scans and findings are rows of their own. The progress meter
 * listens to settlements.
 */
import { emptySummary, type EmailRow, type EventRef, type FindingRow, type RunSummary, type ScanRow } from './summary';

export class RunRecorder {
  private readonly summary: RunSummary = emptySummary();
  private settledCount = 0;
  private readonly settled = new Set<EventRef>();
  private readonly attachments = new Map<string, string>();

  constructor(private readonly onSettled: (settled: number) => void = () => undefined) {}

  /** Events replayed in this run (counted once, whatever happens to them). */
  expect(count: number): void {
    this.summary.events += count;
  }

  processed(event: EventRef): void {
    if (this.settle(event)) this.summary.processed += 1;
  }

  ignored(event: EventRef, by: string, reason: string): void {
    if (this.settle(event)) this.summary.ignored.push({ event, by, reason });
  }

  failed(event: EventRef, reason: string): void {
    if (this.settle(event)) this.summary.failures.push({ event, reason });
  }

  scan(row: ScanRow): void {
    this.summary.scans.push(row);
  }

  finding(row: FindingRow): void {
    this.summary.findings.push(row);
  }

  /** An email the run wrote instead of sending; its `.eml` and `.html` go to the run folder. */
  email(row: EmailRow, content: { eml: string; html: string }): void {
    this.summary.emails.push(row);
    this.attachments.set(row.eml, content.eml);
    this.attachments.set(row.html, content.html);
  }

  /** Files for the run folder beside the stored results (relative path -> text). */
  files(): ReadonlyMap<string, string> {
    return this.attachments;
  }

  isSettled(event: EventRef): boolean {
    return this.settled.has(event);
  }

  result(): RunSummary {
    return this.summary;
  }

  /** An event settles once: a second verdict (a late duplicate outcome) is a bug in a replayer, not a second event. */
  private settle(event: EventRef): boolean {
    if (this.settled.has(event)) return false;
    this.settled.add(event);
    this.settledCount += 1;
    this.onSettled(this.settledCount);
    return true;
  }
}
