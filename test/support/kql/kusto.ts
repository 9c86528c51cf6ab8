/**
 * The one module that touches `@kusto/language-service-next`: Microsoft's Kusto parser and binder
 * (the C# Kusto.Language library compiled to JavaScript with Bridge.NET), the analyzer behind the
 * query editors of Azure Data Explorer and Log Analytics. It reports what Kusto itself would: syntax
 * errors, unknown tables, columns and functions, and type errors, with Kusto's diagnostic codes; and
 * the warnings of Kusto's code analyzers (e.g. KS508, a join without a kind).
 *
 * A dev dependency: tests load it, nothing that Pulumi or the Function App runs may (a test checks).
 *
 * Its typings are Bridge.NET's global namespaces (`declare namespace Kusto`, `System`; 1.7 MB), not a
 * module, so they are kept out of the compilation: the interfaces below declare only the members used
 * here, and the rest of the project sees plain objects (`KqlAnalysis`, `KqlNode`, `KqlDiagnostic`).
 *
 * Loading runs two scripts (`bridge.min.js`, then `Kusto.Language.Bridge.min.js`) that define the
 * globals `Bridge`, `System` and `Kusto` and nothing else; about 0.3 s, plus about 1 s for the
 * first analysis (Kusto builds its built-in function table lazily), then milliseconds per query.
 */
import { performance } from 'node:perf_hooks';

const PACKAGE = '@kusto/language-service-next';

/** Kusto scalar types a table column may have. */
export type KustoType = 'bool' | 'datetime' | 'decimal' | 'dynamic' | 'guid' | 'int' | 'long' | 'real' | 'string' | 'timespan';

export interface TableSchema {
  readonly name: string;
  readonly columns: Readonly<Record<string, KustoType>>;
}

export interface KqlDiagnostic {
  /** Kusto's code, e.g. KS142 (unknown name), KS204 (unknown table). */
  code: string;
  severity: string;
  message: string;
  /** Offset into the text, and the same as 1-based line and column. */
  start: number;
  length: number;
  line: number;
  column: number;
}

/** A column of a declared table. */
export interface ColumnOrigin {
  table: string;
  column: string;
}

/** The column a name binds to. */
export interface KqlColumn {
  name: string;
  type: string;
  /**
   * Identity of the column: Kusto keeps one symbol per column through extend, project and
   * summarize, so the same key means the same column wherever it is referenced.
   */
  key: number;
  /** The declared table columns it is, or that a union or join merged into it. */
  origins: readonly ColumnOrigin[];
}

/** A syntax node of the analyzed query, with what the binder resolved on it. */
export interface KqlNode {
  /** Kusto's SyntaxKind name: PipeExpression, PathExpression, InExpression, NameReference... */
  kind: string;
  /** Offsets of the node's text (leading trivia excluded). */
  start: number;
  end: number;
  /** Text of the node's own tokens, e.g. the operator of a binary expression (`==`, `in~`). */
  tokens: readonly string[];
  /** Child nodes (tokens excluded), in source order. */
  children: readonly KqlNode[];
  /** The column a NameReference or NameDeclaration binds to. */
  column?: KqlColumn;
  /** The declared table a NameReference binds to. */
  table?: string;
  /** The name of a NameReference or NameDeclaration. */
  name?: string;
  /** The value of a literal. */
  value?: string | number | boolean | null;
}

export interface KqlAnalysis {
  text: string;
  diagnostics: KqlDiagnostic[];
  root: KqlNode;
}

export interface KqlAnalyzer {
  /** The analyzer's package version. */
  readonly version: string;
  /** Milliseconds spent loading the package. */
  readonly loadMs: number;
  analyze(text: string): KqlAnalysis;
}

// --- The part of the Bridge.NET surface used here (see the package's Kusto.Language.Bridge.d.ts). ---

interface BridgeList<T> {
  Count: number;
  getItem(index: number): T;
}

interface KSymbol {
  Name: string;
  Kind: number;
}

