/**
 * What the container-writes event subscription lets through, as data: the infrastructure declares it
 * (azure/scanner.ts) and the local pipeline evaluates replayed events with it
 * (shared/event-pattern/event-grid-filter.ts), so both drop the same events.
 */
import type { EventGridFilter } from '../shared/event-pattern/event-grid-filter';
import { WATCHED_OPERATIONS, WRITE_SUCCESS_EVENT } from './names';

export function containerWritesFilter() {
  return {
    includedEventTypes: [WRITE_SUCCESS_EVENT],
    advancedFilters: [{ operatorType: 'StringIn' as const, key: 'data.operationName', values: [...WATCHED_OPERATIONS] }],
  } satisfies EventGridFilter;
}
