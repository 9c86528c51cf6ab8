import { expect } from 'chai';
import { SEVERITIES } from '../../../shared/severity';
import {
  AWS_ACTIVITY_DETECTORS,
  DEFAULT_REGISTRY,
  DetectorError,
  RegistryError,
  canonicalEventName,
  createRegistry,
  evaluateCloudTrail,
  eventContext,
  parseCloudTrailInput,
  type CloudTrailEvaluation,
} from '../../../shared/rules/aws';
import { sgOpenIngress } from '../../../shared/rules/aws/ec2-sg-open-ingress';
import type { ActivityDetector, AwsEventContext, CloudTrailRecord, Detection } from '../../../shared/rules/types';
import { allowLists, derive, failed, run, sample, type Json } from './support/records';

function parsed(input: Json): { record: CloudTrailRecord; ctx: AwsEventContext } {
  const { events, errors } = parseCloudTrailInput(input);
  expect(errors).to.deep.equal([]);
  return { record: events[0]!.record, ctx: eventContext(events[0]!, allowLists()) };
}

/** A detector for the corpus AuthorizeSecurityGroupIngress record that does what a buggy detector might. */
function fake(id: string, match: (record: CloudTrailRecord, ctx: AwsEventContext) => Detection[]): ActivityDetector {
  return { ...sgOpenIngress, id, match };
}

