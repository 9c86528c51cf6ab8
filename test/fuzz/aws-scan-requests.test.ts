import { expect } from 'chai';
import fc from 'fast-check';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { SQSEvent, SQSRecord } from 'aws-lambda';
import { AccountClients, SpokeCredentials } from '../../functions/aws/account-access';
import { createScannerHandler } from '../../functions/aws/scanner/handler';
import type { RecordOutcome } from '../../functions/aws/scanner/pipeline';
import { parseScanInput, parseScanMessage, type ParsedMessage } from '../../functions/aws/scanner/scan-request';
import type { ResultStore } from '../../functions/aws/result-store';
import type { ScanCache } from '../../functions/aws/scan-cache';
import { sqsEvent } from '../../local/lambda-invocation';
import { lambdaContextIn } from '../aws/support/lambda-context';
import { expectLinear } from '../support/growth';
import { awsEventSeeds } from './support/seeds';
import { fuzz, hostileValue, jsonText, mutated, mutatedText, nested, repeatTo } from './support/hostile';
import { describe as show, expectNoPollution, expectProperty, prototypeSnapshot, typedOutcome, typedOutcomeAsync } from './support/typed';

/**
 * The AWS entry points under generated and mutated input: the SQS record body (EventBridge envelopes,
 * raw CloudTrail records, bulk targets) and the scanner handler on whole batches. Nothing here may
 * throw, and no record may be handed back for a retry: bad input can never become good by waiting.
 */

const OWN_ACCOUNT = '101010101010';
const options = { selfFunctionNames: new Set(['shipscan-scanner', 'shipscan-bulk']), ownAccount: OWN_ACCOUNT };
const seeds = awsEventSeeds();
const seedTexts = seeds.map((s) => JSON.stringify(s));

/** Record bodies: text (mutated seeds, mutated seed text, hostile JSON) and, from a hand-built record, anything. */
const body: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: mutated(seeds).map(jsonText) },
  { weight: 2, arbitrary: mutatedText(seedTexts) },
  { weight: 1, arbitrary: hostileValue.map(jsonText) },
  { weight: 1, arbitrary: hostileValue },
  { weight: 1, arbitrary: fc.constantFrom(...seedTexts) },
);

function expectParsed(parsed: ParsedMessage, input: unknown): void {
  expect(['scan', 'image', 'skip', 'unrecognised'], show(input)).to.include(parsed.kind);
  if (parsed.kind === 'image') {
    expect(parsed.request.digest).to.match(/^sha256:[a-f0-9]{64}$/);
    expect(parsed.request.account).to.match(/^[0-9]{12}$/);
  } else if (parsed.kind === 'scan') {
    expect(parsed.request.fn.arn).to.match(/^arn:aws(-cn|-us-gov)?:lambda:[a-z0-9-]+:[0-9]{12}:function:[A-Za-z0-9_-]+$/);
    expect(['CreateFunction', 'UpdateFunctionCode', 'UpdateFunctionConfiguration', 'bulk']).to.include(parsed.request.trigger);
  } else {
    expect(parsed.reason, show(input)).to.be.a('string').that.is.not.empty;
  }
}

