import * as names from '../../../functions/azure/telemetry-names';
import type { KqlAnalysis, KqlNode } from './kusto';
import { PLATFORM_NAMES } from './workspace-schema';

/**
 * What Kusto's analyzer cannot know: which event names, customDimensions and dimension values the
 * runtime sends. A query that asks for `Properties.VulnHi` or `Status == "DONE"` is valid KQL and
 * silently returns nothing, so this check compares every such name and literal of an analyzed
 * query with the names the runtime emits. Tables, columns, functions, syntax and types are the
 * analyzer's job and are not checked here.
 */

/** Names the Azure runtime emits (see {@link runtimeCatalog}). */
export interface TelemetryCatalog {
  /** AppEvents.Name -> the Properties (customDimensions) of that event. */
  events: Readonly<Record<string, readonly string[]>>;
  /** Dimension -> the values it takes, where the runtime fixes them. */
  dimensionValues: Readonly<Record<string, readonly string[]>>;
  /** Properties of AppExceptions rows. */
  exceptionProperties: readonly string[];
  /** AppDependencies.DependencyType and Name of the calls the runtime reports. */
  dependencyTypes: readonly string[];
  dependencyNames: readonly string[];
}

/** The catalog as `functions/azure/telemetry-names.ts` defines it; the runtime's telemetry calls are typed by the same constants. */
export function runtimeCatalog(): TelemetryCatalog {
  return {
    events: {
      [names.CONTAINER_SCAN_EVENT]: names.CONTAINER_SCAN_DIMENSIONS,
      [names.DEPLOYMENT_EVENT]: names.DEPLOYMENT_EVENT_DIMENSIONS,
      [names.SECURITY_FINDING_EVENT]: names.SECURITY_FINDING_DIMENSIONS,
      [names.SECURITY_EVENT]: names.SECURITY_EVENT_DIMENSIONS,
    },
    dimensionValues: {
      EventType: Object.values(names.SCAN_EVENT_TYPES),
      Status: names.SCAN_STATUSES,
      ContainerType: names.CONTAINER_TYPES,
      // Both events name their outcome `Outcome`; a query compares it after filtering on one event name.
      Outcome: [...Object.values(names.DEPLOYMENT_OUTCOMES), ...Object.values(names.SECURITY_EVENT_OUTCOMES)],
      ...names.SECURITY_FINDING_VALUES,
      [names.EXCEPTION_COMPONENT_PROPERTY]: Object.values(names.COMPONENTS),
    },
    exceptionProperties: [names.EXCEPTION_COMPONENT_PROPERTY, ...names.EXCEPTION_PROPERTIES],
    dependencyTypes: [names.HTTP_DEPENDENCY_TYPE],
    dependencyNames: names.QUALYS_DEPENDENCY_NAMES,
  };
}

export interface CatalogProblem {
  line: number;
  column: number;
  message: string;
}

/** `Properties.X`, `Properties['X']` (and the same on Measurements) on a declared table's column. */
interface DimensionAccess {
  node: KqlNode;
  bag: string;
  dimension: string;
  tables: readonly string[];
}

/** `column <op> literal(s)`. */
export interface Comparison {
  node: KqlNode;
  operator: string;
  column: NonNullable<KqlNode['column']>;
  /** The customDimension the column was computed from (`S = tostring(Properties.Status)`), if one. */
  dimension: string | undefined;
  values: string[];
}

/** The facts the catalog check judges, in source order. */
export interface QueryFacts {
  /** Event names the query keeps (`Name == "X"`, `Name in (...)` on AppEvents). */
  eventNames: Set<string>;
  accesses: DimensionAccess[];
  comparisons: Comparison[];
}

function preorder(node: KqlNode, out: KqlNode[] = []): KqlNode[] {
  out.push(node);
  for (const child of node.children) preorder(child, out);
  return out;
}

