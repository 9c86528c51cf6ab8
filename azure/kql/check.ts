import { ARG_AGGREGATIONS, FUNCTIONS, KEYWORDS, PLATFORM_NAMES, TABULAR_OPERATORS, WORKSPACE_TABLES, type TelemetryCatalog } from './schema';
import { KqlSyntaxError, tokenize, type Token } from './tokenize';

/**
 * Checks a KQL query against the workspace schema and the names the runtime emits: tables,
 * columns in scope after each operator, `Properties.<dimension>` accesses, and the string literals
 * compared with event names, dependency names, dimension values and platform messages. A name
 * that one side renames and the other does not shows up here as a problem.
 */

export interface KqlProblem {
  line: number;
  column: number;
  message: string;
}

interface Scope {
  /** Columns available to the next operator. */
  columns: Set<string>;
  /** The table rows come from (undefined after a union of several). */
  table: string | undefined;
  /** Event names the query filtered AppEvents to, which narrow the valid dimensions. */
  eventNames: Set<string>;
  /** Columns computed from one customDimension, so literals compared with them can be checked. */
  derived: Map<string, string>;
}

interface Context {
  catalog: TelemetryCatalog;
  problems: KqlProblem[];
  tabularLets: Map<string, Scope>;
  scalarLets: Set<string>;
}

const COMPARISONS = new Set(['==', '=~', '!=', '!~', 'in', 'has', 'contains', 'startswith', 'endswith', 'has_cs', 'contains_cs', 'startswith_cs']);

function report(ctx: Context, token: Token | undefined, message: string): void {
  ctx.problems.push({ line: token?.line ?? 0, column: token?.column ?? 0, message });
}

/** Splits at `separator` tokens outside parentheses/brackets. */
function splitTopLevel(tokens: readonly Token[], isSeparator: (t: Token) => boolean): Token[][] {
  const parts: Token[][] = [[]];
  let depth = 0;
  for (const t of tokens) {
    if (t.kind === 'op' && ['(', '[', '{'].includes(t.text)) depth += 1;
    if (t.kind === 'op' && [')', ']', '}'].includes(t.text)) depth -= 1;
    if (depth === 0 && isSeparator(t)) parts.push([]);
    else parts[parts.length - 1]!.push(t);
  }
  return parts.filter((p) => p.length > 0);
}

const isComma = (t: Token) => t.kind === 'op' && t.text === ',';

/** `Properties.X`, `Properties['X']`: the dimension name and how many tokens the access spans. */
function propertyAccess(tokens: readonly Token[], i: number): { name: string; span: number } | undefined {
  const base = tokens[i];
  if (base?.kind !== 'ident' || (base.text !== 'Properties' && base.text !== 'Measurements')) return undefined;
  const next = tokens[i + 1];
  if (next?.kind === 'op' && next.text === '.' && tokens[i + 2]?.kind === 'ident') return { name: tokens[i + 2]!.text, span: 3 };
  if (next?.kind === 'op' && next.text === '[' && tokens[i + 2]?.kind === 'string' && tokens[i + 3]?.text === ']') {
    return { name: tokens[i + 2]!.text, span: 4 };
  }
  return undefined;
}

function knownDimensions(ctx: Context, scope: Scope): readonly string[] | undefined {
  switch (scope.table) {
    case 'AppEvents': {
      const events = scope.eventNames.size > 0 ? [...scope.eventNames] : Object.keys(ctx.catalog.events);
      return events.flatMap((e) => ctx.catalog.events[e] ?? []);
    }
    case 'AppExceptions':
      return ctx.catalog.exceptionProperties;
    default:
      return scope.table === undefined ? undefined : [];
  }
}

/** The literal values right of a comparison: `"a"` or `("a", "b")`. */
function literalsAfter(tokens: readonly Token[], i: number): Token[] {
  const first = tokens[i];
  if (first?.kind === 'string') return [first];
  if (first?.kind === 'op' && first.text === '(') {
    const out: Token[] = [];
    for (let j = i + 1; j < tokens.length && tokens[j]!.text !== ')'; j += 1) if (tokens[j]!.kind === 'string') out.push(tokens[j]!);
    return out;
  }
  return [];
}

