import { InvocationContext } from '@azure/functions';
import type { ScanTicket } from '../../shared/qualys/contracts';
import { parseImageReference, type ImageReference } from '../../shared/image-reference';
import type { DeploymentEvent } from '../../functions/azure/deployment-event';
import type { WorkloadLookup } from '../../functions/azure/arm-workloads';
import { createOnDeployment, type DeploymentDeps, type DeploymentOutcome } from '../../functions/azure/on-deployment';
import { MemoryTelemetry } from '../../functions/azure/telemetry';
import { memoryStores, type MemoryStores } from './memory-storage';

/**
 * `onDeployment` wired to in-memory storage and stand-ins for ARM, the registry and Qualys: the handler
 * code is the deployed one, only the I/O is local. For fuzzing and for benchmarks of the handler's own work.
 */

export interface MemoryDeploymentOptions {
  /** What ARM answers for an event's resource (default: one nginx container). */
  workload?: (event: DeploymentEvent) => WorkloadLookup;
  /** Deliveries before the poison queue (default 8). */
  maxDequeueCount?: number;
}

export interface MemoryDeployment {
  handle(message: unknown, meta?: { id?: string; dequeueCount?: number }): Promise<DeploymentOutcome>;
  stores: MemoryStores;
  telemetry: MemoryTelemetry;
  /** Every log line the handler wrote, as `<level> <text>`. */
  logs: string[];
  submitted: ImageReference[];
}

export function memoryDeployment(options: MemoryDeploymentOptions = {}): MemoryDeployment {
  const stores = memoryStores();
  const telemetry = new MemoryTelemetry();
  const submitted: ImageReference[] = [];
  const logs: string[] = [];
  const workload =
    options.workload ??
    ((event: DeploymentEvent): WorkloadLookup => ({
      kind: 'found',
      workload: { resourceId: event.resourceId, containerType: event.containerType, containers: [{ name: 'app', image: 'nginx', init: false }], registryServers: [] },
    }));
  const deps: DeploymentDeps = {
    workflow: {
      async submit(image: ImageReference): Promise<ScanTicket> {
        submitted.push(image);
        return { v: 1, image: image.canonical, registry: image.registry, repository: image.repository, ...(image.tag ? { tag: image.tag } : {}), ...(image.digest ? { digest: image.digest } : {}), reused: false, submittedAt: new Date().toISOString() };
      },
    },
    workloads: { read: async (event) => workload(event) },
    digests: { resolve: async () => ({ note: 'not resolved (in-memory stand-in)' }) },
    store: stores.store,
    locks: stores.locks,
    dedupe: stores.dedupe,
    polls: stores.polls,
    pollDelay: () => 10,
    telemetry,
    parseImage: parseImageReference,
    cacheHours: 24,
    maxScanMinutes: 30,
    maxDequeueCount: options.maxDequeueCount ?? 8,
  };
  const onDeployment = createOnDeployment(deps);
  let invocations = 0;
  return {
    stores,
    telemetry,
    logs,
    submitted,
    handle(message, meta = {}) {
      invocations += 1;
      const context = new InvocationContext({
        invocationId: `inv-${invocations}`,
        triggerMetadata: { id: meta.id ?? `msg-${invocations}`, dequeueCount: meta.dequeueCount ?? 1 },
        logHandler: (level, ...args) => {
          logs.push(`${level} ${args.map(String).join(' ')}`);
        },
      });
      return onDeployment(message, context);
    },
  };
}
