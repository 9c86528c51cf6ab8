/**
 * `npm start` / `npx shipscan`: reads the events (the demo's, or `--event` files), passes each through
 * the stack's own routing (EventBridge rule, Event Grid subscription filter), starts the halves of the
 * embedded stack that the delivered events need, replays them with the deployed handler code, keeps
 * what was stored in a run folder, stops every process it started, and prints the run: a table, or
 * one JSON document with `--json`. Exit codes: ./exit-codes.ts.
 */
import { accessSync, constants, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { classifyEvents, type ReplayItem, type ReplayKind } from '../replay/detect';
import { demoReleaseArchive } from '../demo/objects';
import { readArmFiles, seedArmResources, workloadImages, type ArmResource } from './arm-resources';
import { buildDemoScenario } from '../demo/scenario';
import { startEventReceiver } from '../serve/event-receiver';
import { EXIT } from './exit-codes';
import { REPLAYERS, replayerOf, type Delivery, type Progress, type Replayer } from './kinds';
import { runInventoryMode } from '../inventory/start';
import { HelpRequested, parseStartOptions, UsageError, type StartOptions } from './options';
import { collectStoredResults, writeRunFolder } from './output/run-folder';
import { renderText } from './output/text';
import { liveProgressWanted, progressReporter, type ProgressReporter } from './progress';
import { RunRecorder } from './recorder';
import { startEmbeddedStack, type EmbeddedStack } from './stack';
import { FINDINGS_TABLE } from '../stack/aws-stack';
import type { EventRef, RunSummary } from './summary';
import { AZURE_INVENTORY_REQUESTS, azureInventoryStackOptions, runAzureInventoryDemo } from './inventory';

export { startEmbeddedStack, type EmbeddedStack } from './stack';

const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const DEFAULT_OUT_DIR = path.join(PROJECT_ROOT, '.shipscan');

/** An event to replay, with where it came from. */
export interface SourcedItem {
  item: ReplayItem;
  source: string;
  /** Overrides the kind's label (the demo names its events). */
  label?: string;
}

function refOf(sourced: SourcedItem): EventRef {
  const { item } = sourced;
  const label = sourced.label ?? (item.kind === 'unknown' ? 'not an event shipscan knows' : replayerOf(item).label(item));
  return { source: sourced.source, cloud: item.cloud, label };
}

function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : path.basename(file);
}

export function readEventFiles(files: readonly string[]): SourcedItem[] {
  return files.flatMap((file) => {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`--event ${file}: ${(error as Error).message}`);
    }
    return classifyEvents(document).map((item, index) => ({ item, source: `${displayPath(file)}#${index + 1}` }));
  });
}

interface Routed {
  deliveries: Map<ReplayKind, Delivery<ReplayKind>[]>;
  clouds: { aws: boolean; azure: boolean };
}

/** Settles what never reaches a pipeline (unknown shapes, events a rule drops); groups the rest by kind. */
function route(items: readonly SourcedItem[], recorder: RunRecorder): Routed {
  const deliveries = new Map<ReplayKind, Delivery<ReplayKind>[]>();
  const clouds = { aws: false, azure: false };
  for (const sourced of items) {
    const ref = refOf(sourced);
    const { item } = sourced;
    if (item.kind === 'unknown') {
      recorder.failed(ref, `unknown event shape: ${item.reason}`);
      continue;
    }
    const replayer = replayerOf(item);
    const decision = replayer.route(item);
    if (!decision.deliver) {
      recorder.ignored(ref, decision.by, decision.reason);
      continue;
    }
    clouds[replayer.cloud] = true;
    const list = deliveries.get(item.kind) ?? [];
    list.push({ item, ref, body: decision.body });
    deliveries.set(item.kind, list);
  }
  return { deliveries, clouds };
}

