/**
 * How Azure events reach the local Function App: through the same event subscription filter the
 * stack declares (azure/event-subscription-filter.ts), evaluated as Event Grid does before it puts an
 * event on the `deployments` queue.
 */
import { containerWritesFilter, securityEventFilters } from '../../../azure/event-subscription-filter';
import { evaluateEventGridFilter } from '../../../shared/event-pattern/event-grid-filter';
import type { ItemOfKind } from '../../replay/detect';

export const LOCAL_SUBSCRIPTION_NAME = 'Event Grid subscription shipscan-local';

export type AzureRoute = { deliver: true } | { deliver: false; by: string; reason: string };

export function routeAzureEvent(item: ItemOfKind<'container-deployment'>): AzureRoute {
  const verdict = evaluateEventGridFilter(containerWritesFilter(), item.event, item.shape);
  return verdict.matched ? { deliver: true } : { deliver: false, by: LOCAL_SUBSCRIPTION_NAME, reason: verdict.reason };
}

export const LOCAL_SECURITY_SUBSCRIPTION_NAME = 'Event Grid subscription shipscan-local-security';

/**
 * Through the security-event subscriptions' filters (one per 25 operation names), as Event Grid does before
 * it puts an event on the `security-events` queue: delivered when any of them matches.
 */
export function routeSecurityEvent(event: Record<string, unknown>, shape: 'eventgrid' | 'cloudevents'): AzureRoute {
  const verdicts = securityEventFilters().map((filter) => evaluateEventGridFilter(filter, event, shape));
  if (verdicts.some((v) => v.matched)) return { deliver: true };
  const first = verdicts.find((v): v is Extract<typeof v, { matched: false }> => !v.matched);
  return { deliver: false, by: LOCAL_SECURITY_SUBSCRIPTION_NAME, reason: first?.reason ?? 'no security-event subscription' };
}
