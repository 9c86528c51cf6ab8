/**
 * What the event subscriptions let through, as data: the infrastructure declares it
 * (azure/scanner.ts) and the local pipeline evaluates replayed events with it
 * (shared/event-pattern/event-grid-filter.ts), so both drop the same events.
 */
import type { AdvancedFilter, EventGridFilter } from '../shared/event-pattern/event-grid-filter';
import { AZURE_REGISTRY, armOperationNames, type AzureRuleRegistry } from '../shared/rules/azure/registry';
import { BLOB_CREATED_EVENT, IMAGE_PUSHED_EVENT, WATCHED_OPERATIONS, WRITE_SUCCESS_EVENT } from './names';

export function containerWritesFilter() {
  return {
    includedEventTypes: [WRITE_SUCCESS_EVENT],
    advancedFilters: [{ operatorType: 'StringIn' as const, key: 'data.operationName', values: [...WATCHED_OPERATIONS] }],
  } satisfies EventGridFilter;
}

/** What every registry's event subscription lets through: image pushes (onImagePush ignores charts and signatures). */
export function imagePushFilter() {
  return { includedEventTypes: [IMAGE_PUSHED_EVENT] } satisfies EventGridFilter;
}

type SubjectFilter = { [Op in 'StringBeginsWith' | 'StringContains' | 'StringNotBeginsWith']: AdvancedFilter & { operatorType: Op; values: string[] } }[
  'StringBeginsWith' | 'StringContains' | 'StringNotBeginsWith'
];

/** Subject prefix of the blobs of one container (Event Grid schema, as the source publishes it). */
export function containerSubject(container: string): string {
  return `/blobServices/default/containers/${container}/blobs/`;
}

/**
 * What a storage account's event subscription lets through: new blobs in the included containers (all
 * when none are listed) whose names begin with one of the prefixes (all when none are), never in an
 * excluded container. Filters are a first cut that saves deliveries: onBlobUpload checks the same rules
 * again, exactly (prefixes without containers match as "contains /blobs/<prefix>", which a longer
 * container path could also satisfy; advanced filters also compare without case, blob names do not).
 */
export function blobCreatedFilter(rules: { containers: { include: readonly string[]; exclude: readonly string[] }; prefixes: readonly string[] }) {
  // Each filter keeps its literal operator type: the provider's filter args are a union keyed by it.
  const advancedFilters: SubjectFilter[] = [];
  const { include, exclude } = rules.containers;
  if (include.length > 0) {
    const prefixes = rules.prefixes.length > 0 ? rules.prefixes : [''];
    advancedFilters.push({ operatorType: 'StringBeginsWith', key: 'subject', values: include.flatMap((c) => prefixes.map((p) => `${containerSubject(c)}${p}`)) });
  } else if (rules.prefixes.length > 0) {
    advancedFilters.push({ operatorType: 'StringContains', key: 'subject', values: rules.prefixes.map((p) => `/blobs/${p}`) });
  }
  if (exclude.length > 0) advancedFilters.push({ operatorType: 'StringNotBeginsWith', key: 'subject', values: exclude.map(containerSubject) });
  return {
    includedEventTypes: [BLOB_CREATED_EVENT],
    ...(advancedFilters.length > 0 ? { advancedFilters } : {}),
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