/** The first node of a subtree that is not a wrapper (SeparatedElement, List). */
function unwrap(node: KqlNode | undefined): KqlNode | undefined {
  let here = node;
  while (here && (here.kind === 'SeparatedElement' || here.kind === 'List' || here.kind === 'ParenthesizedExpression') && here.children.length === 1) here = here.children[0];
  return here;
}

function dimensionAccess(node: KqlNode): DimensionAccess | undefined {
  if (node.kind !== 'PathExpression' && node.kind !== 'ElementExpression') return undefined;
  const [base, selector] = node.children;
  const bag = base?.column;
  if (!bag || (bag.name !== 'Properties' && bag.name !== 'Measurements') || bag.origins.length === 0) return undefined;
  const tables = bag.origins.filter((o) => o.column === bag.name).map((o) => o.table);
  if (node.kind === 'PathExpression' && selector?.kind === 'NameReference' && selector.name) return { node, bag: bag.name, dimension: selector.name, tables };
  const key = preorder(selector ?? node).find((n) => n.kind === 'StringLiteralExpression');
  if (node.kind === 'ElementExpression' && typeof key?.value === 'string') return { node, bag: bag.name, dimension: key.value, tables };
  return undefined;
}

/** Comparison kinds (Kusto SyntaxKind names) whose right side is a value or a list of values. */
const COMPARISONS = new Set([
  'EqualExpression', 'NotEqualExpression', 'EqualTildeExpression', 'BangTildeExpression',
  'InExpression', 'InCsExpression', 'NotInExpression', 'NotInCsExpression',
  'StartsWithExpression', 'StartsWithCsExpression', 'NotStartsWithExpression', 'NotStartsWithCsExpression',
  'EndsWithExpression', 'EndsWithCsExpression', 'NotEndsWithExpression', 'NotEndsWithCsExpression',
  'HasExpression', 'HasCsExpression', 'NotHasExpression', 'NotHasCsExpression',
  'HasPrefixExpression', 'HasPrefixCsExpression', 'HasSuffixExpression', 'HasSuffixCsExpression',
  'ContainsExpression', 'ContainsCsExpression', 'NotContainsExpression', 'NotContainsCsExpression',
]);

/** Collects what the query says about events, dimensions and values. */
export function queryFacts(analysis: KqlAnalysis): QueryFacts {
  const nodes = preorder(analysis.root);
  const facts: QueryFacts = { eventNames: new Set(), accesses: [], comparisons: [] };
  // Column key -> the customDimension it was computed from; Kusto keeps a column's identity through
  // project and summarize, so `Status` stays tied to Properties.Status wherever it is referenced.
  const derived = new Map<number, string>();
  for (const node of nodes) {
    const access = dimensionAccess(node);
    if (access) facts.accesses.push(access);
    if (node.kind === 'SimpleNamedExpression') {
      const [declaration, expression] = node.children;
      const target = declaration?.column;
      if (!target || !expression) continue;
      const read = new Set(preorder(expression).map(dimensionAccess).flatMap((a) => (a?.bag === 'Properties' ? [a.dimension] : [])));
      const copied = unwrap(expression)?.column;
      const dimension = read.size === 1 ? [...read][0] : read.size === 0 && copied ? derived.get(copied.key) : undefined;
      if (dimension !== undefined) derived.set(target.key, dimension);
    }
    if (COMPARISONS.has(node.kind)) {
      const [left, right] = node.children;
      const column = unwrap(left)?.column;
      if (!column || !right) continue;
      const values = preorder(right).flatMap((n) => (n.kind === 'StringLiteralExpression' && typeof n.value === 'string' ? [n.value] : []));
      if (values.length === 0) continue;
      const operator = node.tokens[0] ?? node.kind;
      facts.comparisons.push({ node, operator, column, dimension: derived.get(column.key), values });
      const keeps = operator === '==' || operator === 'in';
      if (keeps && column.origins.some((o) => o.table === 'AppEvents' && o.column === 'Name')) for (const v of values) facts.eventNames.add(v);
    }
  }
  return facts;
}