describe('fuzz: AWS scan requests', function () {
  this.timeout(120_000);
  const prototypes = prototypeSnapshot();
  afterEach(() => expectNoPollution(prototypes));

  it('parses any record body into a scan, a skip or an unrecognised message, never an exception', async () => {
    await expectProperty(
      fc.property(body, (input) => {
        const parsed = typedOutcome(() => parseScanMessage(input, options), [], input);
        expectParsed(parsed!, input);
        expectNoPollution(prototypes);
      }),
      fuzz(600),
    );
  });

  it('parses any JSON value the same way (the replay path)', async () => {
    await expectProperty(
      fc.property(fc.oneof(mutated(seeds), hostileValue), (input) => {
        expectParsed(typedOutcome(() => parseScanInput(input, options), [], input)!, input);
      }),
      fuzz(300),
    );
  });

  it('parses in time proportional to the input', async () => {
    // On values already parsed: the text path adds only JSON.parse, and V8's costs more than 10x for a string
    // 10x longer past 100 KB or so, which says nothing about this code.
    const shapes: Record<string, (n: number) => unknown> = {
      'a long unknown key list': (n) => Object.fromEntries(Array.from({ length: n / 8 }, (_, i) => [`k${i}`, 1])),
      'a long function name': (n) => ({ functionArn: `arn:aws:lambda:us-east-1:${OWN_ACCOUNT}:function:${repeatTo('a', n)}`, reason: 'bulk' }),
      'a long event name': (n) => ({ eventName: repeatTo('CreateFunction', n), eventSource: 'lambda.amazonaws.com' }),
      'a long error code': (n) => ({ eventName: 'CreateFunction20150331', eventSource: 'lambda.amazonaws.com', errorCode: repeatTo('-eyJ', n) }),
      'one-record arrays nested deep': (n) => nested(n / 2, 'array', { functionArn: 'arn:aws:lambda:us-east-1:101010101010:function:f' }),
    };
    for (const [what, make] of Object.entries(shapes)) {
      await expectLinear(what, make, (input) => parseScanInput(input, options), { small: 25_600 });
    }
  });

  describe('the scanner handler on fuzzed batches', () => {
    let lambda: AwsClientStub<LambdaClient>;
    let metricsDisabled: string | undefined;

    before(() => {
      // No function exists: a request in the own account ends at GetFunction (gone), nothing is scanned.
      lambda = mockClient(LambdaClient);
      lambda.on(GetFunctionCommand).rejects(Object.assign(new Error('Function not found'), { name: 'ResourceNotFoundException' }));
      metricsDisabled = process.env.POWERTOOLS_METRICS_DISABLED;
      process.env.POWERTOOLS_METRICS_DISABLED = 'true';
    });
    after(() => {
      lambda.restore();
      if (metricsDisabled === undefined) delete process.env.POWERTOOLS_METRICS_DISABLED;
      else process.env.POWERTOOLS_METRICS_DISABLED = metricsDisabled;
    });

    function handler(outcomes: RecordOutcome[]) {
      const unreachable = () => Promise.reject(new Error('no scan can be reached: every function is gone'));
      return createScannerHandler({
        settings: {
          resultsBucket: 'results',
          findingsTopicArn: 'arn:aws:sns:us-east-1:101010101010:findings',
          cacheTtlDays: 30,
          partialCacheTtlMinutes: 60,
          severityThreshold: 'HIGH',
          tagFunctions: true,
          selfFunctionNames: options.selfFunctionNames,
          scanTimeoutMs: 60_000,
          readyWaitMs: 0,
          retryDelaySec: 60,
          lockTtlMs: 900_000,
          scanProfile: 'pkg+secret',
        },
        accounts: new AccountClients(new SpokeCredentials(new STSClient({ region: 'us-east-1' }), [])),
        // Never reached (asserted by the outcomes): the pipeline stops before the cache, the store and the engine.
        cache: { get: unreachable, acquire: unreachable } as unknown as ScanCache,
        store: { put: unreachable } as unknown as ResultStore,
        sns: new SNSClient({ region: 'us-east-1' }),
        sqs: new SQSClient({ region: 'us-east-1' }),
        engine: { scan: unreachable },
        logger: new Logger({ serviceName: 'shipscan-scanner', logLevel: 'SILENT' }),
        metrics: new Metrics({ serviceName: 'shipscan-scanner', namespace: 'Shipscan' }),
        sleep: async () => {},
        onOutcome: (_record: SQSRecord, outcome: RecordOutcome) => outcomes.push(outcome),
      });
    }

    it('answers every batch with no record to retry: each one unrecognised, skipped or a permanent failure', async () => {
      const reached = new Set<string>();
      await expectProperty(
        fc.asyncProperty(fc.array(body, { minLength: 1, maxLength: 10 }), fc.oneof(fc.constant('1'), fc.constantFrom('', 'x', '-1', '1e400', '9'.repeat(400))), async (bodies, receiveCount) => {
          const event: SQSEvent = sqsEvent([], 'arn:aws:sqs:us-east-1:101010101010:shipscan-scan');
          const template = sqsEvent(['{}'], 'arn:aws:sqs:us-east-1:101010101010:shipscan-scan').Records[0]!;
          // Bodies go in as they are: a hand-built record may carry anything where SQS puts text.
          event.Records = bodies.map((b, i) => ({ ...template, messageId: `m-${i}`, body: b as string, attributes: { ...template.attributes, ApproximateReceiveCount: receiveCount } }));
          const outcomes: RecordOutcome[] = [];
          const response = await typedOutcomeAsync(() => handler(outcomes)(event, lambdaContextIn(OWN_ACCOUNT, 600_000)), [], bodies);
          expect(response!.batchItemFailures, show(bodies)).to.deep.equal([]);
          expect(outcomes).to.have.length(bodies.length);
          for (const outcome of outcomes) {
            expect(['unrecognised', 'skipped', 'failed'], show(outcome)).to.include(outcome.kind);
            if (outcome.kind === 'failed') expect(outcome.permanent, show(outcome)).to.equal(true);
            reached.add(outcome.kind);
          }
        }),
        fuzz(200),
      );
      expect([...reached].sort()).to.deep.equal(['failed', 'skipped', 'unrecognised']);
    });
  });
});