interface KColumnSymbol extends KSymbol {
  Type: KSymbol;
  OriginalColumns: BridgeList<KColumnSymbol> | null;
}

interface KTableSymbol extends KSymbol {
  Columns: BridgeList<KColumnSymbol>;
}

interface KSyntaxElement {
  Kind: number;
  IsToken: boolean;
  TextStart: number;
  End: number;
  ChildCount: number;
  Text?: string;
  GetChild(index: number): KSyntaxElement | null;
  ReferencedSymbol?: KSymbol | null;
  SimpleName?: string;
  LiteralValue?: unknown;
}

interface KDiagnostic {
  Code: string;
  Severity: string;
  Message: string;
  Start: number;
  Length: number;
}

interface KKustoCode {
  Syntax: KSyntaxElement;
  GetDiagnostics(): BridgeList<KDiagnostic>;
}

interface KCodeService {
  GetAnalyzerDiagnostics(waitForAnalysis: boolean): BridgeList<KDiagnostic>;
}

interface KGlobalState {
  WithDatabase(database: object): KGlobalState;
}

interface KustoLanguage {
  GlobalState: { Default: KGlobalState };
  KustoCode: { ParseAndAnalyze(text: string, globals: KGlobalState): KKustoCode };
  Symbols: {
    TableSymbol: { $ctor7: new (name: string, schema: string, description: string | null) => KTableSymbol };
    DatabaseSymbol: { ctor: new (name: string, members: KTableSymbol[]) => object };
    SymbolKind: Record<string, number>;
  };
  Syntax: { SyntaxKind: Record<string, number> };
  Editor: { KustoCodeService: { ctor: new (code: KKustoCode) => KCodeService } };
}

interface LoadedPackage {
  language: KustoLanguage;
  version: string;
  loadMs: number;
}

let loaded: LoadedPackage | undefined;

/** Loads the package once per process (it defines globals, so loading twice would redefine them). */
function loadPackage(): LoadedPackage {
  if (loaded) return loaded;
  const started = performance.now();
  // The two scripts are not modules: each assigns to the global object, the runtime first.
  require(`${PACKAGE}/bridge.min.js`);
  require(`${PACKAGE}/Kusto.Language.Bridge.min.js`);
  const loadMs = performance.now() - started;
  const kusto = (globalThis as { Kusto?: { Language?: KustoLanguage } }).Kusto?.Language;
  if (!kusto?.KustoCode || !kusto.GlobalState) throw new Error(`${PACKAGE} loaded but defined no Kusto.Language`);
  const { version } = require(`${PACKAGE}/package.json`) as { version: string };
  loaded = { language: kusto, version, loadMs };
  return loaded;
}

function list<T>(items: BridgeList<T> | null | undefined): T[] {
  const out: T[] = [];
  for (let i = 0; i < (items?.Count ?? 0); i += 1) out.push(items!.getItem(i));
  return out;
}

/** 1-based line and column of an offset. */
function position(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, offset).split('\n');
  return { line: before.length, column: before[before.length - 1]!.length + 1 };
}

