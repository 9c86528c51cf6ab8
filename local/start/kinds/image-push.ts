/**
 * Registry pushes (`Microsoft.ContainerRegistry.ImagePushed`, Event Grid or CloudEvents schema, `data` as an
 * object or as JSON text): routed through the event subscription filter every registry's topic gets
 * (azure/event-subscription-filter.ts imagePushFilter), then enqueued on `image-pushes` as Event Grid's Storage
 * Queue delivery does; onImagePush sends the image through the Container Security API path. A pushed image the
 * Qualys simulator does not know is registered there under the event's digest first.
 */
import { imagePushFilter } from '../../../azure/event-subscription-filter';
import { parseJsonObjectText } from '../../../shared/event-grid';
import { evaluateEventGridFilter } from '../../../shared/event-pattern/event-grid-filter';
import { FUNCTION_NAMES } from '../../../functions/azure/telemetry-names';
import type { ItemOfKind } from '../../replay/detect';
import type { ScanRow } from '../summary';
import { driveScanEvents, rowOf } from './container-deployment';
import { LOCAL_SUBSCRIPTION_NAME } from './azure-routing';
import type { Delivery, Replayer } from './kind';

interface PushFacts {
  host?: string;
  repository?: string;
  tag?: string;
  digest?: string;
}

function pushFacts(event: Record<string, unknown>): PushFacts {
  const data = parseJsonObjectText(event.data);
  if (data === null || typeof data !== 'object') return {};
  const d = data as { target?: Record<string, unknown>; request?: Record<string, unknown> };
  const text = (value: unknown) => (typeof value === 'string' && value.length > 0 ? value : undefined);
  return { host: text(d.request?.host), repository: text(d.target?.repository), tag: text(d.target?.tag), digest: text(d.target?.digest) };
}

/** `ImagePushed shipscandemo.azurecr.io/shop/checkout:2.1.0`. */
export function imagePushLabel(item: ItemOfKind<'image-push'>): string {
  const f = pushFacts(item.event);
  return ['ImagePushed', f.host && f.repository ? `${f.host}/${f.repository}${f.tag ? `:${f.tag}` : ''}` : undefined].filter(Boolean).join(' ');
}

function pushRow(scan: Record<string, string>, container: string): ScanRow {
  const row = rowOf(scan, container);
  // The workload of a push is the registry repository: `<registry id>/repositories/<repository>`.
  const repository = /\/repositories\/(.+)$/.exec(scan.ResourceId ?? '')?.[1] ?? '-';
  return { ...row, workload: `ACR ${repository}` };
}

export const imagePushes: Replayer<'image-push'> = {
  kind: 'image-push',
  cloud: 'azure',
  label: imagePushLabel,
  route: (item) => {
    const verdict = evaluateEventGridFilter(imagePushFilter(), item.event, item.shape);
    return verdict.matched ? { deliver: true, body: item.event } : { deliver: false, by: LOCAL_SUBSCRIPTION_NAME, reason: verdict.reason };
  },
  async replay(deliveries: Delivery<'image-push'>[], { stack, recorder }) {
    const azure = stack.azure;
    if (!azure) throw new Error('the Azure half of the embedded stack is not running');
    for (const delivery of deliveries) {
      const f = pushFacts(delivery.body);
      if (f.host && f.repository && f.digest) azure.knowPushedImage(`${f.host}/${f.repository}${f.tag ? `:${f.tag}` : ''}@${f.digest}`);
    }
    await driveScanEvents(azure, deliveries, recorder, { fn: FUNCTION_NAMES.onImagePush, send: (body) => azure.sendPush(body), containerTypes: ['ACR'], row: pushRow });
  },
};
