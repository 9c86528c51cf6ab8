/**
 * Replays Azure events through the embedded Function App: container groups and apps that the ARM
 * stub does not know are defined from the event (images from `--image`, else `nginx`), each event is
 * enqueued on `deployments` as Event Grid's Storage Queue delivery does (one base64 JSON message per
 * event), and the queue pump runs the real handlers until both queues are empty.
 */
import { DEPLOYMENT_OUTCOMES, FUNCTION_NAMES, SCAN_EVENT_TYPES } from '../../functions/azure/telemetry-names';
import { eventPending, type DeploymentOutcome } from '../../functions/azure/on-deployment';
import type { ReplayItem } from '../replay/detect';
import { containerDeployment } from '../demo/scenario';
import type { LocalAzureStack } from '../stack/azure-stack';
import { emptySummary, type ReplaySummary, type ScanRow } from './summary';

export const DEFAULT_REPLAY_IMAGES = ['nginx'];

const OPERATIONS: Record<string, 'ACI' | 'ACA'> = {
  'microsoft.containerinstance/containergroups/write': 'ACI',
  'microsoft.app/containerapps/write': 'ACA',
};

/** Defines the workload an event announces in the ARM stub, unless it is already defined. */
export function prepareWorkload(stack: LocalAzureStack, known: Set<string>, item: Extract<ReplayItem, { cloud: 'azure' }>, images: readonly string[]): void {
  const data = item.event.data as { resourceUri?: unknown; operationName?: unknown } | undefined;
  if (typeof data?.resourceUri !== 'string' || typeof data.operationName !== 'string') return;
  const kind = OPERATIONS[data.operationName.toLowerCase()];
  const id = data.resourceUri;
  if (!kind || /\/deployments\//i.test(id) || known.has(id.toLowerCase())) return;
  const segments = id.split('/');
  const { workload } = containerDeployment(kind, segments[segments.length - 1] ?? 'workload', [...images], {
    subscription: segments[2],
    resourceGroup: segments[4],
  });
  stack.deploy({ ...workload.resource, id }, images);
  known.add(id.toLowerCase());
}

function rowOf(scan: Record<string, string>, container: string): ScanRow {
  const resource = (scan.ResourceId ?? '').split('/').pop() ?? '-';
  const count = (name: string) => Number(scan[name] ?? 0);
  const counts = { critical: count('VulnCritical'), high: count('VulnHigh'), medium: count('VulnMedium'), low: count('VulnLow'), informational: count('VulnInformational') };
  return {
    cloud: 'azure',
    workload: `${scan.ContainerType ?? '?'} ${resource}`,
    image: scan.Image,
    status: scan.Status ?? '?',
    counts: { ...counts, total: count('VulnTotal') || Object.values(counts).reduce((a, b) => a + b, 0) },
    cacheHit: scan.EventType === SCAN_EVENT_TYPES.cacheHit,
    resultKey: scan.BlobPath ? `blob://${container}/${scan.BlobPath}` : '-',
  };
}

const ROW_EVENTS = new Set<string>([SCAN_EVENT_TYPES.completed, SCAN_EVENT_TYPES.failed, SCAN_EVENT_TYPES.timeout, SCAN_EVENT_TYPES.cacheHit]);

export async function replayAzure(
  stack: LocalAzureStack,
  known: Set<string>,
  items: Extract<ReplayItem, { cloud: 'azure' }>[],
  images: readonly string[] = DEFAULT_REPLAY_IMAGES,
): Promise<ReplaySummary> {
  const summary = emptySummary();
  summary.events = items.length;
  const firstScan = stack.telemetry.scans.length;
  const firstInvocation = stack.runtime.pump.invocations.length;
  for (const item of items) prepareWorkload(stack, known, item, images);
  for (const item of items) await stack.send(item.event);
  await stack.settle();

  let accounted = 0;
  for (const invocation of stack.runtime.pump.invocations.slice(firstInvocation)) {
    if (invocation.function !== FUNCTION_NAMES.onDeployment || !invocation.ok) continue;
    for (const event of (invocation.result as DeploymentOutcome | undefined)?.events ?? []) {
      // Re-sent for later (rate limit, or a scan of the same image in flight): the copy reports it.
      if (eventPending(event)) continue;
      accounted += 1;
      if (event.outcome === DEPLOYMENT_OUTCOMES.accepted) summary.processed += 1;
      else if (event.outcome === DEPLOYMENT_OUTCOMES.ignored || event.outcome === DEPLOYMENT_OUTCOMES.duplicate) summary.ignored += 1;
      else summary.failed += 1;
    }
  }
  // Messages that never completed (poisoned after their last delivery) count as failed events.
  summary.failed += Math.max(0, items.length - accounted);
  const container = stack.runtime.app.settings.resultsContainer;
  summary.scans = stack.telemetry.scans.slice(firstScan).filter((scan) => ROW_EVENTS.has(scan.EventType ?? '')).map((scan) => rowOf(scan, container));
  return summary;
}