describe('AWS detector registry (shared/rules/aws/registry)', () => {
  describe('metadata of every detector', () => {
    for (const detector of AWS_ACTIVITY_DETECTORS) {
      it(`${detector.id} is complete`, () => {
        expect(detector.id).to.match(/^aws\.[a-z0-9-]+\.[a-z0-9-]+$/);
        expect(detector.id.split('.')[1], 'the id names the service').to.equal(detector.service === 'elasticloadbalancing' ? 'elb' : detector.service);
        expect(detector).to.include({ cloud: 'aws', category: 'activity' });
        expect(SEVERITIES).to.include(detector.severity);
        expect(detector.title.length).to.be.greaterThan(5);
        expect(detector.risk.length, 'risk').to.be.greaterThan(40);
        expect(detector.remediation.text.length, 'remediation').to.be.greaterThan(40);
        expect(detector.remediation.url, 'an AWS documentation page').to.match(/^https:\/\/docs\.aws\.amazon\.com\//);
        expect(detector.eventSource).to.match(/^[a-z0-9-]+\.amazonaws\.com$/);
        expect(detector.eventNames.length).to.be.greaterThan(0);
        for (const name of detector.eventNames) expect(canonicalEventName(detector.eventSource, name), `${name} is undated`).to.equal(name);
      });
    }

    it('ids are unique', () => {
      const ids = AWS_ACTIVITY_DETECTORS.map((d) => d.id);
      expect(new Set(ids).size).to.equal(ids.length);
    });
  });

  describe('routing', () => {
    const cases: { name: string; eventSource: string; eventName: string; expect: string[] }[] = [
      { name: 'exact name', eventSource: 'cloudtrail.amazonaws.com', eventName: 'StopLogging', expect: ['aws.cloudtrail.logging-stopped'] },
      { name: 'Lambda v2 dated form by its undated prefix', eventSource: 'lambda.amazonaws.com', eventName: 'AddPermission20150331v2', expect: ['aws.lambda.public-permission'] },
      { name: 'Lambda dated form without v', eventSource: 'lambda.amazonaws.com', eventName: 'AddPermission20150331', expect: ['aws.lambda.public-permission'] },
      { name: 'function URL dated form', eventSource: 'lambda.amazonaws.com', eventName: 'UpdateFunctionUrlConfig20211031', expect: ['aws.lambda.public-function-url'] },
      { name: 'CreateFunction is not CreateFunctionUrlConfig', eventSource: 'lambda.amazonaws.com', eventName: 'CreateFunction20150331', expect: [] },
      { name: 'one event, two detectors (both sign-in rules)', eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', expect: ['aws.signin.root-console-login', 'aws.signin.console-login-without-mfa'] },
      { name: 'the same name from another service is not routed', eventSource: 'transfer.amazonaws.com', eventName: 'CreateUser', expect: [] },
      { name: 'other services keep their names as they are', eventSource: 'iam.amazonaws.com', eventName: 'CreateUser20150331', expect: [] },
      { name: 'an unknown event', eventSource: 's3.amazonaws.com', eventName: 'CreateBucket', expect: [] },
    ];
    for (const c of cases) {
      it(c.name, () => expect(DEFAULT_REGISTRY.detectorsFor(c.eventSource, c.eventName).map((d) => d.id)).to.deep.equal(c.expect));
    }

    it('every detector is reachable through each of its event names', () => {
      for (const detector of AWS_ACTIVITY_DETECTORS) {
        for (const name of detector.eventNames) expect(DEFAULT_REGISTRY.detectorsFor(detector.eventSource, name), `${detector.id} ${name}`).to.include(detector);
      }
    });
  });

  describe('evaluateCloudTrail', () => {
    it('skips failed calls before any detector runs', () => {
      const { record, ctx } = parsed(failed(sample('sgShorthand')));
      let ran = false;
      const registry = createRegistry([fake('aws.ec2.spy', () => ((ran = true), []))]);
      expect(evaluateCloudTrail(record, ctx, { registry })).to.deep.equal({ detections: [], errors: [], skipped: 'failed-call' });
      expect(ran).to.equal(false);
    });

    it('says when no detector listens to the event', () => {
      const { record, ctx } = parsed(sample('createBucketDocs'));
      expect(evaluateCloudTrail(record, ctx).skipped).to.equal('no-detector');
    });

    it('a detector that throws becomes a typed DetectorError beside the other detectors\' results', () => {
      const { record, ctx } = parsed(sample('sgShorthand'));
      const registry = createRegistry([fake('aws.ec2.broken', () => { throw new TypeError("Cannot read properties of undefined (reading 'items')"); }), sgOpenIngress]);
      const result: CloudTrailEvaluation = evaluateCloudTrail(record, ctx, { registry });
      expect(result.detections.map((d) => d.detector.id)).to.deep.equal(['aws.ec2.sg-open-ingress']);
      expect(result.errors).to.have.length(1);
      const error = result.errors[0]!;
      expect(error).to.be.instanceOf(DetectorError);
      expect(error).to.include({ detectorId: 'aws.ec2.broken', eventName: 'AuthorizeSecurityGroupIngress', eventId: '9fd68588-ecbf-4528-a345-199fa6bb0821' });
      expect(error.cause).to.be.instanceOf(TypeError);
      expect(error.message).to.include('aws.ec2.broken').and.include('reading');
    });

    it('a malformed detection (no resource id, bad severity, not an array) is a DetectorError, never a finding', () => {
      const { record, ctx } = parsed(sample('sgShorthand'));
      const good: Detection = { outcome: 'fail', resource: { type: 'AWS::EC2::SecurityGroup', id: 'arn:x', name: 'x' }, subject: '', evidence: {} };
      // The casts force what the types forbid: exactly what a buggy JavaScript detector could return.
      const registry = createRegistry([
        fake('aws.ec2.no-id', () => [{ ...good, resource: { ...good.resource, id: '' } }]),
        fake('aws.ec2.bad-severity', () => [{ ...good, severity: 'SEVERE' as never }]),
        fake('aws.ec2.not-array', () => ({}) as never),
        fake('aws.ec2.fine', () => [good]),
      ]);
      const result = evaluateCloudTrail(record, ctx, { registry });
      expect(result.detections.map((d) => d.detector.id)).to.deep.equal(['aws.ec2.fine']);
      expect(result.errors.map((e) => e.detectorId)).to.deep.equal(['aws.ec2.no-id', 'aws.ec2.bad-severity', 'aws.ec2.not-array']);
    });

    it('honours disabledRules given to the registry, or per call as an array or a set', () => {
      const input = sample('sgShorthand');
      expect(run(input).fails).to.have.length(1);
      expect(run(input, {}, { disabledRules: ['aws.ec2.sg-open-ingress'] }).outcomes).to.deep.equal([]);
      expect(run(input, {}, { disabledRules: new Set(['aws.ec2.sg-open-ingress']) }).outcomes).to.deep.equal([]);
      expect(run(input, {}, { registry: createRegistry(undefined, { disabledRules: ['aws.ec2.sg-open-ingress'] }) }).outcomes).to.deep.equal([]);
      expect(run(input, {}, { disabledRules: ['aws.s3.bucket-public-acl'] }).fails, 'other rules disabled').to.have.length(1);
    });

    it('a disabled rule leaves the other detector of the same event running', () => {
      const signIn = derive('createBucketRoot', (record, input) => {
        input['detail-type'] = 'AWS Console Sign In via CloudTrail';
        Object.assign(record, { eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', requestParameters: null, responseElements: { ConsoleLogin: 'Success' }, additionalEventData: { MFAUsed: 'No' } });
      });
      expect(run(signIn).fails.map((f) => f.ruleId)).to.deep.equal(['aws.signin.root-console-login']);
      expect(run(signIn, {}, { disabledRules: ['aws.signin.root-console-login'] }).fails).to.deep.equal([]);
    });
  });

  describe('createRegistry', () => {
    it('refuses duplicate ids, ids outside aws.<service>.<name>, and detectors listening to nothing', () => {
      expect(() => createRegistry([sgOpenIngress, sgOpenIngress])).to.throw(RegistryError, /registered twice/);
      expect(() => createRegistry([fake('ec2-open', () => [])])).to.throw(RegistryError, /aws\.<service>\.<name>/);
      expect(() => createRegistry([{ ...fake('aws.ec2.deaf', () => []), eventNames: [] }])).to.throw(RegistryError, /names no events/);
    });

    it('a disabled detector is left out of the registry (and so out of the EventBridge patterns)', () => {
      const registry = createRegistry(undefined, { disabledRules: ['aws.ec2.flow-logs-deleted'] });
      expect(registry.detectors.map((d) => d.id)).to.not.include('aws.ec2.flow-logs-deleted');
      expect(registry.detectorsFor('ec2.amazonaws.com', 'DeleteFlowLogs')).to.deep.equal([]);
      expect(registry.detectors).to.have.length(AWS_ACTIVITY_DETECTORS.length - 1);
    });
  });
});
