/**
 * How Azure events reach the local Function App: through the same event subscription filter the
 * stack declares (azure/event-subscription-filter.ts), evaluated as Event Grid does before it puts an
 * event on the `deployments` queue.
 */
import { containerWritesFilter } from '../../../azure/event-subscription-filter';
import { evaluateEventGridFilter } from '../../../shared/event-pattern/event-grid-filter';
import type { ItemOfKind } from '../../replay/detect';

export const LOCAL_SUBSCRIPTION_NAME = 'Event Grid subscription shipscan-local';

export type AzureRoute = { deliver: true } | { deliver: false; by: string; reason: string };

export function routeAzureEvent(item: ItemOfKind<'container-deployment'>): AzureRoute {
  const verdict = evaluateEventGridFilter(containerWritesFilter(), item.event, item.shape);
  return verdict.matched ? { deliver: true } : { deliver: false, by: LOCAL_SUBSCRIPTION_NAME, reason: verdict.reason };
}
