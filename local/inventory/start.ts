import type { StartOptions } from '../start/options';
import type { ProgressReporter } from '../start/progress';
import { EXIT } from '../start/exit-codes';
import { renderText } from '../start/output/text';
import { emptySummary, type RunSummary } from '../start/summary';
import { runAwsInventoryDemo, type AwsInventoryStep } from './aws-start';

/**
 * `npm start -- --inventory`: the scheduled inventory and posture evaluation on the local stack, then a
 * fixing event replayed through the real-time path. Prints the findings (text, or with `--json` the run
 * summary whose `findings` array has the same rows as an event replay's) and what each step did.
 */

export interface InventorySummary extends RunSummary {
  inventory: { aws: { steps: AwsInventoryStep[] } };
}

/** The Azure half, when the caller runs it (the embedded stack), and where the run folder is written. */
export interface InventoryHalves {
  azure?: () => Promise<RunSummary>;
  write?: (summary: InventorySummary) => Promise<InventorySummary>;
}

export async function runInventoryMode(options: StartOptions, reporter: ProgressReporter, halves: InventoryHalves = {}): Promise<number> {
  const azure = halves.azure ? await halves.azure() : emptySummary();
  const aws = await runAwsInventoryDemo((line) => reporter.log(line));
  let summary: InventorySummary = { ...azure, findings: [...azure.findings, ...aws.findings], inventory: { aws: { steps: aws.steps } } };
  if (halves.write) summary = await halves.write(summary);
  reporter.end();
  if (options.json) {
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const steps = aws.steps.map((s) => `  ${s.step}: ${s.detail}`).join('\n');
    process.stdout.write(`\naws inventory:\n${steps}\n\n${renderText(summary, { wide: options.wide, cwd: process.cwd() })}\n`);
  }
  // The fixing events must resolve their findings: otherwise the real-time path is broken.
  return azure.failures.length > 0 || aws.fixed?.state !== 'RESOLVED' ? EXIT.eventFailed : EXIT.ok;
}
