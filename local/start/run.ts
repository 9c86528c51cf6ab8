/**
 * `npm start`: starts the embedded stack, replays the demo (or the given events), prints what was
 * scanned and where the results are, and stops every process it started.
 */
import { readFileSync } from 'node:fs';
import { classifyEvents, type ReplayItem } from '../replay/detect';
import { buildDemoScenario } from '../demo/scenario';
import { startLocalAwsStack, type LocalAwsStack } from '../stack/aws-stack';
import { startLocalAzureStack, type LocalAzureStack } from '../stack/azure-stack';
import { startEventReceiver } from '../serve/event-receiver';
import { replayAws } from './aws-replay';
import { replayAzure, DEFAULT_REPLAY_IMAGES } from './azure-replay';
import { parseStartOptions, UsageError, type StartOptions } from './options';
import { emptySummary, mergeSummaries, type ReplaySummary } from './summary';
import { renderTable } from './table';

export interface Progress {
  (line: string): void;
}

export interface EmbeddedStack {
  azure?: LocalAzureStack;
  aws?: LocalAwsStack;
  /** Azure workloads already defined in the ARM stub (lower-case ids). */
  knownWorkloads: Set<string>;
  stop(): Promise<void>;
}

export async function startEmbeddedStack(clouds: { azure: boolean; aws: boolean }, progress: Progress): Promise<EmbeddedStack> {
  const stack: EmbeddedStack = {
    knownWorkloads: new Set(),
    async stop() {
      await Promise.all([stack.azure?.stop(), stack.aws?.stop()]);
    },
  };
  try {
    await Promise.all([
      clouds.azure &&
        startLocalAzureStack().then((azure) => {
          stack.azure = azure;
          progress(`azure: Azurite ${azure.azurite.blobEndpoint}, ARM stub ${azure.arm.endpoint}, Qualys CS API simulator ${azure.sim.url}; Function App handlers on the queue pump`);
        }),
      clouds.aws &&
        startLocalAwsStack().then((aws) => {
          stack.aws = aws;
          progress(`aws: dynalite ${aws.dynamoEndpoint}, s3rver ${aws.s3Endpoint}, Lambda API stub ${aws.lambda.endpoint}, fake qscanner; scanner handler ready`);
        }),
    ]);
  } catch (error) {
    await stack.stop();
    throw error;
  }
  return stack;
}

export async function replay(stack: EmbeddedStack, items: ReplayItem[], images: readonly string[], progress: Progress): Promise<ReplaySummary> {
  const azureItems = items.filter((item): item is Extract<ReplayItem, { cloud: 'azure' }> => item.cloud === 'azure');
  const awsItems = items.filter((item): item is Extract<ReplayItem, { cloud: 'aws' }> => item.cloud === 'aws');
  const unknown = items.filter((item) => item.cloud === 'unknown');
  for (const item of unknown) progress(`skipped an event of unknown shape: ${'reason' in item ? item.reason : ''}`);
  const parts: Promise<ReplaySummary>[] = [];
  if (azureItems.length > 0) {
    if (!stack.azure) throw new Error('the Azure half of the stack is not running');
    progress(`azure: ${azureItems.length} event(s) onto the deployments queue`);
    parts.push(replayAzure(stack.azure, stack.knownWorkloads, azureItems, images.length > 0 ? images : DEFAULT_REPLAY_IMAGES).then((s) => (progress(`azure: queues drained, ${s.scans.length} scan record(s)`), s)));
  }
  if (awsItems.length > 0) {
    if (!stack.aws) throw new Error('the AWS half of the stack is not running');
    progress(`aws: ${awsItems.length} event(s) to the scanner as SQS batches`);
    parts.push(replayAws(stack.aws, awsItems).then((s) => (progress(`aws: ${s.scans.length} scan record(s)`), s)));
  }
  const unknownSummary = { ...emptySummary(), events: unknown.length, failed: unknown.length };
  return mergeSummaries(...(await Promise.all(parts)), unknownSummary);
}

export function renderSummary(summary: ReplaySummary): string {
  const rows = summary.scans.map((scan) => [
    scan.cloud,
    scan.workload,
    scan.image ?? scan.function ?? '-',
    scan.status,
    `${scan.counts.critical}/${scan.counts.high}/${scan.counts.medium}/${scan.counts.low}`,
    scan.cacheHit ? 'yes' : 'no',
    scan.resultKey,
  ]);
  const table = renderTable(['cloud', 'workload', 'image or function', 'status', 'crit/high/med/low', 'cache hit', 'result'], rows);
  return `${table}\n\n${summary.events} events: ${summary.processed} processed, ${summary.ignored} ignored, ${summary.failed} failed; ${summary.scans.length} scan records`;
}

function readEvents(files: readonly string[]): ReplayItem[] {
  return files.flatMap((file) => {
    let document: unknown;
    try {
      document = JSON.parse(readFileSync(file, 'utf8'));
    } catch (error) {
      throw new UsageError(`--event ${file}: ${(error as Error).message}`);
    }
    return classifyEvents(document);
  });
}

