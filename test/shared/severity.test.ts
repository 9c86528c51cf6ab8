import { expect } from 'chai';
import fc from 'fast-check';
import {
  SEVERITIES,
  SeverityError,
  countBySeverity,
  emptyCounts,
  reachesThreshold,
  toSeverity,
  type Severity,
  type SeverityCounts,
} from '../../shared/severity';

describe('toSeverity', () => {
  it('maps Qualys levels 1-5, as numbers and as strings', () => {
    const expected: [number, Severity][] = [
      [5, 'CRITICAL'],
      [4, 'HIGH'],
      [3, 'MEDIUM'],
      [2, 'LOW'],
      [1, 'INFORMATIONAL'],
    ];
    for (const [level, severity] of expected) {
      expect(toSeverity(level), `${level}`).to.equal(severity);
      expect(toSeverity(String(level)), `"${level}"`).to.equal(severity);
      expect(toSeverity(` ${level} `), `" ${level} "`).to.equal(severity);
    }
  });

  it('maps SARIF levels as QScanner does (error 5, warning 3, note 2, none informational)', () => {
    expect(toSeverity('error')).to.equal('CRITICAL');
    expect(toSeverity('warning')).to.equal('MEDIUM');
    expect(toSeverity('note')).to.equal('LOW');
    expect(toSeverity('none')).to.equal('INFORMATIONAL');
  });

  it('reads names in any case', () => {
    expect(toSeverity('Critical')).to.equal('CRITICAL');
    expect(toSeverity('HIGH')).to.equal('HIGH');
    expect(toSeverity('moderate')).to.equal('MEDIUM');
    expect(toSeverity('Medium')).to.equal('MEDIUM');
    expect(toSeverity('low')).to.equal('LOW');
    expect(toSeverity('Negligible')).to.equal('INFORMATIONAL');
    expect(toSeverity('unknown')).to.equal('INFORMATIONAL');
    expect(toSeverity('Informational')).to.equal('INFORMATIONAL');
  });

  it('is idempotent over its own output', () => {
    for (const severity of SEVERITIES) expect(toSeverity(severity)).to.equal(severity);
    fc.assert(
      fc.property(fc.constantFrom(...SEVERITIES), fc.array(fc.boolean(), { minLength: 13, maxLength: 13 }), (severity, upper) => {
        const mixed = [...severity].map((ch, i) => (upper[i] ? ch.toUpperCase() : ch.toLowerCase())).join('');
        expect(toSeverity(mixed)).to.equal(severity);
      }),
    );
  });

  it('refuses unreadable input with SeverityError naming it', () => {
    for (const bad of [0, 6, -1, 2.5, Number.NaN, '0', '6', '', '   ', 'severe', 'crit', '3.0', 'constructor', '__proto__']) {
      expect(() => toSeverity(bad), JSON.stringify(bad)).to.throw(SeverityError, /cannot read severity/);
    }
    expect(() => toSeverity('severe')).to.throw(SeverityError, /"severe".*expected 1-5 or one of critical/);
    for (const bad of [null, undefined, {}, [], true, 3n]) {
      expect(() => toSeverity(bad as unknown as string), String(bad)).to.throw(SeverityError);
    }
  });

  it('throws nothing but SeverityError for arbitrary input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.double(), fc.integer(), fc.anything({ withBigInt: true })), (raw) => {
        try {
          expect(SEVERITIES).to.include(toSeverity(raw as string | number));
        } catch (error) {
          if (!(error instanceof SeverityError)) throw error;
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('countBySeverity', () => {
  it('counts each severity and the total', () => {
    const findings = (['CRITICAL', 'HIGH', 'HIGH', 'LOW', 'INFORMATIONAL', 'INFORMATIONAL', 'INFORMATIONAL'] as Severity[]).map(
      (severity) => ({ severity }),
    );
    expect(countBySeverity(findings)).to.deep.equal({ critical: 1, high: 2, medium: 0, low: 1, informational: 3, total: 7 });
  });

  it('is all zeros for no findings, and accepts any iterable', () => {
    expect(countBySeverity([])).to.deep.equal(emptyCounts());
    function* generate(): Generator<{ severity: Severity }> {
      yield { severity: 'MEDIUM' };
      yield { severity: 'MEDIUM' };
    }
    expect(countBySeverity(generate())).to.include({ medium: 2, total: 2 });
  });

  it('total always equals the sum of the levels and the number of findings', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ severity: fc.constantFrom(...SEVERITIES) }), { maxLength: 200 }), (findings) => {
        const c = countBySeverity(findings);
        expect(c.total).to.equal(findings.length);
        expect(c.critical + c.high + c.medium + c.low + c.informational).to.equal(c.total);
        expect(c.high).to.equal(findings.filter((f) => f.severity === 'HIGH').length);
      }),
    );
  });
});

describe('reachesThreshold', () => {
  const only = (key: keyof Omit<SeverityCounts, 'total'>): SeverityCounts => ({ ...emptyCounts(), [key]: 1, total: 1 });

  it('is true when a finding is at or above the threshold', () => {
    expect(reachesThreshold(only('high'), 'HIGH')).to.equal(true);
    expect(reachesThreshold(only('critical'), 'HIGH')).to.equal(true);
    expect(reachesThreshold(only('informational'), 'INFORMATIONAL')).to.equal(true);
    expect(reachesThreshold(only('low'), 'MEDIUM')).to.equal(false);
    expect(reachesThreshold(only('medium'), 'CRITICAL')).to.equal(false);
    expect(reachesThreshold(emptyCounts(), 'INFORMATIONAL')).to.equal(false);
  });

  it('agrees with a direct comparison for every level pair', () => {
    for (const [found, foundSeverity] of SEVERITIES.entries()) {
      for (const [limit, threshold] of SEVERITIES.entries()) {
        const counts = countBySeverity([{ severity: foundSeverity }]);
        expect(reachesThreshold(counts, threshold), `${foundSeverity} vs ${threshold}`).to.equal(found <= limit);
      }
    }
  });
});
