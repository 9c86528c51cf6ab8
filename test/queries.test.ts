import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import * as names from '../functions/azure/telemetry-names';
import { QUERY_CATALOG, QUERIES_DIR } from '../azure/queries';
import { WORKBOOK_STEPS } from '../azure/workbook';
import { checkCatalog, queryFacts, runtimeCatalog, type CatalogProblem, type TelemetryCatalog } from './support/kql/catalog';
import { formatDiagnostics, loadKustoAnalyzer, type KqlAnalysis, type KqlAnalyzer } from './support/kql/kusto';
import { deployedKql, queryFiles, type ShippedKql } from './support/kql/shipped';
import { WORKSPACE_TABLES } from './support/kql/workspace-schema';

const ROOT = path.resolve(__dirname, '..');
const ANALYZER_PACKAGE = '@kusto/language-service-next';

/**
 * poison-and-deadletter.kql as it shipped before Count was made a long on both sides: Kusto splits
 * the union's Count into Count_long and Count_int, so `where Count > 0` names no column.
 */
const OLD_POISON_AND_DEADLETTER = `let poisoned = AppTraces
    | where TimeGenerated > ago(7d)
    | where Message startswith "Message has reached MaxDequeueCount"
    | extend Queue = extract("queue '([^']+)'", 1, Message), Source = "poison queue"
    | summarize Count = count() by bin(TimeGenerated, 1h), Source, Queue;
let deadLettered = AzureMetrics
    | where TimeGenerated > ago(7d)
    | where ResourceProvider == "MICROSOFT.EVENTGRID" and MetricName == "DeadLetteredCount"
    | extend Queue = "deadletter", Source = "Event Grid dead-letter"
    | summarize Count = toint(sum(Total)) by bin(TimeGenerated, 1h), Source, Queue;
union poisoned, deadLettered
| where Count > 0
| order by TimeGenerated desc`;

const read = (file: string) => readFileSync(path.join(QUERIES_DIR, file), 'utf8');
const formatProblems = (problems: CatalogProblem[]) => problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n');

/** Applies a rename to a catalog, the way a runtime rename would change it. */
function renamed(catalog: TelemetryCatalog, from: string, to: string): TelemetryCatalog {
  const swap = (list: readonly string[]) => list.map((n) => (n === from ? to : n));
  return {
    events: Object.fromEntries(Object.entries(catalog.events).map(([k, v]) => [k === from ? to : k, swap(v)])),
    dimensionValues: Object.fromEntries(Object.entries(catalog.dimensionValues).map(([k, v]) => [k === from ? to : k, swap(v)])),
    exceptionProperties: swap(catalog.exceptionProperties),
    dependencyTypes: swap(catalog.dependencyTypes),
    dependencyNames: catalog.dependencyNames.map((n) => n.replace(from, to)),
  };
}

