import { expect } from 'chai';
import { parseQScannerSarif, QScannerReportError } from '../../shared/qualys/qscanner-report';

/** A SARIF 2.1.0 log with one run holding these rules and results. */
function sarif(rules: unknown[], results: unknown[]): string {
  return JSON.stringify({ version: '2.1.0', runs: [{ tool: { driver: { name: 'QScanner', version: '4.6.0', rules } }, results }] });
}

describe('QScanner SARIF reader', () => {
  it('gives a result with no level and no severity SARIF\'s default level "warning" (MEDIUM) instead of rejecting the report', () => {
    const text = sarif(
      [{ id: '178640', shortDescription: { text: 'curl' } }, { id: '178905', properties: { severity: 5 } }],
      [
        { ruleId: '178640', message: { text: 'libcurl4 7.88.1' }, properties: { package: 'libcurl4' } },
        { ruleId: '178905', level: 'note' },
        { ruleId: 'no-rule-at-all' },
      ],
    );
    const { vulnerabilities } = parseQScannerSarif(text, 'x-Report.sarif.json');
    expect(vulnerabilities.map((v) => [v.id, v.severity, v.sourceSeverity])).to.deep.equal([
      ['178640', 'MEDIUM', 3],
      // A severity anywhere still wins over any level.
      ['178905', 'CRITICAL', 5],
      ['no-rule-at-all', 'MEDIUM', 3],
    ]);
  });

  it('takes a missing level from the rule\'s defaultConfiguration before the default', () => {
    const text = sarif([{ id: 'r1', defaultConfiguration: { level: 'error' } }, { id: 'r2', defaultConfiguration: { level: 'note' } }], [{ ruleId: 'r1' }, { ruleId: 'r2' }, { ruleId: 'r2', level: 'warning' }]);
    expect(parseQScannerSarif(text).vulnerabilities.map((v) => v.severity)).to.deep.equal(['CRITICAL', 'LOW', 'MEDIUM']);
  });

  it('files SARIF level "none" (not a problem) as INFORMATIONAL instead of rejecting the report', () => {
    const text = sarif([{ id: 'r1', defaultConfiguration: { level: 'none' } }], [{ ruleId: 'r1' }, { ruleId: 'r2', level: 'none' }]);
    expect(parseQScannerSarif(text).vulnerabilities.map((v) => [v.id, v.severity, v.sourceSeverity])).to.deep.equal([
      ['r1', 'INFORMATIONAL', 'none'],
      ['r2', 'INFORMATIONAL', 'none'],
    ]);
  });

  it('still rejects a level it cannot read, naming the rule', () => {
    const text = sarif([], [{ ruleId: 'odd', level: 'catastrophic' }]);
    expect(() => parseQScannerSarif(text, 'x-Report.sarif.json')).to.throw(QScannerReportError, /no readable severity for rule "odd"/);
  });
});
