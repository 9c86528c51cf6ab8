import { expect } from 'chai';
import {
  AWS_ACTIVITY_DETECTORS,
  CLOUDTRAIL_API_DETAIL_TYPE,
  CONSOLE_SIGN_IN_DETAIL_TYPES,
  DEFAULT_REGISTRY,
  EVENT_PATTERN_MAX_CHARS,
  createRegistry,
  eventBridgeSource,
  patternSize,
  securityEventPattern,
  securityEventPatterns,
  type EventPattern,
} from '../../../shared/rules/aws';
import { cloudTrailLoggingStopped } from '../../../shared/rules/aws/cloudtrail-tampering';
import { lambdaPublicUrl } from '../../../shared/rules/aws/lambda-public';
import { consoleSignInWithoutMfa, rootConsoleSignIn } from '../../../shared/rules/aws/signin';
import { sgOpenIngress } from '../../../shared/rules/aws/ec2-sg-open-ingress';
import { matchesPattern, type Json as PatternJson } from '../../infra/support/event-pattern-matcher';
import { derive, failed, recordIn, sample, type CorpusName, type Json } from './support/records';

/** An EventBridge event carrying a CloudTrail record, as the bus would deliver it. */
function envelope(eventSource: string, eventName: string, extra: Json = {}, detailType = CLOUDTRAIL_API_DETAIL_TYPE): Json {
  return { source: eventBridgeSource(eventSource), 'detail-type': detailType, detail: { eventSource, eventName, ...extra } };
}

function asEnvelope(input: Json): Json {
  if ('detail' in input) return input;
  const record = recordIn(input);
  return { source: eventBridgeSource(String(record.eventSource)), 'detail-type': CLOUDTRAIL_API_DETAIL_TYPE, detail: record };
}

function matchedBy(patterns: EventPattern[], event: Json): number {
  return patterns.filter((p) => matchesPattern(p as Record<string, PatternJson>, event as Record<string, PatternJson>)).length;
}

