import { expect } from 'chai';
import { EVIDENCE_MAX_BYTES, parseFinding, type Finding } from '../../../shared/findings/finding';
import { decide, type Decision } from '../../../shared/findings/lifecycle';
import { eventContext, parseCloudTrailInput, toObservation } from '../../../shared/rules/aws';
import { sgOpenIngress } from '../../../shared/rules/aws/ec2-sg-open-ingress';
import { allowLists, call, derive, run, sample, type Json } from './support/records';

function finding(d: Decision): Finding {
  if (d.kind === 'none') throw new Error(`expected a transition, got none (${d.reason})`);
  return parseFinding(d.finding);
}

describe('Observation from a detection (toObservation)', () => {
  it('carries rule, severity, scope, resource, subject, the event time and the source of the call', () => {
    const [observation] = run(sample('sgShorthand')).observations;
    expect(observation).to.deep.include({
      ruleId: 'aws.ec2.sg-open-ingress',
      category: 'activity',
      severity: 'CRITICAL',
      cloud: 'aws',
      scope: { account: '032092706103', region: 'us-northeast-1r' },
      subject: 'tcp/22-22 from 0.0.0.0/0',
      outcome: 'fail',
      observedAt: '2024-08-01T12:23:55.000Z',
      remediation: sgOpenIngress.remediation,
      source: {
        trigger: 'event',
        eventName: 'AuthorizeSecurityGroupIngress',
        eventId: '9fd68588-ecbf-4528-a345-199fa6bb0821',
        actor: 'arn:aws:iam::032092706103:user/christophe',
        sourceIp: '253.243.215.253',
      },
    });
    expect(observation!.evidence).to.deep.include({ ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0', caller: { type: 'IAMUser' } });
  });

  it('becomes a valid Finding v1 when opened', () => {
    for (const observation of run(sample('sgItemsEnvelope')).observations) {
      const opened = finding(decide(undefined, observation, undefined));
      expect(opened).to.include({ state: 'ACTIVE', ruleId: 'aws.ec2.sg-open-ingress', category: 'activity' });
    }
  });

  it('for an assumed role: the session ARN is the actor, the role is in the evidence', () => {
    const input = call('createBucketAssumedRole', 'cloudtrail.amazonaws.com', 'StopLogging', { name: 'main' });
    const [observation] = run(input).observations;
    expect(observation!.source.actor).to.equal('arn:aws:sts::101010101111:assumed-role/Sandbox_Dev/user');
    expect(observation!.evidence.caller).to.deep.equal({ type: 'AssumedRole', role: 'arn:aws:iam::101010101111:role/Sandbox_Dev', mfaAuthenticated: 'false' });
  });

  it('for the root user: the root ARN is the actor', () => {
    const [observation] = run(sample('sgItemsEnvelope')).observations;
    expect(observation!.source.actor).to.equal('arn:aws:iam::123456789012:root');
    expect(observation!.evidence.caller).to.deep.include({ type: 'Root', invokedBy: 'signin.amazonaws.com' });
  });

  it('for an AWS service without an ARN: what invoked it', () => {
    const input = derive('stopLogging', (r) => (r.userIdentity = { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' }));
    expect(run(input).observations[0]!.source.actor).to.equal('cloudformation.amazonaws.com');
  });

  it('leaves out source fields the record does not have (Finding v1 wants them non-empty or absent)', () => {
    const input = derive('stopLogging', (r) => {
      delete r.eventID;
      r.sourceIPAddress = '';
      delete r.userIdentity;
    });
    const [observation] = run(input).observations;
    expect(observation!.source).to.deep.equal({ trigger: 'event', eventName: 'StopLogging' });
    expect(() => finding(decide(undefined, observation!, undefined))).to.not.throw();
  });

  it('bounds and redacts evidence whatever a detector puts in it', () => {
    const { events } = parseCloudTrailInput(sample('sgShorthand'));
    const ctx = eventContext(events[0]!, allowLists());
    const huge: Json = { rules: Array.from({ length: 500 }, (_, i) => ({ cidr: `198.51.100.${i % 256}/32`, note: 'x'.repeat(300) })), secretAccessKey: 'wJalrXUtnFEMI/K7MDENG' };
    const observation = toObservation(sgOpenIngress, { outcome: 'fail', resource: { type: 'AWS::EC2::SecurityGroup', id: 'arn:aws:ec2:r:1:security-group/sg-1', name: 'sg-1' }, subject: 's', evidence: huge }, events[0]!.record, ctx);
    expect(Buffer.byteLength(JSON.stringify(observation.evidence))).to.be.at.most(EVIDENCE_MAX_BYTES);
    expect(JSON.stringify(observation.evidence)).to.not.include('wJalrXUtnFEMI');
  });

  it('authorize then revoke: the same finding opens, then resolves with the reason', () => {
    const [failing] = run(sample('sgShorthand')).observations;
    const revoke = derive('sgShorthand', (r) => Object.assign(r, { eventName: 'RevokeSecurityGroupIngress', eventTime: '2024-08-01T13:00:00Z', responseElements: { _return: true } }));
    const [passing] = run(revoke).observations;
    const opened = finding(decide(undefined, failing!, undefined));
    const resolved = finding(decide(opened, passing!, undefined));
    expect(resolved.id).to.equal(opened.id);
    expect(resolved).to.include({ state: 'RESOLVED', resolvedReason: 'ingress rule revoked', resolvedAt: '2024-08-01T13:00:00.000Z', severity: 'CRITICAL' });
  });

  it('StopLogging then StartLogging resolves the same trail finding', () => {
    const [stopped] = run(sample('stopLogging')).observations;
    const [started] = run(derive('stopLogging', (r) => Object.assign(r, { eventName: 'StartLogging', eventTime: '2024-07-31T14:00:00Z' }))).observations;
    const resolved = finding(decide(finding(decide(undefined, stopped!, undefined)), started!, undefined));
    expect(resolved).to.include({ state: 'RESOLVED', resolvedReason: 'logging started again' });
  });
});
