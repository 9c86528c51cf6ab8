import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import * as names from '../functions/azure/telemetry-names';
import { checkQuery, type KqlProblem } from '../azure/kql/check';
import type { TelemetryCatalog } from '../azure/kql/schema';
import { KqlSyntaxError, tokenize } from '../azure/kql/tokenize';
import { QUERY_CATALOG, QUERIES_DIR } from '../azure/queries';

/** The catalog of names as the runtime emits them today. */
function runtimeCatalog(): TelemetryCatalog {
  return {
    events: {
      [names.CONTAINER_SCAN_EVENT]: names.CONTAINER_SCAN_DIMENSIONS,
      [names.DEPLOYMENT_EVENT]: names.DEPLOYMENT_EVENT_DIMENSIONS,
    },
    dimensionValues: {
      EventType: Object.values(names.SCAN_EVENT_TYPES),
      Status: names.SCAN_STATUSES,
      ContainerType: names.CONTAINER_TYPES,
      Outcome: Object.values(names.DEPLOYMENT_OUTCOMES),
      [names.EXCEPTION_COMPONENT_PROPERTY]: Object.values(names.COMPONENTS),
    },
    dependencyTypes: [names.HTTP_DEPENDENCY_TYPE],
    dependencyNames: names.QUALYS_DEPENDENCY_NAMES,
    dependencyNamePrefixes: [names.QUALYS_DEPENDENCY_PREFIX],
    exceptionProperties: [names.EXCEPTION_COMPONENT_PROPERTY],
  };
}

const kqlFiles = readdirSync(QUERIES_DIR).filter((f) => f.endsWith('.kql')).sort();
const read = (file: string) => readFileSync(path.join(QUERIES_DIR, file), 'utf8');
const format = (problems: KqlProblem[]) => problems.map((p) => `${p.line}:${p.column} ${p.message}`).join('\n');

/** Applies a rename to a catalog, the way a runtime rename would change it. */
function renamed(catalog: TelemetryCatalog, from: string, to: string): TelemetryCatalog {
  const swap = (list: readonly string[]) => list.map((n) => (n === from ? to : n));
  return {
    events: Object.fromEntries(Object.entries(catalog.events).map(([k, v]) => [k === from ? to : k, swap(v)])),
    dimensionValues: Object.fromEntries(Object.entries(catalog.dimensionValues).map(([k, v]) => [k === from ? to : k, swap(v)])),
    dependencyTypes: swap(catalog.dependencyTypes),
    dependencyNames: catalog.dependencyNames.map((n) => n.replace(from, to)),
    dependencyNamePrefixes: catalog.dependencyNamePrefixes.map((n) => n.replace(from, to)),
    exceptionProperties: swap(catalog.exceptionProperties),
  };
}

describe('queries/*.kql against the telemetry the Azure runtime emits', () => {
  const catalog = runtimeCatalog();

  it('ships the queries the catalog deploys, and nothing else', () => {
    expect(kqlFiles).to.deep.equal(QUERY_CATALOG.map((q) => q.file).sort());
    expect(kqlFiles.length).to.be.at.least(10);
  });

  for (const file of kqlFiles) {
    it(`${file} uses only emitted tables, columns, dimensions and values`, () => {
      const problems = checkQuery(read(file), catalog);
      expect(problems, format(problems)).to.deep.equal([]);
    });
  }

  describe('a rename on the runtime side fails the check', () => {
    const cases: [string, string, string][] = [
      ['the scan event', names.CONTAINER_SCAN_EVENT, 'ContainerScanned'],
      ['a dimension', 'VulnCritical', 'CriticalCount'],
      ['an EventType value', names.SCAN_EVENT_TYPES.failed, 'Failed'],
      ['a Status value', 'TIMEOUT', 'TIMED_OUT'],
      ['the dependency type', names.HTTP_DEPENDENCY_TYPE, 'HTTP'],
      ['the dependency name prefix', names.QUALYS_DEPENDENCY_PREFIX, 'QualysApi '],
      ['the exception property', names.EXCEPTION_COMPONENT_PROPERTY, 'Source'],
      ['the deployment event outcome dimension', 'Outcome', 'Result'],
    ];
    for (const [what, from, to] of cases) {
      it(`renaming ${what} (${from} -> ${to}) breaks at least one query`, () => {
        const changed = renamed(catalog, from, to);
        const broken = kqlFiles.filter((file) => checkQuery(read(file), changed).length > 0);
        expect(broken, `no query noticed ${from} -> ${to}`).to.not.be.empty;
      });
    }
  });

  describe('a rename on the query side fails the check', () => {
    it('a misspelt dimension', () => {
      const query = read('recent-scans.kql').replace('Properties.VulnHigh', 'Properties.VulnHi');
      expect(format(checkQuery(query, catalog))).to.match(/Properties\.VulnHi is not emitted/);
    });
    it('a dimension of another event', () => {
      const query = read('recent-scans.kql').replace('Properties.Image', 'Properties.Outcome');
      expect(format(checkQuery(query, catalog))).to.match(/Properties\.Outcome is not emitted/);
    });
    it('a classic App Insights table name', () => {
      const query = read('recent-scans.kql').replace(/^AppEvents/m, 'customEvents');
      expect(format(checkQuery(query, catalog))).to.match(/unknown table customEvents/);
    });
    it('a column that a project dropped', () => {
      const query = `${read('failed-scans.kql')}\n| where Critical > 0`;
      expect(format(checkQuery(query, catalog))).to.match(/unknown column Critical/);
    });
    it('an event name the runtime never sends', () => {
      expect(format(checkQuery('AppEvents | where Name == "ImageScanned"', catalog))).to.match(/AppEvents\.Name == "ImageScanned"/);
    });
    it('a status value the runtime never sends', () => {
      const query = 'AppEvents | where Name == "ContainerScan" | extend S = tostring(Properties.Status) | where S == "DONE"';
      expect(format(checkQuery(query, catalog))).to.match(/S == "DONE"/);
    });
    it('a poison message text the host never logs', () => {
      expect(format(checkQuery('AppTraces | where Message startswith "Poison message detected"', catalog))).to.match(/AppTraces\.Message/);
    });
    it('an unknown function', () => {
      expect(format(checkQuery('AppEvents | extend X = frobnicate(Name)', catalog))).to.match(/unknown function frobnicate/);
    });
  });

  describe('tokenizer', () => {
    it('reads strings, verbatim strings, timespans and hyphenated operators', () => {
      const tokens = tokenize(`T | where A == @"C:\\x" and B > ago(24h) | project-away C // done`);
      expect(tokens.map((t) => `${t.kind}:${t.text}`)).to.deep.equal([
        'ident:T', 'pipe:|', 'ident:where', 'ident:A', 'op:==', 'string:C:\\x', 'ident:and', 'ident:B', 'op:>', 'ident:ago', 'op:(', 'timespan:24h', 'op:)',
        'pipe:|', 'ident:project-away', 'ident:C',
      ]);
    });
    it('rejects an unterminated string with its position', () => {
      expect(() => tokenize('AppEvents\n| where Name == "ContainerScan')).to.throw(KqlSyntaxError, /line 2, column 17/);
    });
  });
});
