import { expect } from 'chai';
import { formatDiagnostics, loadKustoAnalyzer, type KqlAnalyzer } from '../support/kql/kusto';
import { RESOURCE_GRAPH_TABLES } from '../support/kql/resource-graph-schema';
import { WORKSPACE_TABLES } from '../support/kql/workspace-schema';
import { INVENTORY_TYPES, INVENTORY_TYPE_TABLE, inventoryQuery } from '../../shared/rules/azure/resource-graph';

/** The inventory's Resource Graph queries, checked by Kusto's own analyzer against the Resource Graph tables. */
describe("Azure inventory: Resource Graph queries, checked by Kusto's analyzer", function () {
  // Loading the analyzer and its first analysis take a few seconds on a busy machine.
  this.timeout(120_000);
  let analyzer: KqlAnalyzer;

  before(() => {
    analyzer = loadKustoAnalyzer(RESOURCE_GRAPH_TABLES);
    analyzer.analyze('print 1');
  });

  for (const type of INVENTORY_TYPES) {
    it(`${type}: 0 diagnostics, from its own table, projecting the columns the rules and the store read`, () => {
      const text = inventoryQuery(type);
      const analysis = analyzer.analyze(text);
      expect(analysis.diagnostics, formatDiagnostics(analysis)).to.deep.equal([]);
      const table = INVENTORY_TYPE_TABLE.find((t) => t.type === type)!.table;
      expect(text.startsWith(`${table} |`)).to.equal(true);
      expect(text).to.match(/\| project id, name, type, location, subscriptionId, tags, properties \| order by id asc$/);
    });
  }

  it('the analyzer reports what a wrong query would get wrong: a misspelt column, an unknown table, a syntax error', () => {
    const good = inventoryQuery('microsoft.storage/storageaccounts');
    const codes = (text: string) => analyzer.analyze(text).diagnostics.map((d) => d.code);
    expect(codes(good.replace('subscriptionId', 'subscriptionID'))).to.not.deep.equal([]);
    expect(codes(good.replace(/^resources/, 'resourcecontainers'))).to.not.deep.equal([]);
    expect(codes(good.replace('| order by', '| order'))).to.not.deep.equal([]);
  });

  it('the queries are Resource Graph queries: the Log Analytics workspace has no such tables', () => {
    const workspace = loadKustoAnalyzer(WORKSPACE_TABLES);
    expect(workspace.analyze(inventoryQuery('microsoft.keyvault/vaults')).diagnostics).to.not.deep.equal([]);
  });
});
