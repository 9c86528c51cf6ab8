import { QueueServiceClient } from '@azure/storage-queue';
import { createAzureApp, type AppOverrides, type AzureApp } from '../../functions/azure/app';
import { loadSettings } from '../../functions/azure/settings';
import { MAX_DEQUEUE_COUNT, QUEUE_BATCH_SIZE, RETRY_VISIBILITY_SEC } from '../../functions/azure/host-settings';
import { QueuePump, type QueuePumpOptions } from './pump';
import type { LogHandler } from '@azure/functions';

/**
 * The Azure Function App as `npm start` runs it: the real handlers (built from app settings exactly
 * as in Azure) driven from Azurite queues by the queue pump. The caller provides the settings a
 * local stack needs: `AzureWebJobsStorage` (Azurite), `QUALYS_GATEWAY` (the simulator) and
 * credentials, `ARM_ENDPOINT` (the ARM stub), optionally `REGISTRY_ENDPOINTS`.
 */
export interface LocalAzureRuntime {
  app: AzureApp;
  pump: QueuePump;
  stop(): Promise<void>;
}

export async function startLocalAzureRuntime(options: {
  env: Record<string, string | undefined>;
  overrides?: AppOverrides;
  logHandler?: LogHandler;
  /**
   * Seconds before a failed message is retried (host.json `visibilityTimeout`, RETRY_VISIBILITY_SEC; simulated
   * stacks pass it scaled down to their time). The delivery count and poison move follow MAX_DEQUEUE_COUNT as the host does.
   */
  retryVisibilitySec?: number;
  /** Names of the functions the pump drives (default all); the others are left for direct calls. */
  pumpFunctions?: readonly string[];
  /** Pump timing other than its defaults (tests lease for less and poll more often). */
  pumpTiming?: Pick<QueuePumpOptions, 'leaseSec' | 'maxPollIntervalMs'>;
}): Promise<LocalAzureRuntime> {
  const settings = loadSettings(options.env);
  if (!settings.storage.connectionString) throw new Error('startLocalAzureRuntime needs AzureWebJobsStorage (an Azurite connection string)');
  const app = createAzureApp(settings, options.overrides);
  const only = options.pumpFunctions;
  const pump = new QueuePump({
    queues: QueueServiceClient.fromConnectionString(settings.storage.connectionString),
    functions: only ? app.functions.filter((f) => only.includes(f.name)) : app.functions,
    maxDequeueCount: MAX_DEQUEUE_COUNT,
    retryVisibilitySec: options.retryVisibilitySec ?? RETRY_VISIBILITY_SEC,
    batchSize: QUEUE_BATCH_SIZE,
    ...options.pumpTiming,
    logHandler: options.logHandler ?? ((level, ...args) => console.log(`[azure ${level}]`, ...args)),
  });
  await pump.start();
  return {
    app,
    pump,
    async stop() {
      await pump.stop();
      await app.dispose();
    },
  };
}