/** The `--object` files, checked before anything starts: each must be a readable regular file. */
export function checkObjectFiles(files: readonly string[]): string[] {
  return files.map((file) => {
    let isFile: boolean;
    try {
      isFile = statSync(file).isFile();
      accessSync(file, constants.R_OK);
    } catch (error) {
      throw new UsageError(`--object ${file}: ${(error as Error).message}`);
    }
    if (!isFile) throw new UsageError(`--object ${file}: not a regular file`);
    return path.resolve(file);
  });
}

async function replayRouted(stack: EmbeddedStack, routed: Routed, inputs: ReplayInputs, recorder: RunRecorder, progress: Progress): Promise<void> {
  await Promise.all(
    [...routed.deliveries].map(async ([kind, deliveries]) => {
      progress(`${kind}: ${deliveries.length} event(s) delivered to the pipeline`);
      // Deliveries are grouped by their item's kind, so each replayer gets only its own kind (see replayerOf).
      await (REPLAYERS[kind] as unknown as Replayer<ReplayKind>).replay(deliveries, { stack, images: inputs.images, objects: inputs.objects, recorder, progress });
      progress(`${kind}: done`);
    }),
  );
}

/** What the replayers get besides the events: `--image` and `--object`. */
interface ReplayInputs {
  images: readonly string[];
  objects: readonly string[];
}

interface RunPlan extends ReplayInputs {
  items: SourcedItem[];
  /** Start both halves whatever the events need (the demo defines workloads in both). */
  clouds?: { aws: boolean; azure: boolean };
  setup?: (stack: EmbeddedStack, progress: Progress) => void | Promise<void>;
}

/** Routes, replays, keeps the stored results and stops the stack; the summary names the run folder. */
export async function runReplay(plan: RunPlan, reporter: ProgressReporter, outDir: string): Promise<RunSummary> {
  const recorder = new RunRecorder(reporter.meter(plan.items.length));
  recorder.expect(plan.items.length);
  const progress: Progress = (line) => reporter.log(line);
  const routed = route(plan.items, recorder);
  const dropped = plan.items.length - [...routed.deliveries.values()].reduce((n, list) => n + list.length, 0);
  if (dropped > 0) progress(`${dropped} event(s) settled before any pipeline (dropped by a rule or of unknown shape)`);
  const clouds = plan.clouds ?? routed.clouds;
  let files = new Map<string, string>();
  if (clouds.aws || clouds.azure) {
    const stack = await startEmbeddedStack(clouds, progress);
    try {
      await plan.setup?.(stack, progress);
      await replayRouted(stack, routed, plan, recorder, progress);
      files = await collectStoredResults(recorder.result(), (uri) => stack.readStored(uri));
      for (const [file, text] of recorder.files()) files.set(file, text);
    } finally {
      progress('stopping the embedded stack');
      await stack.stop();
    }
  }
  reporter.end();
  return writeRunFolder(outDir, recorder.result(), files);
}

/** Seeds the ARM stub with the `--arm` bodies once the Azure half runs (no Azure event, nothing to seed). */
function armSetup(resources: readonly ArmResource[]): RunPlan['setup'] {
  if (resources.length === 0) return undefined;
  return (stack, progress) => {
    if (!stack.azure) return;
    seedArmResources(stack.azure, stack.knownWorkloads, resources);
    for (const resource of resources) progress(`azure: ${resource.id.split('/').slice(-2).join('/')} defined in the ARM stub (--arm)`);
  };
}