function literalValue(value: unknown): KqlNode['value'] {
  if (value === null || typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') return value;
  // Bridge represents 64-bit integers (System.Int64) as objects with toNumber().
  const asLong = value as { toNumber?: () => number };
  return typeof asLong?.toNumber === 'function' ? asLong.toNumber() : String(value);
}

/**
 * An analyzer over a database holding `tables`: queries run in it as they run in a Log Analytics
 * workspace, with Kusto's built-in functions and operators.
 */
export function loadKustoAnalyzer(tables: readonly TableSchema[]): KqlAnalyzer {
  const { language, version, loadMs } = loadPackage();
  const { Symbols, Syntax } = language;
  const kindNames = new Map<number, string>();
  for (const [name, value] of Object.entries(Syntax.SyntaxKind)) if (typeof value === 'number' && !kindNames.has(value)) kindNames.set(value, name);
  const columnKind = Symbols.SymbolKind.Column;
  const tableKind = Symbols.SymbolKind.Table;

  const origins = new Map<KColumnSymbol, ColumnOrigin>();
  const tableSymbols = tables.map((table) => {
    // Names quoted: unquoted, a column called `type` (Resource Graph has one) ends the schema there.
    const schema = `(${Object.entries(table.columns)
      .map(([column, type]) => `['${column}']:${type}`)
      .join(', ')})`;
    const symbol = new Symbols.TableSymbol.$ctor7(table.name, schema, null);
    for (const column of list(symbol.Columns)) origins.set(column, { table: table.name, column: column.Name });
    return symbol;
  });
  const declared = new Set(tables.map((t) => t.name));
  const globals = language.GlobalState.Default.WithDatabase(new Symbols.DatabaseSymbol.ctor('workspace', tableSymbols));

  const originsOf = (symbol: KColumnSymbol, seen = new Set<KColumnSymbol>()): ColumnOrigin[] => {
    const own = origins.get(symbol);
    if (own) return [own];
    if (seen.has(symbol)) return [];
    seen.add(symbol);
    return list(symbol.OriginalColumns).flatMap((c) => originsOf(c, seen));
  };

  /** `keyOf` numbers the column symbols of one analysis (so nothing outlives it). */
  const toNode = (element: KSyntaxElement, keyOf: (symbol: KColumnSymbol) => number): KqlNode => {
    const children: KqlNode[] = [];
    const tokens: string[] = [];
    for (let i = 0; i < element.ChildCount; i += 1) {
      const child = element.GetChild(i);
      if (!child) continue;
      if (child.IsToken) {
        if (child.Text) tokens.push(child.Text);
      } else if (child.ChildCount > 0 || child.End > child.TextStart) {
        children.push(toNode(child, keyOf));
      }
    }
    const node: KqlNode = { kind: kindNames.get(element.Kind) ?? String(element.Kind), start: element.TextStart, end: element.End, tokens, children };
    const symbol = element.ReferencedSymbol;
    if (symbol?.Kind === columnKind) {
      const column = symbol as KColumnSymbol;
      node.column = { name: column.Name, type: column.Type?.Name ?? 'unknown', key: keyOf(column), origins: originsOf(column) };
    } else if (symbol?.Kind === tableKind && declared.has(symbol.Name)) {
      node.table = symbol.Name;
    }
    if (typeof element.SimpleName === 'string') node.name = element.SimpleName;
    if (node.kind.endsWith('LiteralExpression')) node.value = literalValue(element.LiteralValue);
    return node;
  };

  return {
    version,
    loadMs,
    analyze(text: string): KqlAnalysis {
      const code = language.KustoCode.ParseAndAnalyze(text, globals);
      // Parser and binder errors first, then the code analyzers' warnings (the editor's squiggles).
      const found = [...list(code.GetDiagnostics()), ...list(new language.Editor.KustoCodeService.ctor(code).GetAnalyzerDiagnostics(true))];
      const diagnostics = found.map((d) => ({
        code: d.Code,
        severity: d.Severity,
        message: d.Message,
        start: d.Start,
        length: d.Length,
        ...position(text, d.Start),
      }));
      const keys = new Map<KColumnSymbol, number>();
      const keyOf = (symbol: KColumnSymbol) => {
        if (!keys.has(symbol)) keys.set(symbol, keys.size + 1);
        return keys.get(symbol)!;
      };
      return { text, diagnostics, root: toNode(code.Syntax, keyOf) };
    },
  };
}

/** One line per diagnostic: `line:column CODE message (near "text")`. */
export function formatDiagnostics(analysis: Pick<KqlAnalysis, 'text' | 'diagnostics'>): string {
  return analysis.diagnostics
    .map((d) => `${d.line}:${d.column} ${d.code} ${d.severity}: ${d.message} (at "${analysis.text.slice(d.start, d.start + Math.max(d.length, 1))}")`)
    .join('\n');
}