describe('security-events EventBridge patterns (securityEventPatterns)', () => {
  const patterns = securityEventPatterns(DEFAULT_REGISTRY);

  it(`keeps every pattern within ${EVENT_PATTERN_MAX_CHARS} characters and splits the registry over as few as fit`, () => {
    expect(patterns.length).to.be.within(1, 4);
    for (const p of patterns) expect(patternSize(p)).to.be.at.most(EVENT_PATTERN_MAX_CHARS);
    const together = patterns.reduce((n, p) => n + patternSize(p), 0);
    expect(together, 'more than one pattern only when one would overflow').to.be.greaterThan(EVENT_PATTERN_MAX_CHARS * (patterns.length - 1) * 0.5);
  });

  it('is pure and deterministic: the same registry renders the same JSON', () => {
    expect(JSON.stringify(securityEventPatterns(createRegistry()))).to.equal(JSON.stringify(patterns));
    expect(securityEventPattern).to.equal(securityEventPatterns);
  });

  it('matches every event name of every detector, exactly once', () => {
    for (const detector of AWS_ACTIVITY_DETECTORS) {
      for (const name of detector.eventNames) {
        expect(matchedBy(patterns, envelope(detector.eventSource, name)), `${detector.id} ${name}`).to.equal(1);
      }
    }
  });

  it('matches Lambda names in their dated forms too, and not CreateFunction', () => {
    expect(matchedBy(patterns, envelope('lambda.amazonaws.com', 'AddPermission20150331v2'))).to.equal(1);
    expect(matchedBy(patterns, envelope('lambda.amazonaws.com', 'AddPermission20150331'))).to.equal(1);
    expect(matchedBy(patterns, envelope('lambda.amazonaws.com', 'CreateFunctionUrlConfig20211031'))).to.equal(1);
    expect(matchedBy(patterns, envelope('lambda.amazonaws.com', 'CreateFunction20150331'))).to.equal(0);
    expect(matchedBy(patterns, envelope('lambda.amazonaws.com', 'AddPermissions'))).to.equal(0);
  });

  it('leaves failed calls out (errorCode present)', () => {
    expect(matchedBy(patterns, envelope('cloudtrail.amazonaws.com', 'StopLogging', { errorCode: 'AccessDenied' }))).to.equal(0);
  });

  it("does not subscribe one source to another's names", () => {
    expect(matchedBy(patterns, envelope('ec2.amazonaws.com', 'StopLogging'))).to.equal(0);
    expect(matchedBy(patterns, envelope('iam.amazonaws.com', 'DeleteFlowLogs'))).to.equal(0);
    expect(matchedBy(patterns, envelope('s3.amazonaws.com', 'CreateBucket'))).to.equal(0);
  });

  it('takes console sign-ins under both detail-type spellings, and not under an unrelated one', () => {
    for (const type of CONSOLE_SIGN_IN_DETAIL_TYPES) expect(matchedBy(patterns, envelope('signin.amazonaws.com', 'ConsoleLogin', {}, type)), type).to.equal(1);
    expect(matchedBy(patterns, envelope('signin.amazonaws.com', 'ConsoleLogin', {}, 'AWS Service Event via CloudTrail'))).to.equal(0);
  });

  const corpus: CorpusName[] = ['sgShorthand', 'sgItemsEnvelope', 'accessKey', 'stopLogging', 'addPermission', 'bucketPolicy'];
  for (const name of corpus) {
    it(`matches the corpus record ${name}, and not its failed variant`, () => {
      expect(matchedBy(patterns, asEnvelope(sample(name)))).to.equal(1);
      expect(matchedBy(patterns, asEnvelope(failed(sample(name))))).to.equal(0);
    });
  }

  it('does not match the corpus CreateBucket records (no detector wants them)', () => {
    expect(matchedBy(patterns, sample('createBucketRoot'))).to.equal(0);
    expect(matchedBy(patterns, asEnvelope(derive('createBucketDocs', () => {})))).to.equal(0);
  });

  describe('rendering, table-tested on small registries', () => {
    const cases: { name: string; detectors: Parameters<typeof createRegistry>[0]; expect: EventPattern[] }[] = [
      {
        name: 'one source: its names in detail, errorCode absent',
        detectors: [cloudTrailLoggingStopped],
        expect: [{ source: ['aws.cloudtrail'], 'detail-type': ['AWS API Call via CloudTrail'], detail: { eventSource: ['cloudtrail.amazonaws.com'], eventName: ['StartLogging', 'StopLogging'], errorCode: [{ exists: false }] } }],
      },
      {
        name: 'Lambda: each name and its dated prefix',
        detectors: [lambdaPublicUrl],
        expect: [
          {
            source: ['aws.lambda'],
            'detail-type': ['AWS API Call via CloudTrail'],
            detail: {
              eventSource: ['lambda.amazonaws.com'],
              eventName: ['CreateFunctionUrlConfig', { prefix: 'CreateFunctionUrlConfig20' }, 'DeleteFunctionUrlConfig', { prefix: 'DeleteFunctionUrlConfig20' }, 'UpdateFunctionUrlConfig', { prefix: 'UpdateFunctionUrlConfig20' }],
              errorCode: [{ exists: false }],
            },
          },
        ],
      },
      {
        name: 'sign-in: both detail-types beside the API call one, names deduplicated across detectors',
        detectors: [rootConsoleSignIn, consoleSignInWithoutMfa],
        expect: [{ source: ['aws.signin'], 'detail-type': ['AWS API Call via CloudTrail', 'AWS Console Sign In via CloudTrail', 'AWS Console Signin via CloudTrail'], detail: { eventSource: ['signin.amazonaws.com'], eventName: ['ConsoleLogin'], errorCode: [{ exists: false }] } }],
      },
      {
        name: 'two sources: one $or branch each',
        detectors: [sgOpenIngress, cloudTrailLoggingStopped],
        expect: [
          {
            source: ['aws.cloudtrail', 'aws.ec2'],
            'detail-type': ['AWS API Call via CloudTrail'],
            detail: {
              errorCode: [{ exists: false }],
              $or: [
                { eventSource: ['cloudtrail.amazonaws.com'], eventName: ['StartLogging', 'StopLogging'] },
                { eventSource: ['ec2.amazonaws.com'], eventName: ['AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules', 'RevokeSecurityGroupIngress'] },
              ],
            },
          },
        ],
      },
    ];
    for (const c of cases) {
      it(c.name, () => expect(securityEventPatterns(createRegistry(c.detectors))).to.deep.equal(c.expect));
    }
  });

  it('splits into more patterns under a lower limit, still covering everything once', () => {
    const small = securityEventPatterns(DEFAULT_REGISTRY, { maxChars: 400 });
    expect(small.length).to.be.greaterThan(patterns.length);
    for (const p of small) expect(patternSize(p)).to.be.at.most(400);
    for (const detector of AWS_ACTIVITY_DETECTORS) {
      for (const name of detector.eventNames) expect(matchedBy(small, envelope(detector.eventSource, name)), `${detector.id} ${name}`).to.equal(1);
    }
  });

  it('refuses a limit no single event fits in', () => {
    expect(() => securityEventPatterns(DEFAULT_REGISTRY, { maxChars: 120 })).to.throw(RangeError, /alone makes a pattern longer than 120/);
  });
});