function checkLiteral(ctx: Context, scope: Scope, columnName: string, operator: string, literal: Token): void {
  const value = literal.text;
  const { catalog } = ctx;
  const fail = (allowed: readonly string[]) =>
    report(ctx, literal, `${scope.table ?? 'query'}.${columnName} ${operator} "${value}": the runtime emits none such (known: ${allowed.join(', ')})`);
  const exact = operator === '==' || operator === 'in' || operator === '=~' || operator === '!=';
  const dimension = scope.derived.get(columnName);
  if (dimension !== undefined) {
    const allowed = catalog.dimensionValues[dimension];
    if (allowed && exact && !allowed.includes(value)) fail(allowed);
    return;
  }
  switch (`${scope.table}.${columnName}`) {
    case 'AppEvents.Name': {
      const allowed = Object.keys(catalog.events);
      if (!allowed.includes(value)) fail(allowed);
      else if (operator === '==' || operator === 'in') scope.eventNames.add(value);
      return;
    }
    case 'AppDependencies.DependencyType':
      if (!catalog.dependencyTypes.includes(value)) fail(catalog.dependencyTypes);
      return;
    case 'AppDependencies.Name': {
      const ok = exact ? catalog.dependencyNames.includes(value) : catalog.dependencyNames.some((n) => n.includes(value));
      if (!ok || (operator === 'startswith' && !catalog.dependencyNamePrefixes.some((p) => p.startsWith(value) || value.startsWith(p)))) {
        fail([...catalog.dependencyNamePrefixes, ...catalog.dependencyNames]);
      }
      return;
    }
    case 'AppExceptions.ExceptionType':
      return;
    case 'AppTraces.Message': {
      const template = PLATFORM_NAMES.poisonMessageTemplate;
      const ok = operator === 'startswith' ? template.startsWith(value) : template.includes(value);
      if (!ok) fail([template]);
      return;
    }
    case 'AzureMetrics.MetricName':
      if (!PLATFORM_NAMES.eventGridMetrics.includes(value as (typeof PLATFORM_NAMES.eventGridMetrics)[number])) fail(PLATFORM_NAMES.eventGridMetrics);
      return;
    case 'AzureMetrics.ResourceProvider':
      if (value !== PLATFORM_NAMES.eventGridResourceProvider) fail([PLATFORM_NAMES.eventGridResourceProvider]);
      return;
    default:
      return;
  }
}

/** Checks every name an expression uses; returns the dimension it reads when it reads exactly one. */
function checkExpression(ctx: Context, scope: Scope, tokens: readonly Token[]): string | undefined {
  const dimensions: string[] = [];
  for (let i = 0; i < tokens.length; i += 1) {
    const t = tokens[i]!;
    if (t.kind !== 'ident') continue;
    const prev = tokens[i - 1];
    if (prev?.kind === 'op' && prev.text === '.') continue;
    const next = tokens[i + 1];
    if (next?.kind === 'op' && next.text === '(' && !KEYWORDS.has(t.text)) {
      if (!FUNCTIONS.has(t.text) && !ctx.scalarLets.has(t.text)) report(ctx, t, `unknown function ${t.text}()`);
      continue;
    }
    if (KEYWORDS.has(t.text) || ctx.scalarLets.has(t.text)) continue;
    const access = propertyAccess(tokens, i);
    if (access) {
      if (!scope.columns.has(t.text)) report(ctx, t, `column ${t.text} is not in scope here`);
      const known = t.text === 'Properties' ? knownDimensions(ctx, scope) : undefined;
      if (known && !known.includes(access.name)) {
        report(ctx, tokens[i + 2], `${scope.table}.Properties.${access.name} is not emitted by the runtime (known: ${[...new Set(known)].join(', ') || 'none'})`);
      }
      dimensions.push(access.name);
      i += access.span - 1;
      continue;
    }
    if (!scope.columns.has(t.text)) {
      report(ctx, t, `unknown column ${t.text} (in scope: ${[...scope.columns].sort().join(', ')})`);
      continue;
    }
    const op = tokens[i + 1];
    if (op && COMPARISONS.has(op.text)) for (const literal of literalsAfter(tokens, i + 2)) checkLiteral(ctx, scope, t.text, op.text, literal);
  }
  return dimensions.length === 1 ? dimensions[0] : undefined;
}