/** Whether `value`, compared with `operator`, can match one of the emitted `allowed` values. */
function canMatch(operator: string, value: string, allowed: readonly string[]): boolean {
  const op = operator.replace(/^!/, '').replace(/^not/, '');
  const caseSensitive = op.endsWith('_cs') || op === '==' || op === '!=' || op === 'in' || op === '=';
  const norm = (s: string) => (caseSensitive ? s : s.toLowerCase());
  const v = norm(value);
  const test = (a: string): boolean => {
    if (op.startsWith('startswith') || op.startsWith('hasprefix')) return a.startsWith(v);
    if (op.startsWith('endswith') || op.startsWith('hassuffix')) return a.endsWith(v);
    if (op.startsWith('has') || op.startsWith('contains')) return a.includes(v);
    return a === v;
  };
  return allowed.some((a) => test(norm(a)));
}

/** Values the runtime or the platform emits for a declared table's column. */
function baseColumnValues(catalog: TelemetryCatalog, table: string, column: string): readonly string[] | undefined {
  switch (`${table}.${column}`) {
    case 'AppEvents.Name':
      return Object.keys(catalog.events);
    case 'AppDependencies.DependencyType':
      return catalog.dependencyTypes;
    case 'AppDependencies.Name':
      return catalog.dependencyNames;
    case 'AppTraces.Message':
      return [PLATFORM_NAMES.poisonMessageTemplate];
    case 'AzureMetrics.MetricName':
      return PLATFORM_NAMES.eventGridMetrics;
    case 'AzureMetrics.ResourceProvider':
      return [PLATFORM_NAMES.eventGridResourceProvider];
    default:
      return undefined;
  }
}

function knownDimensions(catalog: TelemetryCatalog, facts: QueryFacts, table: string, bag: string): readonly string[] {
  if (bag !== 'Properties') return [];
  if (table === 'AppExceptions') return catalog.exceptionProperties;
  if (table !== 'AppEvents') return [];
  const events = facts.eventNames.size > 0 ? [...facts.eventNames] : Object.keys(catalog.events);
  return [...new Set(events.flatMap((e) => catalog.events[e] ?? []))];
}

function at(analysis: KqlAnalysis, node: KqlNode): { line: number; column: number } {
  const before = analysis.text.slice(0, node.start).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

/** Every event name, dimension and value of an analyzed query that the runtime does not emit. */
export function checkCatalog(analysis: KqlAnalysis, catalog: TelemetryCatalog): CatalogProblem[] {
  const facts = queryFacts(analysis);
  const problems: CatalogProblem[] = [];
  const report = (node: KqlNode, message: string) => problems.push({ ...at(analysis, node), message });
  for (const access of facts.accesses) {
    for (const table of access.tables) {
      const known = knownDimensions(catalog, facts, table, access.bag);
      if (!known.includes(access.dimension)) {
        report(access.node, `${table}.${access.bag}.${access.dimension} is not emitted by the runtime (known: ${known.join(', ') || 'none'})`);
      }
    }
  }
  for (const c of facts.comparisons) {
    const targets: { label: string; allowed: readonly string[] }[] = [];
    if (c.dimension !== undefined) {
      const allowed = catalog.dimensionValues[c.dimension];
      if (allowed) targets.push({ label: `${c.column.name} (Properties.${c.dimension})`, allowed });
    } else {
      for (const o of c.column.origins) {
        const allowed = baseColumnValues(catalog, o.table, o.column);
        if (allowed) targets.push({ label: `${o.table}.${o.column}`, allowed });
      }
    }
    for (const { label, allowed } of targets) {
      for (const value of c.values) {
        if (!canMatch(c.operator, value, allowed)) report(c.node, `${label} ${c.operator} "${value}": the runtime emits none such (known: ${allowed.join(', ')})`);
      }
    }
  }
  return problems;
}
