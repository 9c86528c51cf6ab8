import { DefaultAzureCredential, type TokenCredential } from '@azure/identity';
import type { InvocationContext } from '@azure/functions';
import { parseImageReference } from '../../shared/image-reference';
import type { ScanWorkflow } from '../../shared/qualys/contracts';
import { createScanWorkflow } from '../../shared/qualys/workflow';
import type { QualysClientOptions } from '../../shared/qualys/cs-client';
import { loadSettings, secretValues, SettingsError, type AppSettings } from './settings';
import { createStorageClients, type StorageClients } from './storage-clients';
import { ScanStore } from './scan-store';
import { ScanLocks } from './scan-locks';
import { EventDedupe } from './event-dedupe';
import { PollQueue } from './poll-message';
import { ArmWorkloadReader, type WorkloadReader } from './arm-workloads';
import { RegistryDigestResolver, type DigestResolver } from './registry-digest';
import { QualysCredentialProvider, type SecretReader } from './qualys-credentials';
import { RotatingWorkflow } from './rotating-workflow';
import { CheckBatcher } from './check-batcher';
import { policyPollDelay, type PollDelay } from './poll-timing';
import { RateLimiter } from '../../shared/qualys/rate-limiter';
import { DurationTracker } from '../../shared/poll-policy';
import { createTelemetry, observeQualysCalls, type Telemetry } from './telemetry';
import { createOnDeployment } from './on-deployment';
import { createPollScan } from './poll-scan';
import { createLogger, redactor } from './log';
import { MAX_DEQUEUE_COUNT } from './host-settings';
import { defaultRetryPolicy, type RetryPolicy } from './retry-policy';
import { COMPONENTS, FUNCTION_NAMES } from './telemetry-names';
import { createInventoryFunctions, INVENTORY_FUNCTION_NAMES, type InventoryFunctions, type InventoryOverrides, type TimerDefinition } from './inventory';
import { createSecurityEventHandler, type SecurityEventOverrides } from './security-events/wiring';

/** Parts a test, the benchmark or `npm start` may replace; everything else is built from the settings. */
export interface AppOverrides {
  credential?: TokenCredential;
  workflow?: ScanWorkflow;
  workloads?: WorkloadReader;
  digests?: DigestResolver;
  secrets?: SecretReader;
  telemetry?: Telemetry;
  pollDelay?: PollDelay;
  storage?: StorageClients;
  /** Extra Qualys client options (a simulated clock, retry budgets) for tests and benchmarks. */
  qualysClient?: Partial<Pick<QualysClientOptions, 'clock' | 'rateLimiter' | 'retry' | 'requestTimeoutMs' | 'random'>>;
  /** Window in which concurrent poll checks are merged into one checkMany (default 50 ms). */
  checkWindowMs?: number;
  /** Most tickets per checkMany (default 50; 1 turns batching off, for the benchmark's baseline). */
  checkMaxBatch?: number;
  /** Turns a wait (Qualys' or our own backoff, in seconds of `now`'s clock) into queue seconds (simulated time runs faster than the queue's). */
  queueDelaySec?: (sec: number) => number;
  /** Retry and deferral budgets other than the defaults (tests shrink them). */
  retryPolicy?: Partial<RetryPolicy>;
  now?: () => Date;
  /** The inventory's Resource Graph client (the simulator), collector timing, digest channels, a report hook. */
  inventory?: InventoryOverrides;
  /** onSecurityEvent's ARM reader and finding channels (the local stack writes emails to files). */
  securityEvents?: SecurityEventOverrides;
}

export type QueueHandler = (message: unknown, context: InvocationContext) => Promise<unknown>;

export interface FunctionDefinition {
  name: string;
  queueName: string;
  handler: QueueHandler;
}

export interface AzureApp {
  settings: AppSettings;
  functions: FunctionDefinition[];
  telemetry: Telemetry;
  batcher: CheckBatcher;
  /** The Qualys workflow both handlers call (submit, results). */
  workflow: ScanWorkflow;
  rateLimiter: RateLimiter;
  /** Scan durations seen by this process: the poll policy's guess for images of unknown size. */
  durations: DurationTracker;
  stores: { store: ScanStore; locks: ScanLocks; dedupe: EventDedupe; polls: PollQueue };
  /** Timer-triggered functions (the inventory's schedules, when it is enabled). */
  timers: TimerDefinition[];
  /** The inventory's functions and what they use, when `INVENTORY_ENABLED`. */
  inventory?: InventoryFunctions;
  dispose(): Promise<void>;
}