function demoPlan(): RunPlan {
  const scenario = buildDemoScenario();
  const items = scenario.events.flatMap((event, index) =>
    classifyEvents(event.event).map((item): SourcedItem => ({ item, source: `demo#${index + 1}`, label: event.label })),
  );
  return {
    items,
    images: [],
    objects: [],
    clouds: { aws: true, azure: true },
    async setup(stack, progress) {
      for (const workload of scenario.containers) {
        const images = workloadImages(workload.resource);
        stack.azure!.deploy(workload.resource, images);
        stack.knownWorkloads.add(workload.resource.id.toLowerCase());
        progress(`azure: ${workload.kind} ${workload.resource.id.split('/').pop()} defined in the ARM stub (${images.join(', ')})`);
      }
      seedArmResources(stack.azure!, stack.knownWorkloads, scenario.armResources);
      for (const resource of scenario.armResources) progress(`azure: ${resource.id.split('/').slice(-2).join('/')} defined in the ARM stub`);
      for (const fn of scenario.functions) {
        stack.aws!.lambda.putFunction(fn);
        progress(`aws: ${fn.packageType === 'Image' ? 'container image' : 'zip'} function ${fn.name} defined in the Lambda API stub`);
      }
      const archive = scenario.objects.length > 0 ? await demoReleaseArchive() : undefined;
      for (const object of scenario.objects) {
        await stack.aws!.putObject(object.bucket, object.key, archive!);
        progress(`aws: release archive (${archive!.length} bytes) uploaded to s3://${object.bucket}/${object.key}`);
      }
      for (const event of scenario.events) progress(`event: ${event.label}`);
    },
  };
}

function serveInstructions(receiverUrl: string, stack: EmbeddedStack): string {
  const azure = stack.azure!;
  const aws = stack.aws!;
  const awsEnv = 'AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1';
  return [
    'shipscan embedded stack is up (Ctrl-C stops it)',
    `  events:     POST ${receiverUrl}/eventgrid   (Event Grid webhook, validation handshake, CloudEvents)`,
    `              POST ${receiverUrl}/eventbridge (EventBridge envelopes, CloudTrail records, bulk targets)`,
    `  ARM stub: ${azure.arm.endpoint}   Qualys simulator: ${azure.sim.url}`,
    '',
    'Browse what the pipeline stores while it runs:',
    '  Azure Storage Explorer: Connect > Storage account or service > Connection string, and paste',
    `    ${azure.azurite.connectionString}`,
    `  or the Azure CLI: az storage blob list --container-name scan-results --output table --connection-string "${azure.azurite.connectionString}"`,
    `                   az storage entity query --table-name ScanMetadata --connection-string "${azure.azurite.connectionString}"`,
    `  AWS CLI (results, cache, functions):`,
    `    ${awsEnv} aws --endpoint-url ${aws.s3Endpoint} s3 ls s3://shipscan-results --recursive`,
    `    ${awsEnv} aws --endpoint-url ${aws.dynamoEndpoint} dynamodb scan --table-name shipscan-cache`,
    `    ${awsEnv} aws --endpoint-url ${aws.dynamoEndpoint} dynamodb scan --table-name ${FINDINGS_TABLE}   (security-event findings)`,
    `    ${awsEnv} aws --endpoint-url ${aws.lambda.endpoint} lambda list-functions`,
    '',
  ].join('\n');
}

async function serve(options: StartOptions, arm: readonly ArmResource[], reporter: ProgressReporter, outDir: string): Promise<void> {
  const progress: Progress = (line) => reporter.log(line);
  const stack = await startEmbeddedStack({ azure: true, aws: true }, progress);
  armSetup(arm)?.(stack, progress);
  let deliveriesSeen = 0;
  // One replay at a time, so each printed summary holds exactly the scans of its own delivery.
  let queue = Promise.resolve();
  const accept = async (items: ReplayItem[]) => {
    const delivery = ++deliveriesSeen;
    queue = queue
      .then(async () => {
        const recorder = new RunRecorder();
        recorder.expect(items.length);
        const routed = route(items.map((item, index) => ({ item, source: `http${delivery}#${index + 1}` })), recorder);
        await replayRouted(stack, routed, { images: options.images, objects: [] }, recorder, progress);
        const files = await collectStoredResults(recorder.result(), (uri) => stack.readStored(uri));
        for (const [file, text] of recorder.files()) files.set(file, text);
        const summary = writeRunFolder(outDir, recorder.result(), files);
        process.stdout.write(`${renderText(summary, { wide: options.wide, cwd: process.cwd() })}\n`);
      })
      .catch((error: unknown) => progress(`replay failed: ${(error as Error).message}`));
  };
  const receiver = await startEventReceiver({ azure: accept, aws: accept }, options.port ?? 0);
  process.stdout.write(serveInstructions(receiver.url, stack));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  progress('stopping');
  await receiver.stop();
  await queue;
  await stack.stop();
}

