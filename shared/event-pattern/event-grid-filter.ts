/**
 * Event Grid event subscription filters, evaluated offline: the Azure stack declares its filter as data
 * (azure/event-subscription-filter.ts), and the local pipeline runs every replayed event through it, as
 * Event Grid does before delivering to the queue.
 *
 * Semantics follow "Understand event filtering for Event Grid subscriptions" (learn.microsoft.com):
 * - `includedEventTypes` (or `All`), `subjectBeginsWith` / `subjectEndsWith` (case-insensitive unless
 *   `isSubjectCaseSensitive`), and `advancedFilters`, all ANDed; the values of one filter OR;
 * - keys: envelope fields (Event Grid schema `id`, `topic`, `subject`, `eventType`, `dataVersion`;
 *   CloudEvents `id`, `source`, `type`, `specversion`, extension attributes) or dotted `data.` paths;
 * - string comparisons are not case-sensitive;
 * - a missing key fails every operator except NumberNotIn, StringNotIn and IsNullOrUndefined;
 * - an array key is compared element by element only with `enableAdvancedFilteringOnArrays`;
 *   negative operators fail when any element matches any value.
 */
export type AdvancedFilterOperator =
  | 'StringIn'
  | 'StringNotIn'
  | 'StringBeginsWith'
  | 'StringNotBeginsWith'
  | 'StringEndsWith'
  | 'StringNotEndsWith'
  | 'StringContains'
  | 'StringNotContains'
  | 'NumberIn'
  | 'NumberNotIn'
  | 'NumberLessThan'
  | 'NumberGreaterThan'
  | 'NumberLessThanOrEquals'
  | 'NumberGreaterThanOrEquals'
  | 'NumberInRange'
  | 'NumberNotInRange'
  | 'BoolEquals'
  | 'IsNullOrUndefined'
  | 'IsNotNull';

export interface AdvancedFilter {
  operatorType: AdvancedFilterOperator;
  key: string;
  /** StringIn, NumberIn, ...: the values; NumberInRange: [low, high] pairs. */
  values?: readonly (string | number | readonly [number, number])[];
  /** NumberLessThan, BoolEquals, ...: the one value. */
  value?: number | boolean;
}

export interface EventGridFilter {
  includedEventTypes?: readonly string[];
  subjectBeginsWith?: string;
  subjectEndsWith?: string;
  isSubjectCaseSensitive?: boolean;
  enableAdvancedFilteringOnArrays?: boolean;
  advancedFilters?: readonly AdvancedFilter[];
}

export type FilterVerdict = { matched: true } | { matched: false; reason: string };

export class EventGridFilterError extends Error {
  override readonly name = 'EventGridFilterError';
}

type Schema = 'eventgrid' | 'cloudevents';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A property by its exact name, else by the same name in another case (envelope keys are documented capitalised). */
function property(node: Record<string, unknown>, name: string): unknown {
  if (name in node) return node[name];
  const lower = name.toLowerCase();
  const found = Object.keys(node).find((key) => key.toLowerCase() === lower);
  return found === undefined ? undefined : node[found];
}

function valueAt(event: Record<string, unknown>, key: string): unknown {
  let here: unknown = event;
  for (const segment of key.split('.')) {
    if (!isObject(here)) return undefined;
    here = property(here, segment);
  }
  return here;
}

function envelope(event: Record<string, unknown>, schema: Schema): { type: unknown; subject: unknown } {
  return schema === 'cloudevents' ? { type: event.type, subject: event.subject } : { type: event.eventType, subject: event.subject };
}

const lower = (value: unknown) => (typeof value === 'string' ? value.toLowerCase() : value);

function stringValues(filter: AdvancedFilter): string[] {
  const values = filter.values ?? [];
  if (!values.every((v): v is string => typeof v === 'string')) throw new EventGridFilterError(`${filter.operatorType} on ${filter.key}: values must be strings`);
  return values.map((v) => v.toLowerCase());
}

function numberValues(filter: AdvancedFilter): readonly number[] {
  const values = filter.values ?? [];
  if (!values.every((v): v is number => typeof v === 'number')) throw new EventGridFilterError(`${filter.operatorType} on ${filter.key}: values must be numbers`);
  return values;
}

function ranges(filter: AdvancedFilter): readonly (readonly [number, number])[] {
  const values = filter.values ?? [];
  if (!values.every((v): v is readonly [number, number] => Array.isArray(v) && v.length === 2 && v.every((n) => typeof n === 'number'))) {
    throw new EventGridFilterError(`${filter.operatorType} on ${filter.key}: values must be [low, high] pairs`);
  }
  return values;
}

function single<T extends 'number' | 'boolean'>(filter: AdvancedFilter, type: T): T extends 'number' ? number : boolean {
  if (typeof filter.value !== type) throw new EventGridFilterError(`${filter.operatorType} on ${filter.key}: value must be a ${type}`);
  return filter.value as T extends 'number' ? number : boolean;
}