describe("shipped KQL, checked by Kusto's own analyzer and against the telemetry the runtime emits", function () {
  // Loading the analyzer and its first analysis take a few seconds on a busy machine; the offline plan a few more.
  this.timeout(180_000);
  const catalog = runtimeCatalog();
  let analyzer: KqlAnalyzer;
  let shipped: ShippedKql[];

  before(async () => {
    analyzer = loadKustoAnalyzer(WORKSPACE_TABLES);
    // Kusto builds its table of built-in functions on first use: pay for it here, not in the first test.
    analyzer.analyze('print 1');
    shipped = [...queryFiles(), ...(await deployedKql())];
  });

  // Analyses are pure functions of the text; the rename cases re-check the same texts many times.
  const analyses = new Map<string, KqlAnalysis>();
  const analyze = (text: string): KqlAnalysis => {
    if (!analyses.has(text)) analyses.set(text, analyzer.analyze(text));
    return analyses.get(text)!;
  };
  const problemsOf = (text: string) => checkCatalog(analyze(text), catalog);

  describe('what ships', () => {
    it('ships the queries the catalog deploys, and nothing else', () => {
      const files = readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.kql')).sort();
      expect(files).to.deep.equal(QUERY_CATALOG.map((q) => q.file).sort());
      expect(files.length).to.be.at.least(10);
    });

    it('finds the KQL of every file, saved search, workbook step and log alert rule', () => {
      const count = (pattern: RegExp) => shipped.filter((s) => pattern.test(s.place)).length;
      expect(count(/^queries\//), 'files').to.equal(QUERY_CATALOG.length);
      expect(count(/^operationalinsights:SavedSearch /), 'saved searches').to.equal(QUERY_CATALOG.filter((q) => q.use === 'saved-search').length);
      expect(count(/^applicationinsights:Workbook /), 'workbook steps').to.equal(WORKBOOK_STEPS.length);
      expect(count(/^monitor:ScheduledQueryRule /), 'log alert rules').to.equal(QUERY_CATALOG.filter((q) => q.use === 'alert').length);
      expect(shipped.every((s) => s.text.trim() !== ''), 'no empty text').to.equal(true);
    });
  });

  it('every shipped KQL text has 0 diagnostics from the Kusto analyzer', () => {
    const failures = shipped.flatMap((s) => {
      const analysis = analyze(s.text);
      return analysis.diagnostics.length === 0 ? [] : [`${s.place}:\n${formatDiagnostics(analysis).replace(/^/gm, '  ')}`];
    });
    expect(failures, `Kusto diagnostics (line:column code severity: message):\n${failures.join('\n')}`).to.deep.equal([]);
  });

  it('every shipped KQL text uses only event names, dimensions and values the runtime emits', () => {
    const failures = shipped.flatMap((s) => {
      const problems = checkCatalog(analyze(s.text), catalog);
      return problems.length === 0 ? [] : [`${s.place}:\n${formatProblems(problems).replace(/^/gm, '  ')}`];
    });
    expect(failures, failures.join('\n')).to.deep.equal([]);
  });

  it('deployment-events.kql counts only the events that reached no scan', () => {
    const outcomes = queryFacts(analyze(read('deployment-events.kql'))).comparisons.filter((c) => c.dimension === 'Outcome');
    const notAccepted = Object.values(names.DEPLOYMENT_OUTCOMES).filter((o) => o !== names.DEPLOYMENT_OUTCOMES.accepted);
    expect(outcomes.map((c) => ({ operator: c.operator, values: [...c.values].sort() }))).to.deep.equal([{ operator: 'in', values: [...notAccepted].sort() }]);
  });

  it('deployment-events.kql and security-events.kql add up Count (one telemetry event may stand for many), absent Count as 1', () => {
    for (const file of ['deployment-events.kql', 'security-events.kql']) {
      const text = read(file);
      expect(text, file).to.match(/Events = coalesce\(toint\(Properties\.Count\), 1\)/);
      expect(text, file).to.match(/summarize Events = sum\(Events\)/);
      expect(text, file).to.not.match(/count\(\)/);
    }
  });

  it('the findings queries read the latest state of each finding and the transitions the runtime sends', () => {
    const open = queryFacts(analyze(read('security-findings-open-by-severity.kql')));
    expect([...open.eventNames]).to.deep.equal([names.SECURITY_FINDING_EVENT]);
    expect(open.comparisons.filter((c) => c.dimension === 'State').map((c) => c.values)).to.deep.equal([['ACTIVE']]);
    const alert = queryFacts(analyze(read('alert-critical-findings.kql')));
    expect(alert.comparisons.filter((c) => c.dimension === 'Transition').map((c) => [...c.values].sort())).to.deep.equal([['open', 'reopen', 'unsuppress']]);
    expect(alert.comparisons.filter((c) => c.dimension === 'Severity').map((c) => c.values)).to.deep.equal([['CRITICAL']]);
  });

  describe('the analyzer knows the workspace tables and their column types', () => {
    it('reports the union type clash of the old poison-and-deadletter query (KS142 on Count)', () => {
      const analysis = analyze(OLD_POISON_AND_DEADLETTER);
      expect(analysis.diagnostics.map((d) => ({ code: d.code, line: d.line, column: d.column, text: OLD_POISON_AND_DEADLETTER.slice(d.start, d.start + d.length) }))).to.deep.equal([
        { code: 'KS142', line: 12, column: 9, text: 'Count' },
      ]);
    });
    it('reports operations on the wrong column types', () => {
      expect(formatDiagnostics(analyze('AppDependencies | where DurationMs > "slow"'))).to.match(/KS106 Error: The operator '>' is not defined for the operand types real and string/);
      expect(formatDiagnostics(analyze('AppDependencies | summarize sum(Target)'))).to.match(/KS138 Error: .*summable/);
    });
    it('accepts valid KQL that a hand-written checker rejected: project-away, Properties.ScanId on AppExceptions', () => {
      const query = 'AppExceptions\n| extend ScanId = tostring(Properties.ScanId)\n| project-away Details, Measurements\n| summarize count() by ScanId';
      const analysis = analyze(query);
      expect(formatDiagnostics(analysis)).to.equal('');
      expect(formatProblems(checkCatalog(analysis, catalog))).to.equal('');
    });
    it('rejects a classic Application Insights table name', () => {
      const query = read('recent-scans.kql').replace(/^AppEvents/m, 'customEvents');
      expect(formatDiagnostics(analyze(query))).to.match(/KS\d+ Error: .*'customEvents'/);
    });
    it('rejects a column that a project dropped', () => {
      const query = `${read('failed-scans.kql')}\n| where Critical > 0`;
      expect(formatDiagnostics(analyze(query))).to.match(/KS142 Error: The name 'Critical'/);
    });
    it("reports the warnings of Kusto's code analyzers", () => {
      expect(formatDiagnostics(analyze('AppEvents | join (AppTraces) on OperationId'))).to.match(/KS508 Warning: Avoid using joins without specifying the join kind/);
    });
    it('rejects an unknown function', () => {
      expect(formatDiagnostics(analyze('AppEvents | extend X = frobnicate(Name)'))).to.match(/'frobnicate'/);
    });
    it('reports a syntax error with its position', () => {
      const analysis = analyze('AppEvents\n| where Name == "ContainerScan');
      // The unterminated string runs to the end of the text, where the closing quote is missing.
      expect(analysis.diagnostics[0], formatDiagnostics(analysis)).to.include({ code: 'KS001', line: 2, column: 31 });
    });
  });

  describe('a rename on the runtime side fails the catalog check', () => {
    const cases: [string, string, string][] = [
      ['the scan event', names.CONTAINER_SCAN_EVENT, 'ContainerScanned'],
      ['a dimension', 'VulnCritical', 'CriticalCount'],
      ['an EventType value', names.SCAN_EVENT_TYPES.failed, 'Failed'],
      ['a Status value', 'TIMEOUT', 'TIMED_OUT'],
      ['an Outcome value', names.DEPLOYMENT_OUTCOMES.resourceGone, 'Gone'],
      ['the dependency type', names.HTTP_DEPENDENCY_TYPE, 'HTTP'],
      ['the dependency name prefix', names.QUALYS_DEPENDENCY_PREFIX, 'QualysApi '],
      ['the exception property', names.EXCEPTION_COMPONENT_PROPERTY, 'Source'],
      ['the deployment event outcome dimension', 'Outcome', 'Result'],
      ['the finding event', names.SECURITY_FINDING_EVENT, 'FindingChanged'],
      ['a finding transition', 'reopen', 'reopened'],
      ['a finding state', 'ACTIVE', 'OPEN'],
      ['a finding dimension', 'Actor', 'Caller'],
      ['the security event', names.SECURITY_EVENT, 'ArmSecurityEvent'],
      ['a security event outcome', names.SECURITY_EVENT_OUTCOMES.detectorError, 'RuleError'],
    ];
    for (const [what, from, to] of cases) {
      it(`renaming ${what} (${from} -> ${to}) breaks at least one query`, () => {
        const changed = renamed(catalog, from, to);
        const broken = QUERY_CATALOG.filter((q) => checkCatalog(analyze(read(q.file)), changed).length > 0);
        expect(broken, `no query noticed ${from} -> ${to}`).to.not.be.empty;
      });
    }
  });

  describe('a name on the query side that the runtime never emits fails the catalog check', () => {
    it('a misspelt dimension', () => {
      const query = read('recent-scans.kql').replace('Properties.VulnHigh', 'Properties.VulnHi');
      expect(formatProblems(problemsOf(query))).to.match(/Properties\.VulnHi is not emitted/);
    });
    it('a dimension of another event', () => {
      const query = read('recent-scans.kql').replace('Properties.Image', 'Properties.Outcome');
      expect(formatProblems(problemsOf(query))).to.match(/AppEvents\.Properties\.Outcome is not emitted/);
    });
    it("a dimension read with ['...']", () => {
      expect(formatProblems(problemsOf('AppEvents | where Name == "ContainerScan" | extend X = Properties["Severity"]'))).to.match(/Properties\.Severity is not emitted/);
    });
    it('an exception property the runtime never adds', () => {
      expect(formatProblems(problemsOf('AppExceptions | extend I = tostring(Properties.ImageName)'))).to.match(/AppExceptions\.Properties\.ImageName is not emitted/);
    });
    it('an event name the runtime never sends', () => {
      expect(formatProblems(problemsOf('AppEvents | where Name == "ImageScanned"'))).to.match(/AppEvents\.Name == "ImageScanned"/);
    });
    it('a status value the runtime never sends, also after project and summarize', () => {
      const query = 'AppEvents | where Name == "ContainerScan" | extend S = tostring(Properties.Status) | summarize arg_max(TimeGenerated, S) by Image = tostring(Properties.Image) | project S2 = S | where S2 == "DONE"';
      expect(formatProblems(problemsOf(query))).to.match(/S2 \(Properties\.Status\) == "DONE"/);
    });
    it('a poison message text the host never logs', () => {
      expect(formatProblems(problemsOf('AppTraces | where Message startswith "Poison message detected"'))).to.match(/AppTraces\.Message startswith/);
    });
    it('a dependency name outside the Qualys families', () => {
      expect(formatProblems(problemsOf('AppDependencies | where Name == "Qualys scans"'))).to.match(/AppDependencies\.Name == "Qualys scans"/);
    });
    it('values compared case-insensitively match regardless of case', () => {
      expect(formatProblems(problemsOf('AppDependencies | where DependencyType =~ "HTTP" and Name startswith "qualys "'))).to.equal('');
    });
  });

  describe('the analyzer is a development tool only', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

    it('is a dev dependency pinned to an exact version', () => {
      expect(pkg.dependencies).to.not.have.property(ANALYZER_PACKAGE);
      expect(pkg.devDependencies[ANALYZER_PACKAGE]).to.match(/^\d+\.\d+\.\d+$/);
      expect(analyzer.version).to.equal(pkg.devDependencies[ANALYZER_PACKAGE]);
    });

    it('installs from its registry tarball alone: no install scripts, no dependencies', () => {
      const installed = JSON.parse(readFileSync(path.join(ROOT, 'node_modules', ANALYZER_PACKAGE, 'package.json'), 'utf8')) as Record<string, unknown>;
      expect(installed).to.not.have.any.keys('scripts', 'dependencies', 'optionalDependencies', 'peerDependencies', 'gypfile', 'binary');
      const lock = JSON.parse(readFileSync(path.join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, Record<string, unknown>> };
      const entry = lock.packages[`node_modules/${ANALYZER_PACKAGE}`];
      expect(entry).to.include({ dev: true });
      expect(entry).to.not.have.any.keys('hasInstallScript', 'dependencies');
    });

    it('nothing that Pulumi or the Function App runs imports it', () => {
      const sources = (dir: string): string[] =>
        readdirSync(dir).flatMap((name) => {
          const full = path.join(dir, name);
          if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'dist' ? [] : sources(full);
          return /\.(ts|js|mjs|cjs)$/.test(name) ? [full] : [];
        });
      const runtime = [path.join(ROOT, 'index.ts'), ...['azure', 'aws', 'functions', 'shared'].flatMap((d) => sources(path.join(ROOT, d)))];
      expect(runtime.length).to.be.greaterThan(20);
      const importing = runtime.filter((file) => readFileSync(file, 'utf8').includes('@kusto/')).map((f) => path.relative(ROOT, f));
      expect(importing).to.deep.equal([]);
    });
  });
});