/** A credential that answers with a fixed token: only ever used against the loopback ARM stub. */
class LoopbackCredential implements TokenCredential {
  async getToken() {
    return { token: 'local-arm-stub-token', expiresOnTimestamp: Date.now() + 3600_000 };
  }
}

function isLoopback(url: string | undefined): boolean {
  if (!url) return false;
  const host = new URL(url).hostname;
  return host === '127.0.0.1' || host === 'localhost' || host === '[::1]';
}

/** Builds both handlers and everything they use from validated settings. */
export function createAzureApp(settings: AppSettings, overrides: AppOverrides = {}): AzureApp {
  redactor.add(...secretValues(settings));
  // A loopback ARM endpoint means a local run (tests, `npm start`): a fake credential, and registries on loopback only.
  const local = isLoopback(settings.armEndpoint);
  const credential = overrides.credential ?? (local ? new LoopbackCredential() : new DefaultAzureCredential());
  const telemetry = overrides.telemetry ?? createTelemetry(settings.appInsightsConnectionString);
  const stopObserving = observeQualysCalls(settings.qualys.gateway, (d) => telemetry.dependency(d));
  const storage = overrides.storage ?? createStorageClients(settings.storage, credential);
  const store = new ScanStore(storage.blobs, settings.resultsContainer, storage.table(settings.scanTable));
  const locks = new ScanLocks(storage.table(settings.lockTable));
  const dedupe = new EventDedupe(storage.table(settings.dedupeTable));
  const polls = new PollQueue(storage.queues.getQueueClient(settings.pollsQueue));
  // One limiter for every workflow this app builds (credentials rotate, budgets do not), also read by the poll policy.
  const rateLimiter = overrides.qualysClient?.rateLimiter ?? new RateLimiter({ clock: overrides.qualysClient?.clock });
  const durations = new DurationTracker();
  const workflow =
    overrides.workflow ??
    new RotatingWorkflow(new QualysCredentialProvider(settings.qualys.credentials, { credential, secrets: overrides.secrets }), (c) =>
      createScanWorkflow({
        client: {
          ...overrides.qualysClient,
          rateLimiter,
          gateway: settings.qualys.gateway,
          credentials: c.kind === 'token' ? { kind: 'token', token: c.accessToken } : { kind: 'password', username: c.username, password: c.password },
        },
        reuseMaxAgeMs: settings.cacheHours * 3600_000,
      }),
    );
  const batcher = new CheckBatcher(workflow, overrides.checkWindowMs ?? 50, overrides.checkMaxBatch ?? 50);
  const pollDelay =
    overrides.pollDelay ?? policyPollDelay({ pollMinSec: settings.pollMinSec, headroom: () => rateLimiter.headroom(), recentMedianMs: () => durations.median() });
  const alert = settings.alertWebhookUrl ? { url: settings.alertWebhookUrl, threshold: settings.severityThreshold } : undefined;
  const retryPolicy: RetryPolicy = { ...defaultRetryPolicy(settings.maxScanMinutes), ...overrides.retryPolicy };
  const common = { store, locks, polls, telemetry, pollDelay, alert, retryPolicy, maxDequeueCount: MAX_DEQUEUE_COUNT, queueDelaySec: overrides.queueDelaySec, now: overrides.now };
  const deploymentsQueue = storage.queues.getQueueClient(settings.deploymentsQueue);
  // Same encoding as Event Grid's Storage Queue delivery (base64 text), which the host decodes.
  const redeliver = async (message: unknown, delaySec: number): Promise<string> => {
    const text = typeof message === 'string' ? message : message instanceof Uint8Array ? Buffer.from(message).toString('utf8') : JSON.stringify(message);
    const sent = await deploymentsQueue.sendMessage(Buffer.from(text, 'utf8').toString('base64'), { visibilityTimeout: Math.ceil(delaySec) });
    return sent.messageId;
  };
  const onDeployment = createOnDeployment({
    ...common,
    workflow,
    dedupe,
    redeliver,
    workloads: overrides.workloads ?? new ArmWorkloadReader(credential, settings.armEndpoint),
    // Locally the registry is a loopback stub sharing the CPU with the whole embedded stack: a slow answer
    // there is contention, not an unreachable registry, and falling back to the tag would key the same
    // image twice (two scans where the clouds do one).
    digests: overrides.digests ?? new RegistryDigestResolver({ credential, overrides: settings.registryEndpoints, loopbackOnly: local, ...(local ? { timeoutMs: 30_000 } : {}) }),
    parseImage: parseImageReference,
    cacheHours: settings.cacheHours,
    maxScanMinutes: settings.maxScanMinutes,
  });
  const pollScan = createPollScan({ ...common, workflow, checker: batcher, durations });
  const inventory = settings.inventory.enabled ? createInventoryFunctions(settings.inventory, { storage, credential, telemetry }, { ...(overrides.now ? { now: overrides.now } : {}), ...overrides.inventory }) : undefined;
  const onSecurityEvent = settings.securityEvents.enabled
    ? createSecurityEventHandler({ settings, credential, storage, telemetry, errors: store, local, maxDequeueCount: MAX_DEQUEUE_COUNT, overrides: overrides.securityEvents })
    : undefined;
  return {
    settings,
    telemetry,
    batcher,
    workflow,
    stores: { store, locks, dedupe, polls },
    rateLimiter,
    durations,
    functions: [
      { name: FUNCTION_NAMES.onDeployment, queueName: settings.deploymentsQueue, handler: onDeployment },
      { name: FUNCTION_NAMES.pollScan, queueName: settings.pollsQueue, handler: pollScan },
      ...(inventory ? [inventory.queue] : []),
      ...(onSecurityEvent ? [{ name: FUNCTION_NAMES.onSecurityEvent, queueName: settings.securityEventsQueue, handler: onSecurityEvent }] : []),
    ],
    timers: inventory?.timers ?? [],
    ...(inventory ? { inventory } : {}),
    async dispose() {
      stopObserving();
      await telemetry.flush();
    },
  };
}

