/**
 * The Azure half of the embedded stack: Azurite (Blob, Queue, Table), the ARM stub (which also
 * answers every registry manifest lookup: nothing leaves the machine), the Qualys CS API simulator and the real Function App handlers
 * driven from the Azurite queues by the queue pump, exactly as `functions/azure` runs in Azure.
 * Simulated time runs `speed` times faster for the simulator, the Qualys client and the poll delays,
 * so scans that take minutes at Qualys finish in seconds.
 */
import { createHash } from 'node:crypto';
import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import type { AppSettings } from '../../functions/azure/settings';
import { poisonQueueName } from '../queue-pump/pump';
import type { LogHandler } from '@azure/functions';
import { parseImageReference } from '../../shared/image-reference';
import { startAzurite, type RunningAzurite } from '../emulators/azurite';
import { startArmStub, type ArmStub } from '../arm-stub/server';
import { startQualysSimulator, type QualysSimulator } from '../qualys-sim';
import type { MemoryTelemetry } from '../../functions/azure/telemetry';
import { startLocalAzureRuntime, type LocalAzureRuntime } from '../queue-pump/azure-runtime';
import { simulatedAppWiring, startSimulatedTime } from './simulated-azure';
import { startResourceGraphSim, type ResourceGraphSim, type SimResource } from '../resource-graph-sim/server';
import type { RunReport } from '../../functions/azure/inventory/run';
import type { InventorySettings } from '../../functions/azure/inventory/settings';
import { OutboxEmailChannel } from '../../functions/notify/mail-recorder';
import { LOCAL_MAIL, MailOutbox } from './mail-outbox';

