import type { TokenCredential } from '@azure/identity';
import { FindingRecorder } from '../../../shared/findings/recorder';
import { compileSuppressions } from '../../../shared/findings/suppressions';
import type { NotificationChannel } from '../../../shared/findings/notifier';
import type { DigestChannel } from '../../../shared/notify/digest';
import { TableFindingStore } from '../findings-store';
import { channelsFromConfig } from '../notify/channels';
import type { StorageClients } from '../storage-clients';
import type { Telemetry } from '../telemetry';
import { createInventoryQueueHandler, createInventoryTimer, INVENTORY_FUNCTION_NAMES, type InventoryHandlerDeps, type TimerDefinition } from './handlers';
import { sdkResourceGraph, type ResourceGraph } from './resource-graph';
import { TableResourceStore } from './resource-store';
import type { RunReport } from './run';
import { TableRunStore } from './run-store';
import type { InventorySettings } from './settings';
import type { CollectorOptions } from './collector';

/**
 * Builds the inventory's functions from its settings: the Resource Graph client (or the one a test or the local
 * stack injects), the Resources and InventoryRuns tables, the findings store with a deferred recorder that does
 * not persist touches, and the digest channels from `shipscan:findings`.
 */

export interface InventoryOverrides {
  resourceGraph?: ResourceGraph;
  collector?: Omit<CollectorOptions, 'graph' | 'onPage'>;
  digestChannels?: readonly DigestChannel[];
  onReport?: (report: RunReport) => void;
  now?: () => Date;
}

export interface InventoryFunctions {
  queue: { name: string; queueName: string; handler: ReturnType<typeof createInventoryQueueHandler> };
  timers: TimerDefinition[];
  deps: InventoryHandlerDeps;
}

function isDigestChannel(channel: NotificationChannel): channel is NotificationChannel & DigestChannel {
  return typeof (channel as Partial<DigestChannel>).sendDigest === 'function';
}

export function createInventoryFunctions(
  settings: InventorySettings,
  parts: { storage: StorageClients; credential: TokenCredential; telemetry: Telemetry },
  overrides: InventoryOverrides = {},
): InventoryFunctions {
  const findings = settings.findings;
  const store = new TableFindingStore(parts.storage.table(settings.findingsTable), parts.storage.table(settings.findingsIndexTable));
  const recorder = new FindingRecorder({
    store,
    // Deferred: a scheduled run tells its changes in one digest, never one message per finding.
    channels: [],
    policy: { severityThreshold: findings.severityThreshold, notifyOnResolve: findings.notifyOnResolve, mode: 'deferred' },
    suppressions: compileSuppressions(findings.suppressions),
    persistTouches: false,
    ...(overrides.now ? { now: overrides.now } : {}),
  });
  const digestChannels = overrides.digestChannels ?? channelsFromConfig(findings, settings.smtpCredentials ? { smtpCredentials: settings.smtpCredentials } : {}).filter(isDigestChannel);
  const deps: InventoryHandlerDeps = {
    graph: overrides.resourceGraph ?? sdkResourceGraph(parts.credential, settings.resourceGraphEndpoint),
    resources: new TableResourceStore(parts.storage.table(settings.resourcesTable)),
    runs: new TableRunStore(parts.storage.table(settings.runsTable)),
    recorder,
    digestChannels,
    telemetry: parts.telemetry,
    config: { allowLists: findings.allowLists, disabledRules: findings.disabledRules, ruleScopes: settings.ruleScopes },
    prepare: store.ensure,
    findings: store,
    ...(overrides.collector ? { collector: overrides.collector } : {}),
    ...(overrides.now ? { now: overrides.now } : {}),
    ...(overrides.onReport ? { onReport: overrides.onReport } : {}),
  };
  return {
    deps,
    queue: { name: INVENTORY_FUNCTION_NAMES.inventoryRequest, queueName: settings.queue, handler: createInventoryQueueHandler(settings, deps) },
    timers: [
      { name: INVENTORY_FUNCTION_NAMES.inventorySchedule, schedule: '%INVENTORY_SCHEDULE%', handler: createInventoryTimer('inventory', settings, deps) },
      { name: INVENTORY_FUNCTION_NAMES.evaluationSchedule, schedule: '%EVALUATION_SCHEDULE%', handler: createInventoryTimer('evaluation', settings, deps) },
    ],
  };
}

export * from './collector';
export * from './evaluate';
export * from './handlers';
export * from './request';
export * from './resource-graph';
export * from './resource-store';
export * from './realtime';
export * from './run';
export * from './run-store';
export * from './settings';