/**
 * What index.ts registers. Bad settings do not stop the host from indexing the functions: the error
 * is logged once, clearly, and every invocation fails with it, so messages wait in the queue (and
 * end in the poison queue, visible) instead of vanishing.
 */
export function functionsFromEnv(env: Readonly<Record<string, string | undefined>>, overrides: AppOverrides = {}): FunctionDefinition[] {
  return registrationsFromEnv(env, overrides).queues;
}

/** Every function index.ts registers: the queue-triggered ones and the timers. */
export function registrationsFromEnv(env: Readonly<Record<string, string | undefined>>, overrides: AppOverrides = {}): { queues: FunctionDefinition[]; timers: TimerDefinition[] } {
  let settings: AppSettings;
  try {
    settings = loadSettings(env);
  } catch (error) {
    if (!(error instanceof SettingsError)) throw error;
    const log = createLogger(console, { component: COMPONENTS.settings });
    log.error(error.message, { problems: error.problems });
    const failing: QueueHandler = async () => {
      throw error;
    };
    const queues: FunctionDefinition[] = [
      { name: FUNCTION_NAMES.onDeployment, queueName: env.DEPLOYMENTS_QUEUE || 'deployments', handler: failing },
      { name: FUNCTION_NAMES.pollScan, queueName: env.POLLS_QUEUE || 'scan-polls', handler: failing },
      ...(env.SECURITY_EVENTS_ENABLED === 'false' ? [] : [{ name: FUNCTION_NAMES.onSecurityEvent, queueName: env.SECURITY_EVENTS_QUEUE || 'security-events', handler: failing }]),
    ];
    // Manual inventory requests wait too; the timers are not registered (a failing timer would only log every run).
    if (env.INVENTORY_ENABLED === 'true') queues.push({ name: INVENTORY_FUNCTION_NAMES.inventoryRequest, queueName: env.INVENTORY_QUEUE || 'inventory-requests', handler: failing });
    return { queues, timers: [] };
  }
  const app = createAzureApp(settings, overrides);
  return { queues: app.functions, timers: app.timers };
}
