import { expect } from 'chai';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { findingId, parseFinding, FindingError, EVIDENCE_MAX_BYTES } from '../../shared/findings/finding';
import { boundedEvidence, REDACTED } from '../../shared/findings/evidence';
import { decide } from '../../shared/findings/lifecycle';
import { compileSuppressions, findSuppression } from '../../shared/findings/suppressions';
import { FINDING_SCHEMA_FILE, renderFindingJsonSchema } from '../../shared/schema/generate';
import { observation } from './support/observations';

function opened() {
  const d = decide(undefined, observation(), undefined);
  if (d.kind === 'none') throw new Error('expected open');
  return d.finding;
}

describe('Finding v1 (shared/findings/finding)', () => {
  it('ids are deterministic and change with every part of the identity', () => {
    const base = { cloud: 'aws' as const, scope: { account: '123456789012', region: 'us-east-1' }, resourceId: 'r', ruleId: 'x', subject: 's' };
    expect(findingId(base)).to.equal(findingId({ ...base })).and.to.match(/^[a-f0-9]{64}$/);
    for (const changed of [{ ...base, cloud: 'azure' as const }, { ...base, scope: { account: '123456789012' } }, { ...base, resourceId: 'r2' }, { ...base, ruleId: 'y' }, { ...base, subject: '' }]) {
      expect(findingId(changed)).to.not.equal(findingId(base));
    }
  });

  it('ids never collide across parts that contain the separator', () => {
    fc.assert(
      fc.property(fc.string(), fc.string(), fc.string(), fc.string(), (r1, s1, r2, s2) => {
        fc.pre(r1 !== r2 || s1 !== s2);
        const scope = { subscription: 'sub' };
        return findingId({ cloud: 'azure', scope, resourceId: r1, ruleId: 'rule', subject: s1 }) !== findingId({ cloud: 'azure', scope, resourceId: r2, ruleId: 'rule', subject: s2 });
      }),
      { seed: 14, numRuns: 500 },
    );
    const scope = { subscription: 'sub' };
    expect(findingId({ cloud: 'azure', scope, resourceId: 'a|b', ruleId: 'c', subject: '' })).to.not.equal(findingId({ cloud: 'azure', scope, resourceId: 'a', ruleId: 'b|c', subject: '' }));
  });

  it('parseFinding names every bad path', () => {
    const bad = { ...opened(), state: 'OPEN', scope: { account: '1', subscription: 's' }, extra: true };
    let error: unknown;
    try {
      parseFinding(bad);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(FindingError);
    expect((error as Error).message).to.contain('state').and.to.contain('scope').and.to.contain('extra');
  });

  it('evidence is redacted and bounded', () => {
    const evidence = boundedEvidence({ password: 'hunter2', nested: { clientSecret: 'x', keep: 'y' }, list: Array.from({ length: 100 }, (_, i) => i), long: 'a'.repeat(10_000) });
    expect(evidence.password).to.equal(REDACTED);
    expect(evidence.nested).to.deep.equal({ clientSecret: REDACTED, keep: 'y' });
    expect((evidence.list as unknown[]).length).to.be.at.most(21);
    expect(Buffer.byteLength(JSON.stringify(evidence))).to.be.at.most(EVIDENCE_MAX_BYTES);
    const huge = boundedEvidence(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`k${i}`, 'v'.repeat(400)])));
    expect(Buffer.byteLength(JSON.stringify(huge))).to.be.at.most(EVIDENCE_MAX_BYTES);
    const polluted = boundedEvidence(JSON.parse('{"__proto__": {"polluted": true}}') as Record<string, unknown>);
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    expect(Object.keys(polluted)).to.deep.equal(['__proto__']);
  });

  it('suppressions match rule and resource globs until they expire; Azure ids ignore case', () => {
    const compiled = compileSuppressions([
      { ruleId: 'azure.network.*', resource: '/subscriptions/*/resourceGroups/bastion/*', reason: 'jump hosts', expiresAt: '2027-01-01T00:00:00Z' },
      { ruleId: 'aws.s3.public-policy', resource: 'arn:aws:s3:::public-site', reason: 'static site', expiresAt: '2027-01-01T00:00:00Z' },
    ]);
    const now = new Date('2026-12-01T00:00:00Z');
    expect(findSuppression(compiled, 'azure.network.open-admin-port', 'azure', '/SUBSCRIPTIONS/s1/resourcegroups/BASTION/providers/x', now)?.reason).to.equal('jump hosts');
    expect(findSuppression(compiled, 'azure.storage.public-blob', 'azure', '/subscriptions/s1/resourceGroups/bastion/x', now)).to.equal(undefined);
    expect(findSuppression(compiled, 'aws.s3.public-policy', 'aws', 'arn:aws:s3:::PUBLIC-SITE', now)).to.equal(undefined);
    expect(findSuppression(compiled, 'aws.s3.public-policy', 'aws', 'arn:aws:s3:::public-site', new Date('2027-01-01T00:00:00Z'))).to.equal(undefined);
    expect(findSuppression(compiled, 'aws.s3.public-policy', 'aws', 'arn:aws:s3:::public-site.evil', now)).to.equal(undefined);
  });

  it('the checked-in JSON Schema is current and accepts what parseFinding accepts', () => {
    const text = readFileSync(FINDING_SCHEMA_FILE, 'utf8');
    expect(text, 'shared/schema/finding.v1.schema.json is stale: npm run schema').to.equal(renderFindingJsonSchema());
    const ajv = new Ajv2020({ strict: true, allowUnionTypes: true, allErrors: true });
    addFormats(ajv);
    const validate = ajv.compile(JSON.parse(text) as object);
    expect(validate(opened()), JSON.stringify(validate.errors)).to.equal(true);
    expect(validate({ ...opened(), state: 'OPEN' })).to.equal(false);
  });
});
