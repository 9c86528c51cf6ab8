/**
 * Container deployments (Event Grid or CloudEvents schema): routed through the stack's event
 * subscription filter (./azure-routing.ts), then enqueued on `deployments` as Event Grid's Storage
 * Queue delivery does (one base64 JSON message per event), and the queue pump runs the real Function
 * App handlers until both queues are empty. Container groups and apps the ARM stub does not know are
 * defined from the event (images from `--image`, else `nginx`).
 */
import { DEPLOYMENT_OUTCOMES, FUNCTION_NAMES, SCAN_EVENT_TYPES } from '../../../functions/azure/telemetry-names';
import { eventPending, type DeploymentOutcome } from '../../../functions/azure/on-deployment';
import type { ItemOfKind } from '../../replay/detect';
import { containerDeployment } from '../../demo/scenario';
import type { LocalAzureStack } from '../../stack/azure-stack';
import type { RunRecorder } from '../recorder';
import type { EventRef, ScanRow } from '../summary';
import { routeAzureEvent } from './azure-routing';
import type { Delivery, Replayer } from './kind';

export const DEFAULT_REPLAY_IMAGES = ['nginx'];

const OPERATIONS: Record<string, 'ACI' | 'ACA'> = {
  'microsoft.containerinstance/containergroups/write': 'ACI',
  'microsoft.app/containerapps/write': 'ACA',
};

/** Defines the workload an event announces in the ARM stub, unless it is already defined. */
export function prepareWorkload(stack: LocalAzureStack, known: Set<string>, event: Record<string, unknown>, images: readonly string[]): void {
  const data = event.data as { resourceUri?: unknown; operationName?: unknown } | undefined;
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

export function rowOf(scan: Record<string, string>, container: string): ScanRow {
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

/** `ResourceWriteSuccess containerGroups/write orders-aci`. */
export function containerEventLabel(item: ItemOfKind<'container-deployment'>): string {
  const type = String(item.shape === 'cloudevents' ? item.event.type : item.event.eventType).replace(/^Microsoft\.Resources\./, '');
  const data = (item.event.data ?? {}) as Record<string, unknown>;
  const operation = typeof data.operationName === 'string' ? data.operationName.replace(/^Microsoft\.[^/]+\//i, '') : undefined;
  const resource = typeof data.resourceUri === 'string' ? data.resourceUri.split('/').pop() : undefined;
  return [type, operation, resource].filter(Boolean).join(' ');
}

/** Settles the events whose final outcome the handler reported. */
function settleOutcomes(stack: LocalAzureStack, fn: string, firstInvocation: number, refs: Map<string, EventRef>, recorder: RunRecorder): void {
  for (const invocation of stack.runtime.pump.invocations.slice(firstInvocation)) {
    if (invocation.function !== fn || !invocation.ok) continue;
    const ref = refs.get(invocation.messageId);
    if (!ref) continue;
    const result = invocation.result as DeploymentOutcome | undefined;
    // A deferred or waiting deployment goes on in a re-sent copy: that message now stands for the event.
    if (result?.redelivered) refs.set(result.redelivered.messageId, ref);
    for (const event of result?.events ?? []) {
      if (eventPending(event) || recorder.isSettled(ref)) continue;
      if (event.outcome === DEPLOYMENT_OUTCOMES.accepted) recorder.processed(ref);
      else if (event.outcome === DEPLOYMENT_OUTCOMES.ignored) recorder.ignored(ref, fn, event.reason ?? 'not an event this handler scans');
      else if (event.outcome === DEPLOYMENT_OUTCOMES.duplicate) recorder.ignored(ref, fn, 'duplicate delivery of an event already handled (resource + correlation id)');
      else recorder.failed(ref, `${event.outcome}${event.reason ? `: ${event.reason}` : ''}`);
    }
  }
}

/**
 * Enqueues events for a handler built on the scan-event engine (onDeployment, onImagePush), lets the queue
 * pump run the Function App until every queue is empty, settles each event from the handler's own outcome
 * and reports the ContainerScan rows of the given ContainerTypes (other kinds replayed at the same time
 * report theirs).
 */
export async function driveScanEvents(
  azure: LocalAzureStack,
  deliveries: readonly { ref: EventRef; body: Record<string, unknown> }[],
  recorder: RunRecorder,
  options: { fn: string; send: (body: Record<string, unknown>) => Promise<string>; containerTypes: readonly string[]; row: (scan: Record<string, string>, container: string) => ScanRow },
): Promise<void> {
  const firstScan = azure.telemetry.scans.length;
  const firstInvocation = azure.runtime.pump.invocations.length;
  const refs = new Map<string, EventRef>();
  for (const delivery of deliveries) refs.set(await options.send(delivery.body), delivery.ref);
  // Settle events as their outcomes arrive, so progress moves while the queues drain.
  const ticker = setInterval(() => settleOutcomes(azure, options.fn, firstInvocation, refs, recorder), 250);
  try {
    await azure.settle();
  } finally {
    clearInterval(ticker);
  }
  settleOutcomes(azure, options.fn, firstInvocation, refs, recorder);
  // Messages that never completed: poisoned after their last delivery, with the handler's error.
  for (const delivery of deliveries) {
    if (recorder.isSettled(delivery.ref)) continue;
    const ids = [...refs].filter(([, ref]) => ref === delivery.ref).map(([id]) => id);
    const last = azure.runtime.pump.invocations.filter((i) => ids.includes(i.messageId) && !i.ok).pop();
    recorder.failed(delivery.ref, last?.error ? `${options.fn} failed on every delivery (moved to the poison queue): ${last.error}` : `no outcome from ${options.fn}`);
  }
  const container = azure.runtime.app.settings.resultsContainer;
  for (const scan of azure.telemetry.scans.slice(firstScan)) {
    if (ROW_EVENTS.has(scan.EventType ?? '') && options.containerTypes.includes(scan.ContainerType ?? '')) recorder.scan(options.row(scan, container));
  }
}

export const containerDeployments: Replayer<'container-deployment'> = {
  kind: 'container-deployment',
  cloud: 'azure',
  label: containerEventLabel,
  route: (item) => {
    const route = routeAzureEvent(item);
    return route.deliver ? { deliver: true, body: item.event } : route;
  },
  async replay(deliveries: Delivery<'container-deployment'>[], { stack, recorder, images }) {
    const azure = stack.azure;
    if (!azure) throw new Error('the Azure half of the embedded stack is not running');
    for (const delivery of deliveries) prepareWorkload(azure, stack.knownWorkloads, delivery.body, images.length > 0 ? images : DEFAULT_REPLAY_IMAGES);
    await driveScanEvents(azure, deliveries, recorder, { fn: FUNCTION_NAMES.onDeployment, send: (body) => azure.send(body), containerTypes: ['ACI', 'ACA'], row: rowOf });
  },
};
