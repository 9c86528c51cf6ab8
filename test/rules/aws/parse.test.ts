import { expect } from 'chai';
import { CloudTrailInputError, eventContext, parseCloudTrailInput, parseCloudTrailMessage, partitionOf } from '../../../shared/rules/aws';
import { loadCorpus } from '../../support/corpus';
import { allowLists, derive, recordIn, sample, type Json } from './support/records';

describe('security-events queue input (parseCloudTrailInput / parseCloudTrailMessage)', () => {
  it('reads an EventBridge envelope: the detail is the record, the detail-type is kept', () => {
    const { events, errors } = parseCloudTrailInput(sample('bucketPolicy'));
    expect(errors).to.deep.equal([]);
    expect(events).to.have.length(1);
    expect(events[0]).to.include({ detailType: 'AWS API Call via CloudTrail', account: '012345678901', region: 'us-east-1', partition: 'aws', path: 'detail' });
    expect(events[0]!.record).to.include({ eventName: 'PutBucketPolicy', eventSource: 's3.amazonaws.com', eventID: '6e47d4fd-ce1b-499a-9337-2e9eabf67b35' });
  });

  it('reads a raw record, and a corpus file holding a one-record array', () => {
    const raw = parseCloudTrailInput(sample('stopLogging'));
    expect(raw.events.map((e) => [e.record.eventName, e.account, e.path])).to.deep.equal([['StopLogging', '143434273843', '']]);
    const array = parseCloudTrailInput(loadCorpus('aws/cloudtrail-raw-StopLogging.stratus.json'));
    expect(array.events.map((e) => [e.record.eventName, e.path])).to.deep.equal([['StopLogging', '[0]']]);
  });

  it("takes the account from recipientAccountId, else the envelope's account, else the caller's", () => {
    // The cloud-buddy envelope was assembled by hand: its account (012345678901) differs from the record's (123456789012).
    expect(parseCloudTrailInput(sample('sgItemsEnvelope')).events[0]!.account).to.equal('123456789012');
    const withoutRecipient = derive('sgItemsEnvelope', (r) => delete r.recipientAccountId);
    expect(parseCloudTrailInput(withoutRecipient).events[0]!.account).to.equal('012345678901');
    const bare = derive('stopLogging', (r) => delete r.recipientAccountId);
    expect(parseCloudTrailInput(bare).events[0]!.account).to.equal('143434273843');
  });

  it('reads a trail file { "Records": [...] }: one event per record, each with its path', () => {
    const records = (['sgShorthand', 'accessKey', 'stopLogging', 'addPermission'] as const).map((n) => recordIn(sample(n)));
    const { events, errors } = parseCloudTrailInput({ Records: records });
    expect(errors).to.deep.equal([]);
    expect(events.map((e) => [e.record.eventName, e.path])).to.deep.equal([
      ['AuthorizeSecurityGroupIngress', 'Records[0]'],
      ['CreateAccessKey', 'Records[1]'],
      ['StopLogging', 'Records[2]'],
      ['AddPermission20150331v2', 'Records[3]'],
    ]);
  });

  it('one bad record of a trail file is an error beside the good ones (the corpus anonymised a 13-digit account)', () => {
    const bad = loadCorpus<Json[]>('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json');
    const { events, errors } = parseCloudTrailInput({ Records: [recordIn(sample('stopLogging')), bad, recordIn(sample('accessKey'))] });
    expect(events.map((e) => e.path)).to.deep.equal(['Records[0]', 'Records[2]']);
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(CloudTrailInputError);
    expect(errors[0]).to.include({ path: 'Records[1]' });
    expect(errors[0]!.expected).to.include('12-digit account id');
    expect(errors[0]!.got).to.include('1010101010101');
  });

  it('reads an array mixing envelopes and raw records', () => {
    const { events } = parseCloudTrailInput([sample('bucketPolicy'), sample('stopLogging')]);
    expect(events.map((e) => [e.record.eventName, e.path, e.detailType ?? null])).to.deep.equal([
      ['PutBucketPolicy', '[0].detail', 'AWS API Call via CloudTrail'],
      ['StopLogging', '[1]', null],
    ]);
  });

  const errorCases: { name: string; input: () => unknown; path: string; expected: RegExp }[] = [
    { name: 'null', input: () => null, path: '', expected: /EventBridge envelope, a CloudTrail record, a trail file/ },
    { name: 'a number', input: () => 42, path: '', expected: /EventBridge envelope/ },
    { name: 'an object of another shape', input: () => ({ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', reason: 'bulk' }), path: '', expected: /EventBridge envelope/ },
    { name: 'another service event (ECR push from the corpus)', input: () => loadCorpus('aws/eventbridge-ecr-image-push.awsdocs.json'), path: "['detail-type']", expected: /CloudTrail detail-type/ },
    { name: 'an envelope whose detail is not an object', input: () => ({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.ec2', detail: 'x' }), path: 'detail', expected: /string eventSource, eventName and an ISO eventTime/ },
    { name: 'a record without eventTime', input: () => derive('stopLogging', (r) => delete r.eventTime), path: '', expected: /ISO eventTime/ },
    { name: 'a record whose eventTime is not a time', input: () => derive('stopLogging', (r) => (r.eventTime = 'yesterday')), path: 'eventTime', expected: /ISO 8601/ },
    { name: 'a record without a region', input: () => derive('stopLogging', (r) => delete r.awsRegion), path: '', expected: /region/ },
    { name: 'a nested array', input: () => [[sample('stopLogging')]], path: '[0]', expected: /not a nested array/ },
  ];
  for (const c of errorCases) {
    it(`names what was expected for ${c.name}`, () => {
      const { events, errors } = parseCloudTrailInput(c.input());
      expect(events).to.deep.equal([]);
      expect(errors).to.have.length(1);
      expect(errors[0]!.path).to.equal(c.path);
      expect(errors[0]!.message).to.match(c.expected);
    });
  }

  it('a body that is not JSON is a typed error, not an exception', () => {
    const { events, errors } = parseCloudTrailMessage('{"detail": ');
    expect(events).to.deep.equal([]);
    expect(errors[0]).to.be.instanceOf(CloudTrailInputError).and.to.include({ expected: 'a JSON message' });
  });

  it('a body of JSON is parsed like the value', () => {
    expect(parseCloudTrailMessage(JSON.stringify(sample('bucketPolicy'))).events).to.have.length(1);
  });

  it('copies only fields of the right type into the typed record', () => {
    const input = derive('stopLogging', (r) => {
      r.requestParameters = 'name=trail';
      r.errorCode = 42;
      (r.userIdentity as Json).type = { nested: true };
      (r.userIdentity as Json).sessionContext = { sessionIssuer: { arn: 7, type: 'Role' }, attributes: 'x' };
      r.resources = [{ ARN: 'arn:aws:kms:x', type: 9 }, 'not an object'];
    });
    const record = parseCloudTrailInput(input).events[0]!.record;
    expect(record.requestParameters).to.equal(null);
    expect(record).to.not.have.property('errorCode');
    expect(record.userIdentity).to.not.have.property('type');
    expect(record.userIdentity?.arn).to.equal('arn:aws:iam::143434273843:user/christophe');
    expect(record.userIdentity?.sessionContext).to.deep.equal({ sessionIssuer: { type: 'Role' } });
    expect(record.resources).to.deep.equal([{ ARN: 'arn:aws:kms:x' }]);
  });

  it('knows the partition of a region', () => {
    expect(partitionOf('eu-west-1')).to.equal('aws');
    expect(partitionOf('cn-north-1')).to.equal('aws-cn');
    expect(partitionOf('us-gov-west-1')).to.equal('aws-us-gov');
    expect(partitionOf('apiso-centralnorth-2r', 'arn:aws-cn:iam::123456789012:user/x')).to.equal('aws-cn');
  });

  it('gives detectors their context', () => {
    const event = parseCloudTrailInput(sample('bucketPolicy')).events[0]!;
    const lists = allowLists({ publicPorts: [443] });
    expect(eventContext(event, lists)).to.deep.equal({ allowLists: lists, account: '012345678901', region: 'us-east-1', partition: 'aws', detailType: 'AWS API Call via CloudTrail' });
  });
});