async function demo(progress: Progress): Promise<{ stack: EmbeddedStack; summary: ReplaySummary }> {
  const stack = await startEmbeddedStack({ azure: true, aws: true }, progress);
  try {
    const scenario = buildDemoScenario();
    for (const workload of scenario.containers) {
      const images = workloadImages(workload.resource);
      stack.azure!.deploy(workload.resource, images);
      stack.knownWorkloads.add(workload.resource.id.toLowerCase());
      progress(`azure: ${workload.kind} ${workload.resource.id.split('/').pop()} defined in the ARM stub (${images.join(', ')})`);
    }
    for (const fn of scenario.functions) {
      stack.aws!.lambda.putFunction(fn);
      progress(`aws: ${fn.packageType === 'Image' ? 'container image' : 'zip'} function ${fn.name} defined in the Lambda API stub`);
    }
    for (const event of scenario.events) progress(`event: ${event.label}`);
    const items = scenario.events.flatMap((event) => classifyEvents(event.event));
    return { stack, summary: await replay(stack, items, [], progress) };
  } catch (error) {
    await stack.stop();
    throw error;
  }
}

function workloadImages(resource: Record<string, unknown>): string[] {
  const properties = (resource.properties ?? {}) as Record<string, unknown>;
  const template = (properties.template ?? properties) as Record<string, unknown>;
  const containers = [...((template.containers as unknown[]) ?? []), ...((template.initContainers as unknown[]) ?? [])] as Record<string, unknown>[];
  return containers.map((c) => String(c.image ?? (c.properties as Record<string, unknown> | undefined)?.image ?? ''));
}

async function serve(options: StartOptions, progress: Progress): Promise<void> {
  const stack = await startEmbeddedStack({ azure: true, aws: true }, progress);
  const images = options.images.length > 0 ? options.images : DEFAULT_REPLAY_IMAGES;
  // One replay at a time, so each printed summary holds exactly the scans of its own delivery.
  let queue = Promise.resolve();
  const accept = async (items: ReplayItem[]) => {
    queue = queue
      .then(() => replay(stack, items, images, progress))
      .then((summary) => void process.stdout.write(`${renderSummary(summary)}\n`))
      .catch((error: unknown) => progress(`replay failed: ${(error as Error).message}`));
  };
  const receiver = await startEventReceiver({ azure: accept, aws: accept }, options.port ?? 0);
  const azure = stack.azure!;
  const aws = stack.aws!;
  process.stdout.write(
    [
      'shipscan embedded stack is up (Ctrl-C stops it)',
      `  events:     POST ${receiver.url}/eventgrid   (Event Grid webhook, validation handshake, CloudEvents)`,
      `              POST ${receiver.url}/eventbridge (EventBridge envelopes, CloudTrail records, bulk targets)`,
      `  Azure Storage (Storage Explorer): ${azure.azurite.connectionString}`,
      `  ARM stub: ${azure.arm.endpoint}   Qualys simulator: ${azure.sim.url}`,
      `  AWS (aws --endpoint-url ..., keys S3RVER/S3RVER): S3 ${aws.s3Endpoint}  DynamoDB ${aws.dynamoEndpoint}  Lambda ${aws.lambda.endpoint}`,
      '',
    ].join('\n'),
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  progress('stopping');
  await receiver.stop();
  await stack.stop();
}

export async function main(argv: readonly string[]): Promise<number> {
  const started = Date.now();
  let options: StartOptions;
  try {
    options = parseStartOptions(argv);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return error instanceof UsageError && argv.includes('--help') ? 0 : 2;
  }
  // Progress always goes to stderr, so `--json` leaves stdout to the summary alone.
  const progress: Progress = (line) => process.stderr.write(`[${((Date.now() - started) / 1000).toFixed(1).padStart(5)}s] ${line}\n`);
  if (options.mode === 'serve') {
    await serve(options, progress);
    return 0;
  }
  let run: { stack: EmbeddedStack; summary: ReplaySummary };
  if (options.mode === 'demo') {
    run = await demo(progress);
  } else {
    let items: ReplayItem[];
    try {
      items = readEvents(options.events);
    } catch (error) {
      process.stderr.write(`${(error as Error).message}\n`);
      return 2;
    }
    progress(`read ${items.length} event(s) from ${options.events.length} file(s)`);
    const stack = await startEmbeddedStack({ azure: items.some((i) => i.cloud === 'azure'), aws: items.some((i) => i.cloud === 'aws') }, progress);
    try {
      run = { stack, summary: await replay(stack, items, options.images, progress) };
    } catch (error) {
      await stack.stop();
      throw error;
    }
  }
  progress('stopping the embedded stack');
  await run.stack.stop();
  progress(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(options.json ? `${JSON.stringify(run.summary)}\n` : `\n${renderSummary(run.summary)}\n`);
  return 0;
}