/** Per key value: does it satisfy the positive form of the operator? Values of another type never do. */
function positiveTest(filter: AdvancedFilter): { test: (value: unknown) => boolean; negated: boolean } {
  const op = filter.operatorType;
  switch (op) {
    case 'StringIn':
    case 'StringNotIn': {
      const wanted = stringValues(filter);
      return { test: (v) => typeof v === 'string' && wanted.includes(v.toLowerCase()), negated: op === 'StringNotIn' };
    }
    case 'StringBeginsWith':
    case 'StringNotBeginsWith': {
      const wanted = stringValues(filter);
      return { test: (v) => typeof v === 'string' && wanted.some((w) => v.toLowerCase().startsWith(w)), negated: op === 'StringNotBeginsWith' };
    }
    case 'StringEndsWith':
    case 'StringNotEndsWith': {
      const wanted = stringValues(filter);
      return { test: (v) => typeof v === 'string' && wanted.some((w) => v.toLowerCase().endsWith(w)), negated: op === 'StringNotEndsWith' };
    }
    case 'StringContains':
    case 'StringNotContains': {
      const wanted = stringValues(filter);
      return { test: (v) => typeof v === 'string' && wanted.some((w) => v.toLowerCase().includes(w)), negated: op === 'StringNotContains' };
    }
    case 'NumberIn':
    case 'NumberNotIn': {
      const wanted = numberValues(filter);
      return { test: (v) => typeof v === 'number' && wanted.includes(v), negated: op === 'NumberNotIn' };
    }
    case 'NumberInRange':
    case 'NumberNotInRange': {
      const wanted = ranges(filter);
      return { test: (v) => typeof v === 'number' && wanted.some(([low, high]) => v >= low && v <= high), negated: op === 'NumberNotInRange' };
    }
    case 'NumberLessThan': {
      const bound = single(filter, 'number');
      return { test: (v) => typeof v === 'number' && v < bound, negated: false };
    }
    case 'NumberGreaterThan': {
      const bound = single(filter, 'number');
      return { test: (v) => typeof v === 'number' && v > bound, negated: false };
    }
    case 'NumberLessThanOrEquals': {
      const bound = single(filter, 'number');
      return { test: (v) => typeof v === 'number' && v <= bound, negated: false };
    }
    case 'NumberGreaterThanOrEquals': {
      const bound = single(filter, 'number');
      return { test: (v) => typeof v === 'number' && v >= bound, negated: false };
    }
    case 'BoolEquals': {
      const wanted = single(filter, 'boolean');
      return { test: (v) => v === wanted, negated: false };
    }
    default:
      throw new EventGridFilterError(`unsupported advanced filter operator "${String(op)}"`);
  }
}

const MATCH_WHEN_MISSING = new Set<AdvancedFilterOperator>(['NumberNotIn', 'StringNotIn']);

function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 160 ? `${text.slice(0, 157)}...` : text;
}

function advanced(filter: AdvancedFilter, event: Record<string, unknown>, onArrays: boolean): FilterVerdict {
  const raw = valueAt(event, filter.key);
  const fail = (why: string): FilterVerdict => ({ matched: false, reason: `${filter.key} ${why} (${filter.operatorType} ${show(filter.values ?? filter.value)})` });
  if (filter.operatorType === 'IsNullOrUndefined') return raw === undefined || raw === null ? { matched: true } : fail(`is ${show(raw)}`);
  if (filter.operatorType === 'IsNotNull') return raw !== undefined && raw !== null ? { matched: true } : fail(`is ${raw === null ? 'null' : 'absent'}`);
  const { test, negated } = positiveTest(filter);
  if (raw === undefined) return MATCH_WHEN_MISSING.has(filter.operatorType) ? { matched: true } : fail('is absent');
  if (Array.isArray(raw) && !onArrays) return fail('is an array (the subscription does not enable advanced filtering on arrays)');
  const values = Array.isArray(raw) ? raw : [raw];
  const hit = values.some(test);
  if (negated ? !hit : hit) return { matched: true };
  return fail(`is ${show(raw)}`);
}

/** Whether Event Grid would deliver the event through this filter, and if not, the first condition that stopped it. */
export function evaluateEventGridFilter(filter: EventGridFilter, event: unknown, schema: Schema): FilterVerdict {
  if (!isObject(event)) return { matched: false, reason: `the event is not a JSON object (${show(event)})` };
  const { type, subject } = envelope(event, schema);
  const types = filter.includedEventTypes;
  if (types && types.length > 0 && !types.some((t) => t.toLowerCase() === 'all' || t.toLowerCase() === lower(type))) {
    return { matched: false, reason: `event type ${show(type)} is not one of ${show(types)}` };
  }
  const caseSensitive = filter.isSubjectCaseSensitive === true;
  const fold = (s: string) => (caseSensitive ? s : s.toLowerCase());
  const subjectText = typeof subject === 'string' ? fold(subject) : undefined;
  if (filter.subjectBeginsWith && !(subjectText ?? '').startsWith(fold(filter.subjectBeginsWith))) {
    return { matched: false, reason: `subject ${show(subject)} does not begin with ${show(filter.subjectBeginsWith)}` };
  }
  if (filter.subjectEndsWith && !(subjectText ?? '').endsWith(fold(filter.subjectEndsWith))) {
    return { matched: false, reason: `subject ${show(subject)} does not end with ${show(filter.subjectEndsWith)}` };
  }
  for (const f of filter.advancedFilters ?? []) {
    const verdict = advanced(f, event, filter.enableAdvancedFilteringOnArrays === true);
    if (!verdict.matched) return verdict;
  }
  return { matched: true };
}
