import { expect } from 'chai';
import { decide, resolveGone, type Decision } from '../../shared/findings/lifecycle';
import type { Finding, SuppressionRef } from '../../shared/findings/finding';
import { parseFinding } from '../../shared/findings/finding';
import { at, observation } from './support/observations';

const suppression: SuppressionRef = { reason: 'bastion, reviewed', resource: 'arn:aws:ec2:*:123456789012:security-group/sg-0abc', expiresAt: '2027-01-01T00:00:00Z' };

function transition(d: Decision): Finding {
  if (d.kind === 'none') throw new Error(`expected a transition, got none (${d.reason})`);
  return d.finding;
}

function state(kind: Finding['state'], overrides: Partial<Finding> = {}): Finding {
  const base = transition(decide(undefined, observation(), undefined));
  return { ...base, state: kind, ...overrides };
}

describe('finding lifecycle (shared/findings/lifecycle)', () => {
  const cases: { name: string; existing?: Finding; outcome: 'fail' | 'pass'; observedAt: string; suppressed?: boolean; expect: Decision['kind']; check?: (f: Finding) => void }[] = [
    { name: 'fail on nothing opens ACTIVE', outcome: 'fail', observedAt: at(0), expect: 'open', check: (f) => expect(f).to.include({ state: 'ACTIVE', reopenCount: 0, firstSeenAt: at(0), lastSeenAt: at(0) }) },
    { name: 'fail on nothing with a suppression opens SUPPRESSED', outcome: 'fail', observedAt: at(0), suppressed: true, expect: 'suppress', check: (f) => expect(f.suppressedBy).to.deep.equal(suppression) },
    { name: 'pass on nothing writes nothing', outcome: 'pass', observedAt: at(0), expect: 'none' },
    { name: 'fail on ACTIVE later only moves lastSeenAt', existing: state('ACTIVE'), outcome: 'fail', observedAt: at(5), expect: 'touch', check: (f) => expect(f).to.include({ state: 'ACTIVE', firstSeenAt: at(0), lastSeenAt: at(5), reopenCount: 0 }) },
    { name: 'fail on ACTIVE at the same moment (a redelivery) writes nothing', existing: state('ACTIVE'), outcome: 'fail', observedAt: at(0), expect: 'none' },
    { name: 'fail on ACTIVE from an older event writes nothing', existing: state('ACTIVE', { lastSeenAt: at(10) }), outcome: 'fail', observedAt: at(5), expect: 'none' },
    { name: 'pass on ACTIVE resolves it and keeps the failing evidence', existing: state('ACTIVE'), outcome: 'pass', observedAt: at(5), expect: 'resolve', check: (f) => expect(f).to.include({ state: 'RESOLVED', resolvedAt: at(5), resolvedReason: 'fixed', lastSeenAt: at(0) }).and.to.have.nested.property('evidence.fromPort', 22) },
    { name: 'pass on ACTIVE older than its last failure is stale', existing: state('ACTIVE', { lastSeenAt: at(10) }), outcome: 'pass', observedAt: at(5), expect: 'none' },
    { name: 'pass on RESOLVED writes nothing', existing: state('RESOLVED', { resolvedAt: at(1) }), outcome: 'pass', observedAt: at(5), expect: 'none' },
    { name: 'fail on RESOLVED reopens with reopenCount + 1 and clears the resolution', existing: state('RESOLVED', { resolvedAt: at(1), resolvedReason: 'fixed' }), outcome: 'fail', observedAt: at(5), expect: 'reopen', check: (f) => expect(f).to.include({ state: 'ACTIVE', reopenCount: 1, firstSeenAt: at(0), lastSeenAt: at(5) }).and.not.to.have.property('resolvedAt') },
    { name: 'fail on RESOLVED from before the fix (late delivery) is stale', existing: state('RESOLVED', { resolvedAt: at(10) }), outcome: 'fail', observedAt: at(5), expect: 'none' },
    { name: 'fail on RESOLVED with a suppression comes back SUPPRESSED', existing: state('RESOLVED', { resolvedAt: at(1) }), outcome: 'fail', observedAt: at(5), suppressed: true, expect: 'suppress', check: (f) => expect(f).to.include({ state: 'SUPPRESSED', reopenCount: 1 }) },
    { name: 'fail on ACTIVE that a new suppression matches suppresses it', existing: state('ACTIVE'), outcome: 'fail', observedAt: at(5), suppressed: true, expect: 'suppress' },
    { name: 'fail on SUPPRESSED while suppressed only moves lastSeenAt', existing: state('SUPPRESSED', { suppressedBy: suppression }), outcome: 'fail', observedAt: at(5), suppressed: true, expect: 'touch', check: (f) => expect(f.state).to.equal('SUPPRESSED') },
    { name: 'fail on SUPPRESSED once the suppression is gone makes it ACTIVE', existing: state('SUPPRESSED', { suppressedBy: suppression }), outcome: 'fail', observedAt: at(5), expect: 'unsuppress', check: (f) => expect(f).to.include({ state: 'ACTIVE' }).and.not.to.have.property('suppressedBy') },
    { name: 'pass on SUPPRESSED resolves it', existing: state('SUPPRESSED', { suppressedBy: suppression }), outcome: 'pass', observedAt: at(5), expect: 'resolve', check: (f) => expect(f).to.include({ state: 'RESOLVED' }).and.not.to.have.property('suppressedBy') },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const d = decide(c.existing, observation({ outcome: c.outcome, observedAt: c.observedAt }), c.suppressed ? suppression : undefined);
      expect(d.kind).to.equal(c.expect);
      if (d.kind !== 'none') {
        expect(() => parseFinding(d.finding)).not.to.throw();
        c.check?.(d.finding);
      }
    });
  }

  it('a pass names its reason', () => {
    const d = decide(state('ACTIVE'), observation({ outcome: 'pass', observedAt: at(3), resolvedReason: 'not in the latest scan' }), undefined);
    expect(transition(d).resolvedReason).to.equal('not in the latest scan');
  });

  it('resolves the findings of a deleted resource with the reason, once', () => {
    const d = resolveGone(state('ACTIVE'), at(3));
    expect(transition(d)).to.include({ state: 'RESOLVED', resolvedReason: 'resource deleted', resolvedAt: at(3) });
    expect(resolveGone(transition(d), at(4)).kind).to.equal('none');
    expect(resolveGone(state('ACTIVE', { lastSeenAt: at(9) }), at(3)).kind).to.equal('none');
  });
});