/** `--inventory`: the scheduled inventory and posture evaluation on seeded fake accounts (the Azure half here). */
async function runInventory(reporter: ProgressReporter): Promise<RunSummary> {
  const recorder = new RunRecorder(reporter.meter(AZURE_INVENTORY_REQUESTS));
  recorder.expect(AZURE_INVENTORY_REQUESTS);
  const progress: Progress = (line) => reporter.log(line);
  const stack = await startEmbeddedStack({ azure: true, aws: false }, progress, { azureInventory: azureInventoryStackOptions() });
  try {
    await runAzureInventoryDemo(stack, recorder, progress);
  } finally {
    progress('stopping the embedded stack');
    await stack.stop();
  }
  return recorder.result();
}

function showError(error: unknown, verbose: boolean): string {
  if (!(error instanceof Error)) return String(error);
  return verbose && error.stack ? error.stack : error.message;
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: StartOptions;
  try {
    options = parseStartOptions(argv);
  } catch (error) {
    if (error instanceof HelpRequested) {
      process.stdout.write(`${error.message}\n`);
      return EXIT.ok;
    }
    process.stderr.write(`${(error as Error).message}\n`);
    return EXIT.usage;
  }
  const verbose = options.verbose || /(^|,)shipscan(,|$)|^\*$/.test(process.env.DEBUG ?? '');
  const reporter = progressReporter(process.stderr, liveProgressWanted(process.stderr, options.json));
  const outDir = path.resolve(options.out ?? DEFAULT_OUT_DIR);
  try {
    if (options.mode === 'serve') {
      let arm: ArmResource[];
      try {
        arm = readArmFiles(options.arm);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        return EXIT.usage;
      }
      await serve(options, arm, reporter, outDir);
      return EXIT.ok;
    }
    if (options.mode === 'inventory') {
      // Both halves: Azure on the embedded stack (Resource Graph simulator), AWS on its fake APIs and dynalite.
      return await runInventoryMode(options, reporter, {
        azure: () => runInventory(reporter),
        write: async (summary) => ({ ...summary, ...(await writeRunFolder(outDir, summary, new Map())) }),
      });
    }
    let plan: RunPlan;
    if (options.mode === 'demo') {
      plan = demoPlan();
    } else {
      try {
        const arm = readArmFiles(options.arm);
        plan = { items: readEventFiles(options.events), images: options.images, objects: checkObjectFiles(options.objects), setup: armSetup(arm) };
        if (arm.length > 0) reporter.log(`read ${arm.length} ARM resource(s) from ${options.arm.length} file(s)`);
      } catch (error) {
        process.stderr.write(`${(error as Error).message}\n`);
        return EXIT.usage;
      }
      reporter.log(`read ${plan.items.length} event(s) from ${options.events.length} file(s)`);
    }
    const summary = await runReplay(plan, reporter, outDir);
    reporter.log(`done; run folder ${summary.resultsDir}`);
    process.stdout.write(options.json ? `${JSON.stringify(summary)}\n` : `\n${renderText(summary, { wide: options.wide, cwd: process.cwd() })}\n`);
    return summary.failures.length > 0 ? EXIT.eventFailed : EXIT.ok;
  } catch (error) {
    reporter.end();
    process.stderr.write(`shipscan: the run broke: ${showError(error, verbose)}${verbose ? '' : '\n(run again with --verbose or DEBUG=shipscan for the stack trace)'}\n`);
    return EXIT.internal;
  }
}
