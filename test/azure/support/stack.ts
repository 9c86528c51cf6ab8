import { QueueServiceClient, type QueueClient } from '@azure/storage-queue';
import { BlobServiceClient } from '@azure/storage-blob';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type RunningAzurite } from '../../../local/emulators/azurite';
import { startArmStub, type ArmStub } from '../../../local/arm-stub/server';
import { containerAppVariant, containerGroupVariant, deploymentEventVariant, resourceId, type Kind } from '../../../local/arm-stub/variants';
import { startQualysSimulator, type QualysSimulator, type QualysSimulatorOptions, type SimClock } from '../../../local/qualys-sim';
import type { QueuePump } from '../../../local/queue-pump/pump';
import { startLocalAzureRuntime } from '../../../local/queue-pump/azure-runtime';
import { simulatedAppWiring, startSimulatedTime } from '../../../local/stack/simulated-azure';
import type { AppOverrides, AzureApp } from '../../../functions/azure/app';
import type { MemoryTelemetry } from '../../../functions/azure/telemetry';
import { loadCorpus } from '../../support/corpus';

/**
 * The Azure runtime end to end on loopback: Azurite (Blob, Queue, Table), the ARM stub, the Qualys
 * simulator, the real handlers driven by the queue pump, in simulated time (local/stack/simulated-azure).
 */

/**
 * Every URL off this machine that code in this process tried to fetch while a stack ran. Such a call
 * is refused (never sent), so a test cannot pass or fail on whether the internet is reachable; tests
 * assert this stays empty.
 */
export const offMachineFetches: string[] = [];
const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
let guards = 0;
let unguarded: typeof fetch | undefined;

function guardFetch(): () => void {
  if (guards++ === 0) {
    const original = globalThis.fetch;
    unguarded = original;
    globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
      const url = new URL(input instanceof Request ? input.url : String(input));
      if (!LOOPBACK.has(url.hostname)) {
        offMachineFetches.push(url.href);
        return Promise.reject(new TypeError(`test stack: refused a fetch to ${url.host} (off this machine)`));
      }
      return original(input, init);
    }) as typeof fetch;
  }
  return () => {
    if (--guards === 0 && unguarded) globalThis.fetch = unguarded;
  };
}

export const SUBSCRIPTION = '6b1f5a2e-1c7d-4a51-9f3e-2d8c0a7b9e41';
export const RESOURCE_GROUP = 'rg-shipscan-test';

export interface StackOptions {
  speed?: number;
  sim?: QualysSimulatorOptions;
  env?: Record<string, string>;
  app?: AppOverrides;
  /** Seconds a failed message stays invisible (host.json's visibilityTimeout, scaled down). */
  retryVisibilitySec?: number;
  /** Functions the pump drives (default both); the others are left for direct calls. */
  pumpFunctions?: string[];
}

export interface AzureStack {
  azurite: RunningAzurite;
  arm: ArmStub;
  sim: QualysSimulator;
  clock: SimClock;
  app: AzureApp;
  pump: QueuePump;
  telemetry: MemoryTelemetry;
  logs: string[];
  queues: QueueServiceClient;
  deployments: QueueClient;
  blobs: BlobServiceClient;
  table(name: string): TableClient;
  /** Puts the workload into the ARM stub and returns the Event Grid/CloudEvents message announcing it. */
  deploy(input: { kind: Kind; name: string; images: string[]; initImages?: string[]; correlationId: string; eventId: string; schema?: 'eventgrid' | 'cloudevents' }): unknown;
  /** Enqueues a message the way Event Grid's Storage Queue delivery does (base64 text). */
  send(message: unknown, encoding?: 'base64' | 'none'): Promise<void>;
  stop(): Promise<void>;
}

const EG_SAMPLE = 'azure/eventgrid-resourcewritesuccess-storage.azuredocs.json';
const CE_SAMPLE = 'azure/cloudevents-resourcewritesuccess-storage.azuredocs-de.json';

export async function startStack(options: StackOptions = {}): Promise<AzureStack> {
  const unguard = guardFetch();
  const time = startSimulatedTime(options.speed ?? 20);
  const [azurite, arm, sim] = await Promise.all([
    startAzurite(),
    startArmStub(),
    startQualysSimulator({ clock: time.clock, scanDuration: () => 60_000, ...options.sim }),
  ]);
  const { env, settings, telemetry, overrides } = simulatedAppWiring({ azurite, arm, sim, time, env: options.env });
  const logs: string[] = [];
  const runtime = await startLocalAzureRuntime({
    env,
    overrides: {
      ...overrides,
      // Waits Qualys asks for are in simulated seconds; the queue waits real ones.
      queueDelaySec: (sec) => sec / time.speed,
      ...options.app,
      // Client options given by a test (a retry budget) add to the simulated clock and limiter, not replace them.
      qualysClient: { ...overrides.qualysClient, ...options.app?.qualysClient, retry: { ...overrides.qualysClient?.retry, ...options.app?.qualysClient?.retry } },
    },
    pumpFunctions: options.pumpFunctions,
    retryVisibilitySec: options.retryVisibilitySec ?? 1,
    pumpTiming: { leaseSec: 60, maxPollIntervalMs: 100 },
    logHandler: (level, ...args) => logs.push(`${level} ${args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' ')}`),
  });
  const { app, pump } = runtime;
  const queues = QueueServiceClient.fromConnectionString(azurite.connectionString);
  const deployments = queues.getQueueClient(settings.deploymentsQueue);
  const aciSample = loadCorpus<Record<string, unknown>>('arm/aci-containergroup-get.json');
  const acaSample = loadCorpus<Record<string, unknown>>('arm/aca-containerapp-get.json');
  return {
    azurite,
    arm,
    sim,
    clock: time.clock,
    app,
    pump,
    telemetry,
    logs,
    queues,
    deployments,
    blobs: BlobServiceClient.fromConnectionString(azurite.connectionString),
    table: (name) => TableClient.fromConnectionString(azurite.connectionString, name, { allowInsecureConnection: true }),
    deploy(input) {
      const id = resourceId(input.kind, SUBSCRIPTION, RESOURCE_GROUP, input.name);
      arm.put(input.kind === 'ACI' ? (containerGroupVariant(aciSample, { id, images: input.images, initImages: input.initImages }) as { id: string }) : (containerAppVariant(acaSample, { id, images: input.images, initImages: input.initImages }) as { id: string }));
      const sample = loadCorpus(input.schema === 'cloudevents' ? CE_SAMPLE : EG_SAMPLE);
      return deploymentEventVariant(sample, { kind: input.kind, resourceUri: id, correlationId: input.correlationId, eventId: input.eventId });
    },
    async send(message, encoding = 'base64') {
      const text = typeof message === 'string' ? message : JSON.stringify(message);
      await deployments.sendMessage(encoding === 'base64' ? Buffer.from(text).toString('base64') : text);
    },
    async stop() {
      await time.stop();
      await runtime.stop();
      await Promise.all([azurite.stop(), arm.stop(), sim.stop()]);
      unguard();
    },
  };
}
