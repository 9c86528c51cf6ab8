/**
 * What the event subscriptions let through, as data: the infrastructure declares it
 * (azure/scanner.ts) and the local pipeline evaluates replayed events with it
 * (shared/event-pattern/event-grid-filter.ts), so both drop the same events.
 */
import type { EventGridFilter } from '../shared/event-pattern/event-grid-filter';
import { AZURE_REGISTRY, armOperationNames, type AzureRuleRegistry } from '../shared/rules/azure/registry';
import { WATCHED_OPERATIONS, WRITE_SUCCESS_EVENT } from './names';

export function containerWritesFilter() {
  return {
    includedEventTypes: [WRITE_SUCCESS_EVENT],
    advancedFilters: [{ operatorType: 'StringIn' as const, key: 'data.operationName', values: [...WATCHED_OPERATIONS] }],
  } satisfies EventGridFilter;
}

/**
 * What the security-event subscriptions let through, one filter per subscription: the rule registry's
 * operation names (shared/rules/azure armOperationNames), successful writes and deletes. Event Grid allows 25
 * advanced-filter values per subscription, so more names than that take more subscriptions (to one queue).
 */
export function securityEventFilters(registry: AzureRuleRegistry = AZURE_REGISTRY) {
  return armOperationNames(registry).subscriptions.map(
    (subscription) =>
      ({
        includedEventTypes: [...subscription.includedEventTypes],
        advancedFilters: subscription.advancedFilters.map((f) => ({ operatorType: f.operatorType, key: f.key, values: [...f.values] })),
      }) satisfies EventGridFilter,
  );
}