/** `name = expr` or `expr`; the name an unnamed expression gets in KQL's output. */
function assignment(item: readonly Token[]): { name: string | undefined; expr: readonly Token[] } {
  if (item[0]?.kind === 'ident' && item[1]?.kind === 'op' && item[1].text === '=') return { name: item[0].text, expr: item.slice(2) };
  return { name: undefined, expr: item };
}

function defaultName(expr: readonly Token[]): string | undefined {
  if (expr.length === 1 && expr[0]!.kind === 'ident') return expr[0]!.text;
  // bin(TimeGenerated, 1h) and similar keep the column name of their first argument.
  if (expr[0]?.kind === 'ident' && expr[1]?.text === '(' && expr[2]?.kind === 'ident' && (expr[3]?.text === ',' || expr[3]?.text === ')')) {
    return expr[0].text === 'bin' || expr[0].text === 'floor' ? expr[2].text : `${expr[0].text}_${expr[2].text}`;
  }
  if (expr[0]?.kind === 'ident' && expr[1]?.text === '(') return `${expr[0].text}_`;
  return undefined;
}

/**
 * The output columns of `project` and of `summarize ... by`: each `name = expr` or bare `expr` makes
 * a column that keeps the dimension its expression reads, or that of the column it copies.
 */
function addOutputColumns(ctx: Context, scope: Scope, items: readonly Token[], columns: Set<string>, derived: Map<string, string>): void {
  for (const item of splitTopLevel(items, isComma)) {
    const { name: column, expr } = assignment(item);
    const dimension = checkExpression(ctx, scope, expr);
    const target = column ?? defaultName(expr);
    if (!target) continue;
    columns.add(target);
    const carried = dimension ?? (expr.length === 1 ? scope.derived.get(expr[0]!.text) : undefined);
    if (carried !== undefined) derived.set(target, carried);
  }
}

function applyOperator(ctx: Context, scope: Scope, segment: readonly Token[]): Scope {
  const head = segment[0]!;
  const name = head.text;
  if (head.kind !== 'ident' || !TABULAR_OPERATORS.has(name)) {
    report(ctx, head, `unknown tabular operator ${head.text}`);
    return scope;
  }
  let rest = segment.slice(1);
  switch (name) {
    case 'where':
    case 'filter':
      checkExpression(ctx, scope, rest);
      return scope;
    case 'extend': {
      const columns = new Set(scope.columns);
      const derived = new Map(scope.derived);
      for (const item of splitTopLevel(rest, isComma)) {
        const { name: column, expr } = assignment(item);
        const dimension = checkExpression(ctx, scope, expr);
        const target = column ?? defaultName(expr);
        if (!target) continue;
        columns.add(target);
        if (dimension !== undefined) derived.set(target, dimension);
        else derived.delete(target);
      }
      return { ...scope, columns, derived };
    }
    case 'project': {
      const columns = new Set<string>();
      const derived = new Map<string, string>();
      addOutputColumns(ctx, scope, rest, columns, derived);
      return { ...scope, columns, derived };
    }
    case 'summarize': {
      const byIndex = rest.findIndex((t) => t.kind === 'ident' && t.text === 'by');
      const aggregates = byIndex >= 0 ? rest.slice(0, byIndex) : rest;
      const keys = byIndex >= 0 ? rest.slice(byIndex + 1) : [];
      const columns = new Set<string>();
      const derived = new Map<string, string>();
      for (const item of splitTopLevel(aggregates, isComma)) {
        const { name: column, expr } = assignment(item);
        checkExpression(ctx, scope, expr);
        if (!column && expr[0] && ARG_AGGREGATIONS.has(expr[0].text)) {
          for (const arg of splitTopLevel(expr.slice(2, -1), isComma)) {
            const argName = defaultName(arg);
            if (argName) columns.add(argName);
            if (argName && scope.derived.has(argName)) derived.set(argName, scope.derived.get(argName)!);
          }
          continue;
        }
        const target = column ?? defaultName(expr);
        if (target) columns.add(target);
      }
      addOutputColumns(ctx, scope, keys, columns, derived);
      return { ...scope, columns, derived };
    }
    case 'order':
    case 'sort':
    case 'top': {
      const byIndex = rest.findIndex((t) => t.kind === 'ident' && t.text === 'by');
      if (byIndex < 0) {
        report(ctx, head, `${name} needs "by"`);
        return scope;
      }
      rest = rest.slice(byIndex + 1);
      for (const item of splitTopLevel(rest, isComma)) checkExpression(ctx, scope, item);
      return scope;
    }
    case 'take':
    case 'limit':
    case 'sample':
    case 'render':
    case 'serialize':
      return scope;
    case 'count':
      return { ...scope, columns: new Set(['Count']), derived: new Map() };
    case 'distinct': {
      const columns = new Set<string>();
      for (const item of splitTopLevel(rest, isComma)) {
        checkExpression(ctx, scope, item);
        const target = defaultName(item);
        if (target) columns.add(target);
      }
      return { ...scope, columns };
    }
    default:
      report(ctx, head, `operator ${name} is not supported by the query checker`);
      return scope;
  }
}

