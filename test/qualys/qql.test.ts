import { expect } from 'chai';
import { evaluateQql, parseQql, QqlError, qqlTime } from '../../local/qualys-sim/qql';

const NOW = Date.UTC(2026, 0, 15, 12, 0, 0);
const image = (repository: string, tags: string[], lastScanned?: number) => (field: string) =>
  field === 'repo.repository' ? [repository] : field === 'repo.tag' ? tags : field === 'lastScanned' ? [lastScanned] : undefined;

describe('simulator QQL subset', () => {
  it('evaluates and/or/not with parentheses, quotes and wildcards', () => {
    const q = parseQql(`(repo.repository:"shop/api" and repo.tag:"1.0") or (repo.repository:'shop/web' and not repo.tag:beta*)`);
    expect(evaluateQql(q, image('shop/api', ['1.0']), NOW)).to.equal(true);
    expect(evaluateQql(q, image('shop/api', ['1.1']), NOW)).to.equal(false);
    expect(evaluateQql(q, image('shop/web', ['2.0']), NOW)).to.equal(true);
    expect(evaluateQql(q, image('shop/web', ['beta-3']), NOW)).to.equal(false);
  });

  it('evaluates time ranges with now-relative bounds', () => {
    const q = parseQql(`lastScanned:[now-2h ... now]`);
    expect(evaluateQql(q, image('a', [], NOW - 3600_000), NOW)).to.equal(true);
    expect(evaluateQql(q, image('a', [], NOW - 3 * 3600_000), NOW)).to.equal(false);
    expect(evaluateQql(q, image('a', []), NOW)).to.equal(false);
    expect(qqlTime('2026-01-15T00:00:00Z', NOW)).to.equal(Date.UTC(2026, 0, 15));
    expect(qqlTime('now-7d', NOW)).to.equal(NOW - 7 * 86_400_000);
  });

  it('rejects malformed queries and unknown fields', () => {
    for (const bad of ['repo.tag:"open', '(repo.tag:x', 'repo.tag:x or', 'repo.tag:x )', 'just words']) expect(() => parseQql(bad), bad).to.throw(QqlError);
    expect(() => evaluateQql(parseQql('color:blue'), image('a', []), NOW)).to.throw(QqlError, /unknown field color/);
  });
});