export interface LocalAzureStack {
  azurite: RunningAzurite;
  arm: ArmStub;
  sim: QualysSimulator;
  runtime: LocalAzureRuntime;
  /** ContainerScan events and the other telemetry the handlers emitted. */
  telemetry: MemoryTelemetry;
  deployments: QueueClient;
  /** With `inventory`: the Resource Graph simulator, the inventory-requests queue and every run's report. */
  inventory?: { graph: ResourceGraphSim; requests: QueueClient; reports: RunReport[]; subscriptions: string[]; settings: InventorySettings };
  /** ARM events of the security-event subscriptions (onSecurityEvent). */
  securityEvents: QueueClient;
  /** The finding emails onSecurityEvent sent (written to the run folder). */
  mail: MailOutbox;
  /** Makes a workload readable from ARM, and its images known to the registry stub and Qualys. */
  deploy(resource: { id: string } & Record<string, unknown>, images: readonly string[]): void;
  /** Enqueues an event the way Event Grid's Storage Queue delivery does (base64 JSON); resolves to the message id. */
  send(event: unknown): Promise<string>;
  /** The same, on the security-events queue (the security-event subscriptions' destination). */
  sendSecurityEvent(event: unknown): Promise<string>;
  /** Waits until both queues are empty and no invocation is running. */
  settle(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalAzureStackOptions {
  /** Simulated seconds per real second (default 60). */
  speed?: number;
  logHandler?: LogHandler;
  /** Turns the inventory on, over a Resource Graph simulator holding these resources in these subscriptions. */
  inventory?: { resources: readonly SimResource[]; subscriptions: readonly string[] };
}

const SILENT: LogHandler = () => undefined;

export async function startLocalAzureStack(options: LocalAzureStackOptions = {}): Promise<LocalAzureStack> {
  const speed = options.speed ?? 60;
  const time = startSimulatedTime(speed);
  const started: { stop(): Promise<void> }[] = [time];
  try {
    const graph = options.inventory ? await startResourceGraphSim({ resources: options.inventory.resources }) : undefined;
    if (graph) started.push(graph);
    const reports: RunReport[] = [];
    const [azurite, arm, sim] = await Promise.all([
      startAzurite(),
      startArmStub(),
      // Durations from the published profile are minutes; at `speed` they are seconds here.
      startQualysSimulator({ clock: time.clock, scanDuration: (image, random) => (image.size < 100 * 2 ** 20 ? 30_000 : 60_000) + random() * 30_000 }),
    ]);
    started.push(azurite, arm, sim);
    // Every registry is answered by the stub (the wiring's REGISTRY_ENDPOINTS `*`), so nothing leaves the machine.
    const inventoryEnv: Record<string, string> = graph
      ? { INVENTORY_ENABLED: 'true', INVENTORY_SUBSCRIPTIONS: options.inventory!.subscriptions.join(','), RESOURCE_GRAPH_ENDPOINT: graph.endpoint }
      : {};
    const wiring = simulatedAppWiring({ azurite, arm, sim, time, env: inventoryEnv });
    const { env, settings, telemetry } = wiring;
    // Inventory runs keep real time (Resource Graph's quota windows are real seconds), and report to the stack.
    const overrides = { ...wiring.overrides, inventory: { onReport: (report: RunReport) => void reports.push(report), now: () => new Date() } };
    await createStorage(azurite.connectionString, settings);
    const mail = new MailOutbox();
    const runtime = await startLocalAzureRuntime({
      env,
      // No relay here: the email channel writes each message to the outbox, which the run folder keeps.
      overrides: { ...overrides, securityEvents: { channels: [new OutboxEmailChannel({ ...LOCAL_MAIL, to: [...LOCAL_MAIL.to], sink: mail })] } },
      logHandler: options.logHandler ?? SILENT,
      retryVisibilitySec: 1,
    });
    started.push(runtime);
    const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
    const deployments = queues.getQueueClient(settings.deploymentsQueue);
    const securityEvents = queues.getQueueClient(settings.securityEventsQueue);
    const enqueue = async (queue: QueueClient, event: unknown) => (await queue.sendMessage(Buffer.from(JSON.stringify(event)).toString('base64'))).messageId;
    const inventory = graph
      ? {
          graph,
          requests: queues.getQueueClient(settings.inventory.queue),
          reports,
          subscriptions: [...options.inventory!.subscriptions],
          settings: settings.inventory,
        }
      : undefined;

    return {
      azurite,
      arm,
      sim,
      runtime,
      telemetry,
      deployments,
      ...(inventory ? { inventory } : {}),
      securityEvents,
      mail,
      deploy(resource, images) {
        arm.put(resource);
        for (const text of images) knowImage(sim, arm, text);
      },
      send: (event) => enqueue(deployments, event),
      sendSecurityEvent: (event) => enqueue(securityEvents, event),
      settle: (timeoutMs = 45_000) => runtime.pump.drain(timeoutMs),
      async stop() {
        await stopAll(started);
      },
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

/** The containers, tables and queues the infrastructure declares (azure/scanner.ts), made in Azurite. */
async function createStorage(connectionString: string, settings: AppSettings): Promise<void> {
  const blobs = BlobServiceClient.fromConnectionString(connectionString);
  const queues = QueueServiceClient.fromConnectionString(connectionString);
  const inv = settings.inventory;
  // The findings tables are created above for every stack; the inventory adds its own two.
  const inventoryTables = inv.enabled ? [inv.resourcesTable, inv.runsTable] : [];
  await Promise.all([
    ...[settings.resultsContainer, settings.deadLetterContainer].map((name) => blobs.getContainerClient(name).createIfNotExists()),
    ...[settings.scanTable, settings.lockTable, settings.dedupeTable, settings.findingsTable, settings.findingsIndexTable, ...inventoryTables].map((name) =>
      TableClient.fromConnectionString(connectionString, name, { allowInsecureConnection: true }).createTable(),
    ),
    ...[settings.deploymentsQueue, settings.pollsQueue, settings.securityEventsQueue, ...(inv.enabled ? [inv.queue] : [])]
      .flatMap((name) => [name, poisonQueueName(name)])
      .map((name) => queues.getQueueClient(name).createIfNotExists()),
  ]);
}

/**
 * An image a replayed workload runs that the simulator does not hold yet: registered with a few
 * findings picked from the knowledge base by its name, so any real event can be replayed offline.
 */
function knowImage(sim: QualysSimulator, arm: ArmStub, text: string): void {
  let ref;
  try {
    ref = parseImageReference(text);
  } catch {
    return; // The handler records unparsable images as FAILED scans; nothing to prepare.
  }
  if (sim.findImage(ref.canonical)) return;
  const seed = createHash('sha256').update(ref.name).digest();
  const qids = [...sim.catalogue.kb.keys()];
  const vulns = [0, 1, 2].map((i) => ({ qid: qids[seed[i]! % qids.length]!, package: `pkg-${seed[i]}`, version: '1.0.0', fixVersion: '1.0.1' }));
  const image = sim.registerImage({ registry: ref.registry, repository: ref.repository, tags: [ref.tag ?? 'latest'], vulns: [...new Map(vulns.map((v) => [v.qid, v])).values()] });
  if (!sim.catalogue.registries.some((r) => r.registryUri.includes(ref.registry))) {
    sim.registerRegistry({ registryUri: `https://${ref.registry}`, registryType: 'Custom', credentialType: 'None' });
  }
  arm.setManifest(image.repository, ref.tag ?? 'latest', image.digest);
}

async function stopAll(started: { stop(): Promise<void> }[]): Promise<void> {
  for (const part of started.reverse()) await part.stop().catch(() => undefined);
}