function sourceScope(ctx: Context, source: readonly Token[]): Scope | undefined {
  const head = source[0];
  if (head?.kind !== 'ident') {
    report(ctx, head, 'a query must start with a table, a let name or union');
    return undefined;
  }
  const scopeOf = (t: Token): Scope | undefined => {
    const table = WORKSPACE_TABLES[t.text];
    if (table) return { columns: new Set(table), table: t.text, eventNames: new Set(), derived: new Map() };
    const named = ctx.tabularLets.get(t.text);
    if (named) return { ...named, columns: new Set(named.columns), eventNames: new Set(named.eventNames), derived: new Map(named.derived) };
    report(ctx, t, `unknown table ${t.text} (workspace tables: ${Object.keys(WORKSPACE_TABLES).join(', ')})`);
    return undefined;
  };
  if (head.text === 'union') {
    const parts = splitTopLevel(source.slice(1), isComma).map((p) => p[0]!);
    const scopes = parts.map(scopeOf).filter((s): s is Scope => s !== undefined);
    if (scopes.length === 0) return undefined;
    const columns = new Set(scopes.flatMap((s) => [...s.columns]));
    const tables = new Set(scopes.map((s) => s.table));
    return { columns, table: tables.size === 1 ? scopes[0]!.table : undefined, eventNames: new Set(), derived: new Map() };
  }
  if (source.length > 1) report(ctx, source[1], `unexpected ${source[1]!.text} after ${head.text}`);
  return scopeOf(head);
}

function checkPipeline(ctx: Context, tokens: readonly Token[]): Scope | undefined {
  const segments = splitTopLevel(tokens, (t) => t.kind === 'pipe');
  const [source, ...operators] = segments;
  if (!source) return undefined;
  let scope = sourceScope(ctx, source);
  if (!scope) return undefined;
  for (const segment of operators) scope = applyOperator(ctx, scope, segment);
  return scope;
}

export function checkQuery(source: string, catalog: TelemetryCatalog): KqlProblem[] {
  const ctx: Context = { catalog, problems: [], tabularLets: new Map(), scalarLets: new Set() };
  let tokens: Token[];
  try {
    tokens = tokenize(source);
  } catch (error) {
    if (error instanceof KqlSyntaxError) return [{ line: error.line, column: error.column, message: error.message }];
    throw error;
  }
  const statements = splitTopLevel(tokens, (t) => t.kind === 'semicolon');
  if (statements.length === 0) return [{ line: 1, column: 1, message: 'empty query' }];
  for (const [index, statement] of statements.entries()) {
    const isLast = index === statements.length - 1;
    if (statement[0]?.text === 'let') {
      const name = statement[1];
      if (name?.kind !== 'ident' || statement[2]?.text !== '=') {
        report(ctx, statement[0], 'let needs "name ="');
        continue;
      }
      const body = statement.slice(3);
      const startsTabular = body[0]?.kind === 'ident' && (WORKSPACE_TABLES[body[0].text] !== undefined || ctx.tabularLets.has(body[0].text) || body[0].text === 'union');
      if (startsTabular) {
        const scope = checkPipeline(ctx, body);
        if (scope) ctx.tabularLets.set(name.text, scope);
      } else {
        ctx.scalarLets.add(name.text);
      }
      if (isLast) report(ctx, statement[0], 'a query must end with a tabular expression, not a let');
      continue;
    }
    if (!isLast) report(ctx, statement[0], 'only let statements may precede the query');
    checkPipeline(ctx, statement);
  }
  return ctx.problems;
}
