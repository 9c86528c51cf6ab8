import { expect } from 'chai';
import fc from 'fast-check';
import { loadCorpus } from '../support/corpus';
import { parseScanInput, parseScanMessage, type ParsedMessage } from '../../functions/aws/scanner/scan-request';
import { parseFunctionArn, resolveFunctionId, FunctionIdError } from '../../functions/aws/function-arn';
import { retryDelaySec } from '../../functions/aws/scanner/pipeline';

type Json = Record<string, any>; // corpus records are free-form JSON

const options = { selfFunctionNames: new Set(['shipscan-scanner']) };

function scan(parsed: ParsedMessage) {
  if (parsed.kind !== 'scan') throw new Error(`expected a scan request, got ${parsed.kind}: ${'reason' in parsed ? parsed.reason : ''}`);
  return parsed.request;
}

describe('AWS scan request parsing', () => {
  describe('corpus CloudTrail records', () => {
    it('CreateFunction20150331 (raw, account anonymised to 13 digits): unrecognised, with the reason', () => {
      const parsed = parseScanInput(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json'), options);
      expect(parsed.kind).to.equal('unrecognised');
      expect((parsed as { reason: string }).reason).to.include('arn:aws:lambda:us-east-1:1010101010101:function:cloudtrail-events-test');
    });

    it('CreateFunction20150331 (variant: account as 12 digits): function, account, region, trigger', () => {
      const record = JSON.parse(JSON.stringify(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json')).split('1010101010101').join('101010101010'));
      const request = scan(parseScanInput(record, options));
      expect(request).to.deep.include({ trigger: 'CreateFunction', eventId: '6642d073-04f9-474f-a31d-5ef412875c07' });
      expect(request.fn).to.deep.equal({
        partition: 'aws',
        region: 'us-east-1',
        account: '101010101010',
        name: 'cloudtrail-events-test',
        arn: 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test',
      });
    });

    it('UpdateFunctionCode20150331v2 (one-record array, qualified ARN): qualifier stripped', () => {
      const request = scan(parseScanInput(loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json'), options));
      expect(request.trigger).to.equal('UpdateFunctionCode');
      expect(request.fn.arn).to.equal('arn:aws:lambda:ap-westeast-2r:266106314375:function:stratus-red-team-olc-func-vayhjqkdav');
    });

    it('UpdateFunctionConfiguration20150331v2 is a configuration trigger', () => {
      const request = scan(parseScanInput(loadCorpus('aws/cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json'), options));
      expect(request.trigger).to.equal('UpdateFunctionConfiguration');
      expect(request.fn.name).to.equal('stratus-red-team-lambda-layer-simpleLambda');
    });

    it('non-code Lambda calls and other services are skipped, not scanned', () => {
      for (const file of [
        'aws/cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json',
        'aws/cloudtrail-raw-StopLogging.stratus.json',
        'aws/cloudtrail-raw-CreateAccessKey.stratus.json',
        'aws/cloudtrail-raw-AuthorizeSecurityGroupIngress.stratus.json',
        'aws/cloudtrail-raw-s3-PutObject-dataevent.elastic.json',
        'aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json',
        'aws/eventbridge-cloudtrail-s3-CreateBucket.c7n.json',
        'aws/eventbridge-cloudtrail-s3-PutBucketPolicy.cloud-buddy.json',
        'aws/eventbridge-ecr-image-scan.awsdocs.json',
      ]) {
        expect(parseScanInput(loadCorpus(file), options).kind, file).to.equal('skip');
      }
      // ECR pushes are scan requests now (test/aws/ecr-push-request.test.ts).
    });
  });

  describe('variants', () => {
    /** Variant: the corpus record with its anonymised 13-digit account as a 12-digit one. */
    const raw = () => JSON.parse(JSON.stringify(loadCorpus('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json')).split('1010101010101').join('101010101010')) as Json;

    it('event names without the date suffix (announced removal)', () => {
      for (const [name, trigger] of [
        ['CreateFunction', 'CreateFunction'],
        ['UpdateFunctionCode', 'UpdateFunctionCode'],
        ['UpdateFunctionCode20150331v2', 'UpdateFunctionCode'],
        ['UpdateFunctionConfiguration', 'UpdateFunctionConfiguration'],
      ]) {
        expect(scan(parseScanInput({ ...raw(), eventName: name }, options)).trigger).to.equal(trigger);
      }
      expect(parseScanInput({ ...raw(), eventName: 'CreateFunctionUrlConfig20211031' }, options).kind).to.equal('skip');
    });

    it('EventBridge envelope: account/region fall back to the envelope', () => {
      const record = raw();
      delete record.recipientAccountId;
      delete record.awsRegion;
      delete record.responseElements;
      const envelope = { version: '0', id: 'e1', 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.lambda', account: '123456789012', region: 'eu-west-1', time: 't', resources: [], detail: record };
      expect(scan(parseScanInput(envelope, options)).fn.arn).to.equal('arn:aws:lambda:eu-west-1:123456789012:function:cloudtrail-events-test');
    });

    it('errorCode present: skipped with the code in the reason', () => {
      const parsed = parseScanInput({ ...raw(), errorCode: 'AccessDenied' }, options);
      expect(parsed).to.deep.include({ kind: 'skip' });
      expect((parsed as { reason: string }).reason).to.include('AccessDenied');
    });

    it("the scanner's own functions are skipped (loop prevention)", () => {
      const record = raw();
      record.responseElements.functionArn = 'arn:aws:lambda:us-east-1:101010101010:function:shipscan-scanner:3';
      expect(parseScanInput(record, options).kind).to.equal('skip');
    });

    it("own-function names match only in the scanner's own account; a full ARN matches exactly; unknown own account: names match anywhere", () => {
      const selfFunctionNames = new Set(['shipscan-scanner', 'arn:aws:lambda:us-east-1:333333333333:function:shipscan-bulk']);
      const withName = (account: string, name: string) => {
        const record = raw();
        record.recipientAccountId = account;
        record.responseElements.functionArn = `arn:aws:lambda:us-east-1:${account}:function:${name}:3`;
        return record;
      };
      const own = { selfFunctionNames, ownAccount: '101010101010' };
      expect(parseScanInput(withName('101010101010', 'shipscan-scanner'), own).kind).to.equal('skip');
      // A spoke's function that happens to carry the scanner's name is a workload like any other.
      expect(scan(parseScanInput(withName('266106314375', 'shipscan-scanner'), own)).fn.arn).to.equal('arn:aws:lambda:us-east-1:266106314375:function:shipscan-scanner');
      expect(parseScanInput({ functionArn: 'arn:aws:lambda:us-east-1:266106314375:function:shipscan-scanner', reason: 'bulk' }, own).kind).to.equal('scan');
      // Listed by ARN: that function only, whatever the own account is.
      expect(parseScanInput(withName('333333333333', 'shipscan-bulk'), own).kind).to.equal('skip');
      expect(parseScanInput(withName('101010101010', 'shipscan-bulk'), own).kind).to.equal('scan');
      expect(parseScanInput(withName('266106314375', 'shipscan-scanner'), { selfFunctionNames }).kind).to.equal('skip');
    });

    it('bulk targets', () => {
      const request = scan(parseScanInput({ functionArn: 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f:PROD', reason: 'bulk' }, options));
      expect(request).to.deep.include({ trigger: 'bulk' });
      expect(request.fn).to.deep.include({ partition: 'aws-us-gov', arn: 'arn:aws-us-gov:lambda:us-gov-west-1:123456789012:function:f' });
    });

    it('unrecognised input names why', () => {
      expect(parseScanMessage('{', options)).to.deep.include({ kind: 'unrecognised' });
      expect(parseScanMessage('null', options)).to.deep.include({ kind: 'unrecognised' });
      expect(parseScanMessage('[1,2]', options)).to.deep.include({ kind: 'unrecognised' });
      expect(parseScanInput({ functionArn: 'arn:aws:s3:::bucket', reason: 'bulk' }, options)).to.deep.include({ kind: 'unrecognised' });
      const noFunction = raw();
      delete noFunction.responseElements;
      delete noFunction.requestParameters;
      expect(parseScanInput(noFunction, options)).to.deep.include({ kind: 'unrecognised' });
    });

    it('one-record arrays nested 100,000 deep are read like the record, without overflowing the stack', () => {
      const depth = 100_000;
      const bulk = JSON.stringify({ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f', reason: 'bulk' });
      expect(parseScanMessage(`${'['.repeat(depth)}${bulk}${']'.repeat(depth)}`, options)).to.have.property('kind', 'scan');
      expect(parseScanMessage(`${'['.repeat(depth)}${']'.repeat(depth)}`, options)).to.deep.equal({ kind: 'unrecognised', reason: 'expected one event, got an array of 0' });
    });

    it('a record body that is not a string is unrecognised, with its type named, and never a TypeError', () => {
      // SQS always sends text; a record built by hand (a replay, a test event in the console) may not.
      const bodies: [unknown, string][] = [
        [undefined, 'undefined'],
        [null, 'null'],
        [42, 'number'],
        [{ functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f' }, 'object'],
        [['x'], 'array'],
        [Buffer.from('{}'), 'Buffer'],
      ];
      for (const [body, type] of bodies) {
        const parsed = parseScanMessage(body, options);
        expect(parsed, type).to.deep.equal({ kind: 'unrecognised', reason: `message body is not text (got ${type})` });
      }
    });
  });

  describe('function identifiers', () => {
    const context = { account: '123456789012', region: 'eu-central-1' };
    it('every accepted form of every partition resolves to the same unqualified ARN', () => {
      const partitionRegion = fc.constantFrom(['aws', 'eu-central-1'], ['aws-cn', 'cn-northwest-1'], ['aws-us-gov', 'us-gov-east-1']);
      const name = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
      const qualifier = fc.option(fc.oneof(fc.constant('$LATEST'), fc.stringMatching(/^[0-9]{1,4}$/), fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,20}$/)), { nil: undefined });
      fc.assert(
        fc.property(partitionRegion, name, qualifier, ([partition, region], fnName, q) => {
          const suffix = q ? `:${q}` : '';
          const expected = `arn:${partition}:lambda:${region}:123456789012:function:${fnName}`;
          const ctx = { account: '123456789012', region };
          expect(resolveFunctionId(`${expected}${suffix}`, ctx).arn).to.equal(expected);
          expect(resolveFunctionId(`123456789012:function:${fnName}${suffix}`, ctx).arn).to.equal(expected);
          expect(resolveFunctionId(`${fnName}${suffix}`, ctx).arn).to.equal(expected);
        }),
      );
    });

    it('rejects what is not a function identifier, naming the input', () => {
      for (const bad of ['arn:aws:lambda:eu-west-1:123456789012:layer:x:1', 'arn:aws-iso:lambda:eu-west-1:1:function:f', 'a b', '', 'f:1:2']) {
        expect(() => resolveFunctionId(bad, context), bad).to.throw(FunctionIdError);
      }
      expect(() => resolveFunctionId('f', { region: 'eu-west-1' })).to.throw(/no account id/);
      expect(() => resolveFunctionId('f', { account: '1010101010101', region: 'eu-west-1' })).to.throw(/not 12 digits/);
      expect(() => parseFunctionArn('nope')).to.throw(/"nope"/);
    });
  });
});

describe('retry delays: doubling with each delivery, capped', () => {
  const cases: [number, number | undefined, number][] = [
    [60, undefined, 60],
    [60, 1, 60],
    [60, 2, 120],
    [60, 4, 480],
    [60, 5, 900],
    [60, 40, 900],
    [1, 3, 4],
  ];
  for (const [base, receiveCount, expected] of cases) {
    it(`base ${base} s, delivery ${receiveCount ?? '(unknown)'} -> ${expected} s`, () => expect(retryDelaySec(base, receiveCount)).to.equal(expected));
  }
});
