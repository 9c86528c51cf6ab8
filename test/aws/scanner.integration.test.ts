import { expect } from 'chai';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { ChangeMessageVisibilityCommand } from '@aws-sdk/client-sqs';
import { ScanCache } from '../../functions/aws/scan-cache';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { GetFunctionCommand, TagResourceCommand } from '@aws-sdk/client-lambda';
import { GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { PublishCommand } from '@aws-sdk/client-sns';
import { parseScanResult } from '../../shared/scan-result';
import { loadCorpus } from '../support/corpus';
import { eventBridgeEnvelope } from '../../local/demo/scenario';
import type { RecordOutcome } from '../../functions/aws/scanner/pipeline';
import type { QScannerRunOptions } from '../../shared/qualys/contracts';
import {
  ECR_PASSWORD,
  Harness,
  QUALYS_TOKEN,
  SPOKE_SECRET_KEY,
  SPOKE_SESSION_TOKEN,
  TOPIC,
  QUEUE_URL,
  zipFunction,
} from './support/harness';

type Json = Record<string, any>; // corpus records are free-form JSON; the tests reach into them by path

const createCorpus = () => loadCorpus<Json>('aws/cloudtrail-raw-lambda-CreateFunction20150331.elastic.json');
/** Variant: the corpus CreateFunction record with its anonymised 13-digit account as 12 digits. */
const createRaw = () => JSON.parse(JSON.stringify(createCorpus()).split('1010101010101').join('101010101010')) as Json;
const updateRaw = () => loadCorpus<Json[]>('aws/cloudtrail-raw-lambda-UpdateFunctionCode20150331v2.stratus.json')[0]!;
const configRaw = () => loadCorpus<Json[]>('aws/cloudtrail-raw-lambda-UpdateFunctionConfiguration20150331v2-layer.stratus.json')[0]!;
const imageGetFunction = () => loadCorpus<Json>('aws/api-lambda-GetFunction-image.c7n-placebo.json').data;

/** Variant: the raw record inside the EventBridge envelope, as the rule delivers it. */
const eventBridgeVariant = (record: Json): Json => eventBridgeEnvelope(record, `eb-${record.eventID}`);

/** Variant: the record renamed (function name and ARNs) so the fake qscanner picks a scenario. */
function renamedVariant(record: Json, name: string): Json {
  const copy = structuredClone(record);
  const from = copy.responseElements.functionName as string;
  const text = JSON.stringify(copy).split(from).join(name);
  return JSON.parse(text) as Json;
}

const CODE_SHA = 'm2HanyBGXadi+QCt0ct2KqsqHAF4cgUJLO4aS9PcUXo=';
/** Account of the corpus UpdateFunctionConfiguration (layer) record. */
const STRATUS_LAYER_ACCOUNT = '712967571683';
const CODE_HEX = Buffer.from(CODE_SHA, 'base64').toString('hex');

describe('AWS scanner Lambda, end to end (dynalite, s3rver, fake qscanner)', function () {
  this.timeout(60_000);
  const h = new Harness();

  before(async () => h.start());
  after(async () => h.stop());
  beforeEach(async () => {
    await h.reset();
    await h.clearQscannerLog();
  });

  function expectNoSecrets(): void {
    const everything = h.output.join('');
    for (const secret of [QUALYS_TOKEN, SPOKE_SECRET_KEY, SPOKE_SESSION_TOKEN, ECR_PASSWORD]) {
      expect(everything, 'captured log output').not.to.include(secret);
    }
  }

  async function expectArgvClean(): Promise<void> {
    const runs = await h.qscannerRuns();
    for (const run of runs) {
      const argv = run.argv.join(' ');
      for (const secret of [QUALYS_TOKEN, SPOKE_SECRET_KEY, SPOKE_SESSION_TOKEN, ECR_PASSWORD]) expect(argv).not.to.include(secret);
      expect(run.envKeys).to.include('QUALYS_ACCESS_TOKEN');
      expect(run.tokenSha256).to.be.a('string');
    }
  }

  it('raw CreateFunction20150331 record as published (13-digit anonymised account): reported unrecognised, not retried, no AWS call', async () => {
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [createCorpus()]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes[0]!.kind).to.equal('unrecognised');
    expect((outcomes[0] as { reason: string }).reason).to.match(/not 12 digits|12-digit/);
    expect(h.lambdaMock.calls()).to.have.length(0);
  });

  it('raw CreateFunction20150331 record (corpus, 12-digit account variant): waits for Active, scans the zip once, stores S3 object, cache item, tags and SNS message', async () => {
    const record = createRaw();
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(arn, zipFunction(arn, CODE_SHA, { Runtime: 'nodejs20.x' }), {
      pending: [zipFunction(arn, CODE_SHA, { State: 'Pending', LastUpdateStatus: undefined })],
    });
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [record]);

    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes).to.have.length(1);
    expect(outcomes[0]!.kind).to.equal('scanned');
    expect(h.lambdaMock.commandCalls(GetFunctionCommand)).to.have.length(2);

    const runs = await h.qscannerRuns();
    expect(runs).to.have.length(1);
    expect(runs[0]!.argv.slice(0, 2)).to.deep.equal(['lambda', arn]);

    const keys = await h.listResults(`results/101010101010/us-east-1/cloudtrail-events-test/zip-${CODE_HEX}/`);
    expect(keys).to.have.length(1);
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.status).to.equal('COMPLETED');
    expect(result.counts).to.deep.equal({ critical: 2, high: 2, medium: 2, low: 1, informational: 1, total: 8 });
    expect(result.target).to.deep.include({ cloud: 'aws', kind: 'lambda-zip' });
    expect(result.target.function).to.deep.include({ arn, name: 'cloudtrail-events-test', codeSha256: CODE_SHA, runtime: 'nodejs20.x', packageType: 'Zip' });
    expect(keys[0]).to.equal(`results/101010101010/us-east-1/cloudtrail-events-test/zip-${CODE_HEX}/${result.scanId}.json`);

    const item = await h.cacheItem(`zip#${CODE_SHA}#pkg+secret`);
    expect(item).to.include({ resultKey: keys[0], status: 'COMPLETED', scanId: result.scanId, functionArn: arn });
    expect(item!.expiresAt as number).to.be.closeTo(Math.floor(Date.now() / 1000) + 30 * 86_400, 120);
    expect(item!.lockOwner).to.equal(undefined);

    const tags = h.functions.get(arn)!.tags;
    expect(tags).to.include({ ShipscanStatus: 'COMPLETED', ShipscanCritical: '2', ShipscanHigh: '2', ShipscanTotal: '8', ShipscanContent: `zip-${CODE_HEX}`, ShipscanContentResult: keys[0] });
    expect(Object.keys(tags).every((key) => key.startsWith('Shipscan'))).to.equal(true);

    const messages = h.published();
    expect(messages).to.have.length(1);
    expect(messages[0]!.TopicArn).to.equal(TOPIC);
    expect(messages[0]!.MessageAttributes).to.deep.include({
      severity: { DataType: 'String', StringValue: 'CRITICAL' },
      account: { DataType: 'String', StringValue: '101010101010' },
      function: { DataType: 'String', StringValue: 'cloudtrail-events-test' },
    });
    expect(JSON.parse(messages[0]!.Message!)).to.deep.include({ scanId: result.scanId, highestSeverity: 'CRITICAL', result: `s3://${h.bucket}/${keys[0]}` });

    expect(h.metricSum('ScanSuccess')).to.equal(1);
    const bySeverity = h.metricValues('VulnerabilityCount').map((m) => [m.dimensions.severity, m.value]);
    expect(bySeverity).to.deep.include.members([['CRITICAL', 2], ['HIGH', 2], ['MEDIUM', 2], ['LOW', 1], ['INFORMATIONAL', 1]]);
    expect(h.metricValues('ScanDuration')).to.have.length(1);
    expectNoSecrets();
    await expectArgvClean();
  });

  it('EventBridge-wrapped UpdateFunctionCode20150331v2 with a qualified ARN (variant): scans and tags the unqualified function', async () => {
    const record = updateRaw();
    const arn = 'arn:aws:lambda:ap-westeast-2r:266106314375:function:stratus-red-team-olc-func-vayhjqkdav';
    expect(record.responseElements.functionArn).to.equal(`${arn}:1`);
    const sha = record.responseElements.codeSha256 as string;
    h.addFunction(arn, zipFunction(arn, sha));
    const { response } = await h.invoke(h.handler({ ownAccount: '266106314375' }), [eventBridgeVariant(record)]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(h.lambdaMock.commandCalls(GetFunctionCommand)[0]!.args[0].input.FunctionName).to.equal(arn);
    expect(h.lambdaMock.commandCalls(TagResourceCommand)[0]!.args[0].input.Resource).to.equal(arn);
    const runs = await h.qscannerRuns();
    expect(runs.map((run) => run.argv[1])).to.deep.equal([arn]);
    const keys = await h.listResults('results/266106314375/ap-westeast-2r/stratus-red-team-olc-func-vayhjqkdav/');
    expect(keys).to.have.length(1);
    // Cache item and SNS message carry the unqualified ARN, never `:1`.
    expect(await h.cacheItem(`zip#${sha}#pkg+secret`)).to.include({ functionArn: arn, resultKey: keys[0], status: 'COMPLETED' });
    const messages = h.published();
    expect(messages).to.have.length(1);
    expect(JSON.parse(messages[0]!.Message!).function).to.deep.equal({ arn, name: 'stratus-red-team-olc-func-vayhjqkdav', account: '266106314375', region: 'ap-westeast-2r' });
    expect(messages[0]!.MessageAttributes).to.deep.include({ account: { DataType: 'String', StringValue: '266106314375' }, region: { DataType: 'String', StringValue: 'ap-westeast-2r' } });
    expectNoSecrets();
  });

  for (const [partition, region] of [
    ['aws-cn', 'cn-north-1'],
    ['aws-us-gov', 'us-gov-west-1'],
  ] as const) {
    it(`other partition ${partition} (variant of the corpus CreateFunction record): keeps the partition`, async () => {
      const record = createRaw();
      const arn = `arn:${partition}:lambda:${region}:123456789012:function:cloudtrail-events-test`;
      record.awsRegion = region;
      record.recipientAccountId = '123456789012';
      record.responseElements.functionArn = arn;
      record.requestParameters.functionName = 'cloudtrail-events-test';
      const sha = `${partition}Code+${region}=`.padEnd(44, 'A');
      h.addFunction(arn, zipFunction(arn, sha));
      const { response } = await h.invoke(h.handler({ ownAccount: '123456789012' }), [record]);
      expect(response.batchItemFailures).to.deep.equal([]);
      expect((await h.qscannerRuns()).map((run) => run.argv[1])).to.deep.equal([arn]);
      expect(h.functions.get(arn)!.tags.ShipscanStatus).to.equal('COMPLETED');
      const keys = await h.listResults(`results/123456789012/${region}/cloudtrail-events-test/`);
      expect(keys).to.have.length(1);
      expect(await h.cacheItem(`zip#${sha}#pkg+secret`)).to.include({ functionArn: arn, resultKey: keys[0], status: 'COMPLETED' });
      const messages = h.published();
      expect(messages).to.have.length(1);
      expect(JSON.parse(messages[0]!.Message!)).to.deep.include({ result: `s3://${h.bucket}/${keys[0]}` });
      expect(JSON.parse(messages[0]!.Message!).function).to.include({ arn, region });
    });
  }

  it('plain function name in requestParameters only (variant): resolved against the record account and region', async () => {
    const record = createRaw();
    delete record.responseElements;
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(arn, zipFunction(arn, CODE_SHA));
    const { response } = await h.invoke(h.handler(), [record]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(h.lambdaMock.commandCalls(GetFunctionCommand)[0]!.args[0].input.FunctionName).to.equal(arn);
  });

  it('failed calls (errorCode variant) are skipped without any AWS call', async () => {
    const record = { ...createRaw(), errorCode: 'ResourceConflictException', errorMessage: 'Function already exist' };
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [record, eventBridgeVariant(record)]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['skipped', 'skipped']);
    expect(h.lambdaMock.calls()).to.have.length(0);
    expect(await h.qscannerRuns()).to.have.length(0);
  });

  it("the scanner's own functions, other APIs and unrecognised bodies are not scanned and not retried", async () => {
    const own = renamedVariant(createRaw(), 'shipscan-scanner');
    const addPermission = loadCorpus<Json[]>('aws/cloudtrail-raw-lambda-AddPermission20150331v2.stratus.json');
    const s3Bucket = loadCorpus<Json>('aws/eventbridge-cloudtrail-s3-CreateBucket.awsdocs.json');
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [own, addPermission, s3Bucket, 'not json {', { hello: 'world' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['skipped', 'skipped', 'skipped', 'unrecognised', 'unrecognised']);
    expect(h.lambdaMock.calls()).to.have.length(0);
    const warnings = h.jsonLines().filter((line) => line.level === 'WARN' && line.message === 'message not recognised; dropped without retry');
    expect(warnings).to.have.length(2);
    for (const warning of warnings) expect(warning.reason).to.be.a('string').that.is.not.empty;
    expect(warnings.map((w) => w.reason)).to.deep.equal([
      'message body is not JSON (10 characters)',
      'unknown message shape with keys hello',
    ]);
    expect(h.metricSum('EventUnrecognised')).to.equal(2);
  });

  it('container-image function (variant of CreateFunction with packageType Image + corpus GetFunction): scans the digest-pinned image', async () => {
    const getFunction = imageGetFunction();
    const arn = getFunction.Configuration.FunctionArn as string;
    const record = renamedVariant(createRaw(), 'kapilt-assetdb-current-caches');
    record.recipientAccountId = '644160558196';
    record.responseElements.functionArn = arn;
    record.responseElements.packageType = 'Image';
    delete record.responseElements.codeSha256;
    // The published response is mid-update (LastUpdateStatus InProgress); the next call reports it done.
    h.addFunction(arn, { ...getFunction, Configuration: { ...getFunction.Configuration, LastUpdateStatus: 'Successful' } }, { pending: [getFunction] });
    const { response } = await h.invoke(h.handler({ ownAccount: '644160558196' }), [eventBridgeVariant(record)]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const digest = 'sha256:4c3a84c134c3d2a46c56fc34f167a8a048ff2f566dc64f5b7aea4bbf96609542';
    const runs = await h.qscannerRuns();
    expect(runs.map((run) => run.argv.slice(0, 2))).to.deep.equal([['image', `644160558196.dkr.ecr.us-east-1.amazonaws.com/kapilt-assetdb@${digest}`]]);
    const keys = await h.listResults('results/644160558196/us-east-1/kapilt-assetdb-current-caches/');
    expect(keys).to.have.length(1);
    expect(keys[0]).to.include(`/image-${digest.slice(7)}/`);
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.target.kind).to.equal('lambda-image');
    expect(result.target.image).to.deep.include({ registry: '644160558196.dkr.ecr.us-east-1.amazonaws.com', repository: 'kapilt-assetdb', tag: 'arm64-latest', digest });
    expect(await h.cacheItem(`image#${digest}#pkg+secret`)).to.include({ resultKey: keys[0] });
    expect(h.functions.get(arn)!.tags).to.include({ ShipscanContentResult: keys[0], ShipscanContent: `image-${digest.slice(7)}` });
    expect(h.published()).to.have.length(1);
  });

  it('duplicate events and a second function with the same code scan once; hits still tag and count CacheHit', async () => {
    const record = createRaw();
    const arnA = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    const arnB = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-copy';
    h.addFunction(arnA, zipFunction(arnA, CODE_SHA));
    h.addFunction(arnB, zipFunction(arnB, CODE_SHA));
    const copy = renamedVariant(record, 'cloudtrail-events-copy');
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [record, eventBridgeVariant(record), copy]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned', 'cache-hit', 'cache-hit']);
    expect(await h.qscannerRuns()).to.have.length(1);
    expect(await h.listResults()).to.have.length(1);
    // Content-addressed: B points at the one result of this code, stored under A's path.
    const [key] = await h.listResults();
    expect(key).to.include('/cloudtrail-events-test/');
    for (const arn of [arnA, arnB]) expect(h.functions.get(arn)!.tags).to.include({ ShipscanContentResult: key, ShipscanContent: `zip-${CODE_HEX}` });
    expect(h.metricSum('CacheHit')).to.equal(2);
    // The duplicate of A was announced already; B is a new function carrying the same findings.
    const messages = h.published();
    expect(messages.map((m) => m.MessageAttributes!.function!.StringValue)).to.deep.equal(['cloudtrail-events-test', 'cloudtrail-events-copy']);
    expect(JSON.parse(messages[1]!.Message!).cacheHit).to.equal(true);
  });

  it('concurrent duplicates: the in-flight lock lets one invocation scan; the other retries later, then hits the cache', async () => {
    const record = createRaw();
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(arn, zipFunction(arn, 'ConcurrentCode000000000000000000000000000000='));
    const first: RecordOutcome[] = [];
    const second: RecordOutcome[] = [];
    const [a, b] = await Promise.all([h.invoke(h.handler({ outcomes: first }), [record]), h.invoke(h.handler({ outcomes: second }), [record])]);
    const kinds = [first[0]!.kind, second[0]!.kind].sort();
    expect(kinds).to.deep.equal(['retry-later', 'scanned']);
    expect(await h.qscannerRuns()).to.have.length(1);
    const failed = [...a.response.batchItemFailures, ...b.response.batchItemFailures];
    expect(failed).to.have.length(1);
    const visibility = h.sqsMock.commandCalls(ChangeMessageVisibilityCommand);
    expect(visibility).to.have.length(1);
    expect(visibility[0]!.args[0].input).to.include({ QueueUrl: QUEUE_URL, VisibilityTimeout: 60 });
    const again: RecordOutcome[] = [];
    await h.invoke(h.handler({ outcomes: again }), [record]);
    expect(again[0]!.kind).to.equal('cache-hit');
    expect(await h.qscannerRuns()).to.have.length(1);
  });

  it('exit 40 (report not ready): visibility set to ~60 s, reported as batch item failure, lock released, nothing stored', async () => {
    const record = renamedVariant(createRaw(), 'orders-notready');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:orders-notready';
    h.addFunction(arn, zipFunction(arn, 'NotReadyCode0000000000000000000000000000000='));
    const { event, response } = await h.invoke(h.handler(), [record]);
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    const visibility = h.sqsMock.commandCalls(ChangeMessageVisibilityCommand);
    expect(visibility.map((c) => c.args[0].input)).to.deep.equal([{ QueueUrl: QUEUE_URL, ReceiptHandle: event.Records[0]!.receiptHandle, VisibilityTimeout: 60 }]);
    expect(await h.listResults('results/101010101010/us-east-1/orders-notready/')).to.deep.equal([]);
    expect(await h.cacheItem('zip#NotReadyCode0000000000000000000000000000000=#pkg+secret')).to.equal(undefined);
    expect(h.functions.get(arn)!.tags).to.deep.equal({});
    expect(h.published()).to.have.length(0);
  });

  it('exit 42 (policy DENY): result recorded with the verdict, tagged, cached and announced', async () => {
    const record = renamedVariant(createRaw(), 'payments-deny');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:payments-deny';
    h.addFunction(arn, zipFunction(arn, 'DenyCode00000000000000000000000000000000000='));
    const { response } = await h.invoke(h.handler(), [record]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const keys = await h.listResults('results/101010101010/us-east-1/payments-deny/');
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.policy).to.deep.equal({ verdict: 'DENY' });
    expect(h.functions.get(arn)!.tags).to.include({ ShipscanPolicy: 'DENY', ShipscanStatus: 'COMPLETED' });
    expect(await h.cacheItem('zip#DenyCode00000000000000000000000000000000000=#pkg+secret')).to.include({ policyVerdict: 'DENY' });
    expect(JSON.parse(h.published()[0]!.Message!).policyVerdict).to.equal('DENY');
    expect(h.metricSum('PolicyDeny')).to.equal(1);
  });

  it('exit 15 (distroless, OS not found): PARTIAL result cached for a short time only', async () => {
    const record = renamedVariant(createRaw(), 'api-distroless');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:api-distroless';
    h.addFunction(arn, zipFunction(arn, 'DistrolessCode000000000000000000000000000000='));
    const { response } = await h.invoke(h.handler(), [record]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const keys = await h.listResults('results/101010101010/us-east-1/api-distroless/');
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.status).to.equal('PARTIAL');
    expect(result.counts).to.deep.include({ high: 1, medium: 1, total: 2 });
    const item = await h.cacheItem('zip#DistrolessCode000000000000000000000000000000=#pkg+secret');
    expect(item!.status).to.equal('PARTIAL');
    expect(item!.expiresAt as number).to.be.closeTo(Math.floor(Date.now() / 1000) + 3600, 120);
    expect(h.functions.get(arn)!.tags.ShipscanStatus).to.equal('PARTIAL');
    expect(h.metricSum('ScanPartialSuccess')).to.equal(1);
    expect(h.published()).to.have.length(1);
  });

  it('exit 1 (broken): FAILED result with code and reason stored, not cached, record thrown back to SQS', async () => {
    const record = renamedVariant(createRaw(), 'etl-broken');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:etl-broken';
    h.addFunction(arn, zipFunction(arn, 'BrokenCode00000000000000000000000000000000='));
    const { event, response } = await h.invoke(h.handler(), [record]);
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(h.sqsMock.commandCalls(ChangeMessageVisibilityCommand)).to.have.length(0);
    const keys = await h.listResults('results/101010101010/us-east-1/etl-broken/');
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.status).to.equal('FAILED');
    expect(result.error).to.deep.include({ code: 'QSCANNER_EXIT_1', retryable: true });
    expect(result.error!.message).to.include('failed to analyze artifact: unexpected EOF');
    expect(await h.cacheItem('zip#BrokenCode00000000000000000000000000000000=#pkg+secret')).to.equal(undefined);
    expect(h.functions.get(arn)!.tags.ShipscanStatus).to.equal('FAILED');
    expect(h.metricSum('ScanFailure')).to.equal(1);
    expect(h.metricSum('ScanFailure', { reason: 'QSCANNER_EXIT_1' })).to.equal(1);
    expect(h.published()).to.have.length(0);
    const errors = h.jsonLines().filter((line) => line.level === 'ERROR' && line.message === 'scan failed');
    expect(errors[0]).to.include({ code: 'QSCANNER_EXIT_1', exitCode: 1 });
  });

  it('a qscanner timeout kills the run, stores FAILED with QSCANNER_TIMEOUT and retries through SQS', async () => {
    const record = renamedVariant(createRaw(), 'report-slow');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:report-slow';
    h.addFunction(arn, zipFunction(arn, 'SlowCode0000000000000000000000000000000000='));
    const started = Date.now();
    const { event, response } = await h.invoke(h.handler({ settings: { scanTimeoutMs: 1500 } }), [record]);
    expect(Date.now() - started).to.be.lessThan(30_000);
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    const keys = await h.listResults('results/101010101010/us-east-1/report-slow/');
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.error).to.deep.include({ code: 'QSCANNER_TIMEOUT' });
    expect(await h.cacheItem('zip#SlowCode0000000000000000000000000000000000=#pkg+secret')).to.equal(undefined);
  });

  it('another account: AssumeRole with that spoke ExternalId, spoke credentials for GetFunction and the child, none logged', async () => {
    const record = updateRaw();
    const arn = 'arn:aws:lambda:ap-westeast-2r:266106314375:function:stratus-red-team-olc-func-vayhjqkdav';
    h.addFunction(arn, zipFunction(arn, record.responseElements.codeSha256));
    const spokes = [{ accountId: '266106314375', roleArn: 'arn:aws:iam::266106314375:role/shipscan-spoke', externalId: 'ext-266106314375-x7' }];
    const { response } = await h.invoke(h.handler({ spokes }), [eventBridgeVariant(record), record]);
    expect(response.batchItemFailures).to.deep.equal([]);
    const assumed = h.stsMock.commandCalls(AssumeRoleCommand);
    // Credentials are cached per account: one AssumeRole for both records.
    expect(assumed).to.have.length(1);
    expect(assumed[0]!.args[0].input).to.include({ RoleArn: spokes[0]!.roleArn, ExternalId: spokes[0]!.externalId });
    const getFunction = h.lambdaMock.commandCalls(GetFunctionCommand)[0]!;
    const client = getFunction.thisValue as { config: { credentials: () => Promise<{ secretAccessKey: string }> } };
    expect((await client.config.credentials()).secretAccessKey).to.equal(SPOKE_SECRET_KEY);
    const runs = await h.qscannerRuns();
    expect(runs).to.have.length(1);
    expect(runs[0]!.envKeys).to.include.members(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']);
    expectNoSecrets();
    await expectArgvClean();
  });

  it('cross-account container image: ECR credentials for the registry reach the child by env only', async () => {
    const getFunction = imageGetFunction();
    const arn = getFunction.Configuration.FunctionArn as string;
    h.addFunction(arn, { ...getFunction, Configuration: { ...getFunction.Configuration, LastUpdateStatus: 'Successful' } });
    const spokes = [{ accountId: '644160558196', roleArn: 'arn:aws:iam::644160558196:role/shipscan-spoke', externalId: 'ext-644160558196' }];
    const { response } = await h.invoke(h.handler({ spokes }), [{ functionArn: arn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(h.ecrMock.commandCalls(GetAuthorizationTokenCommand)).to.have.length(1);
    const runs = await h.qscannerRuns();
    expect(runs[0]!.argv[0]).to.equal('image');
    expect(runs[0]!.envKeys).to.include.members(['QSCANNER_REGISTRY_USERNAME', 'QSCANNER_REGISTRY_PASSWORD']);
    expectNoSecrets();
    await expectArgvClean();
  });

  it('UpdateFunctionConfiguration20150331v2 (corpus, layer added) is scanned too; functions tagged ShipscanExclude=true are not', async () => {
    const record = configRaw();
    const arn = record.responseElements.functionArn as string;
    h.addFunction(arn, zipFunction(arn, record.responseElements.codeSha256), { tags: { ShipscanExclude: 'true' } });
    const outcomes: RecordOutcome[] = [];
    await h.invoke(h.handler({ outcomes, ownAccount: STRATUS_LAYER_ACCOUNT }), [record]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['skipped']);
    delete h.functions.get(arn)!.tags.ShipscanExclude;
    await h.invoke(h.handler({ outcomes, ownAccount: STRATUS_LAYER_ACCOUNT }), [record]);
    expect(outcomes[1]!.kind).to.equal('scanned');
  });

  it('an SNS outage fails the record before it is cached, so the retry scans again and the message is not lost', async () => {
    const record = createRaw();
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(arn, zipFunction(arn, 'SnsOutageCode00000000000000000000000000000='));
    h.snsMock
      .on(PublishCommand)
      .rejectsOnce(Object.assign(new Error('service unavailable'), { name: 'InternalErrorException' }))
      .resolves({ MessageId: 'after-outage' });
    const first: RecordOutcome[] = [];
    const { event, response } = await h.invoke(h.handler({ outcomes: first }), [record]);
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(await h.cacheItem('zip#SnsOutageCode00000000000000000000000000000=#pkg+secret')).to.equal(undefined);
    const retry: RecordOutcome[] = [];
    h.output = [];
    const again = await h.invoke(h.handler({ outcomes: retry }), [record]);
    expect(again.response.batchItemFailures, JSON.stringify(h.jsonLines().filter((l) => l.level === 'ERROR'))).to.deep.equal([]);
    expect(retry[0]).to.deep.include({ kind: 'scanned', notified: true });
    expect(await h.cacheItem('zip#SnsOutageCode00000000000000000000000000000=#pkg+secret')).to.include({ status: 'COMPLETED' });
  });

  it('a duplicate waiting for an in-flight scan backs off with each delivery, never past the lock', async () => {
    const record = createRaw();
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    const code = 'BackoffCode0000000000000000000000000000000=';
    h.addFunction(arn, zipFunction(arn, code));
    // Another invocation holds the in-flight lock for this code for the next 10 minutes.
    const lock = await new ScanCache(h.doc, h.table).lock(`zip#${code}#pkg+secret`, 'other-invocation', 600_000);
    expect(lock.kind).to.equal('acquired');
    for (const [receiveCount, expected] of [[1, 60], [3, 240], [5, 600]] as const) {
      const outcomes: RecordOutcome[] = [];
      await h.invoke(h.handler({ outcomes }), [record], 600_000, receiveCount);
      expect(outcomes[0]).to.deep.include({ kind: 'retry-later' });
      const calls = h.sqsMock.commandCalls(ChangeMessageVisibilityCommand);
      const asked = calls[calls.length - 1]!.args[0].input.VisibilityTimeout!;
      // Delivery 5 would ask 900 s, but the lock is gone in at most 600 s.
      if (receiveCount === 5) expect(asked).to.be.within(590, 600);
      else expect(asked).to.equal(expected);
    }
    expect(await h.qscannerRuns()).to.have.length(0);
  });

  it('a function that never becomes Active within the bounded wait is retried later', async () => {
    const record = createRaw();
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(arn, zipFunction(arn, CODE_SHA, { State: 'Pending' }));
    const outcomes: RecordOutcome[] = [];
    // A virtual clock: every sleep of the bounded wait advances it, so the test does not wait 5 s.
    let clock = Date.now();
    const handler = h.handler({ outcomes, settings: { readyWaitMs: 5_000 }, now: () => clock, sleep: async (ms) => void (clock += ms) });
    const { response } = await h.invoke(handler, [record]);
    expect(outcomes[0]!.kind).to.equal('retry-later');
    expect(response.batchItemFailures).to.have.length(1);
    expect(await h.qscannerRuns()).to.have.length(0);
  });

  it('TagResource denied (spoke without lambda:TagResource): the scan is still recorded, announced and cached; TagFailure counted, no retry', async () => {
    const record = createRaw();
    const arnA = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    const arnB = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-copy';
    h.addFunction(arnA, zipFunction(arnA, CODE_SHA));
    h.addFunction(arnB, zipFunction(arnB, CODE_SHA));
    const denied = Object.assign(new Error('User: arn:aws:sts::101010101010:assumed-role/shipscan-spoke/s is not authorized to perform: lambda:TagResource'), {
      name: 'AccessDeniedException',
    });
    h.lambdaMock.on(TagResourceCommand).rejects(denied);
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [record, renamedVariant(record, 'cloudtrail-events-copy')]);

    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned', 'cache-hit']);
    expect(h.lambdaMock.commandCalls(TagResourceCommand)).to.have.length(2);
    const scanned = outcomes[0] as Extract<RecordOutcome, { kind: 'scanned' }>;
    expect(h.published().map((m) => m.MessageAttributes!.function!.StringValue)).to.deep.equal(['cloudtrail-events-test', 'cloudtrail-events-copy']);
    const item = await h.cacheItem(`zip#${CODE_SHA}#pkg+secret`);
    expect(item).to.include({ scanId: scanned.scanId, resultKey: scanned.resultKey, status: 'COMPLETED' });
    expect(item!.lockOwner).to.equal(undefined);
    expect(h.metricSum('TagFailure')).to.equal(2);
    expect(h.metricSum('ScanSuccess')).to.equal(1);
    const warnings = h.jsonLines().filter((line) => line.message === 'could not tag the function; result kept');
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.include({ errorName: 'AccessDeniedException', level: 'WARN' });
    expect(Object.keys(h.functions.get(arnA)!.tags)).to.deep.equal([]);
    expectNoSecrets();
  });

  it('TagResource over the 50-tag limit (TooManyTagsException) on a failed scan: FAILED result still stored and retried as before', async () => {
    const record = renamedVariant(createRaw(), 'broken-fn');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:broken-fn';
    h.addFunction(arn, zipFunction(arn, CODE_SHA));
    h.lambdaMock.on(TagResourceCommand).rejects(Object.assign(new Error('Tags limit exceeded'), { name: 'TooManyTagsException' }));
    const outcomes: RecordOutcome[] = [];
    await h.invoke(h.handler({ outcomes }), [record]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['failed']);
    const failed = outcomes[0] as Extract<RecordOutcome, { kind: 'failed' }>;
    expect(await h.listResults()).to.deep.equal([failed.resultKey]);
    expect(h.metricSum('TagFailure')).to.equal(1);
    expect(h.metricSum('ScanFailure')).to.equal(1);
  });

  it('a function whose name matches EXCLUDE_PATTERNS (CreateFunction variant) is skipped before any AWS call, naming the pattern', async () => {
    const record = renamedVariant(createRaw(), 'sandbox-events-test');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:sandbox-events-test';
    h.addFunction(arn, zipFunction(arn, CODE_SHA));
    const kept = 'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test';
    h.addFunction(kept, zipFunction(kept, CODE_SHA));
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes, settings: { excludePatterns: [/^test-/, /^sandbox-/] } }), [record, createRaw()]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['skipped', 'scanned']);
    expect((outcomes[0] as { reason: string }).reason).to.equal('function sandbox-events-test matches exclude pattern ^sandbox-');
    expect(h.lambdaMock.commandCalls(GetFunctionCommand).map((call) => call.args[0].input.FunctionName)).to.deep.equal([
      'arn:aws:lambda:us-east-1:101010101010:function:cloudtrail-events-test',
    ]);
    expect(h.functions.get(arn)!.tags).to.deep.equal({});
    expect(await h.qscannerRuns()).to.have.length(1);
  });

  it('UpdateFunctionConfiguration20150331v2 adding a layer (corpus) misses the cache of the layerless scan; the same layers hit it', async () => {
    const record = configRaw();
    const arn = record.responseElements.functionArn as string;
    const sha = record.responseElements.codeSha256 as string;
    const layerArn = record.responseElements.layers[0].arn as string;
    h.addFunction(arn, zipFunction(arn, sha));
    const outcomes: RecordOutcome[] = [];
    await h.invoke(h.handler({ outcomes, ownAccount: STRATUS_LAYER_ACCOUNT }), [record]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned']);
    // No layers: the key is the one written before layers counted, so existing cache items stay valid.
    expect(await h.cacheItem(`zip#${sha}#pkg+secret`)).to.include({ status: 'COMPLETED' });

    h.functions.get(arn)!.output = zipFunction(arn, sha, { Layers: [{ Arn: layerArn, CodeSize: 2120 }] });
    await h.invoke(h.handler({ outcomes, ownAccount: STRATUS_LAYER_ACCOUNT }), [record, record]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned', 'scanned', 'cache-hit']);
    expect(await h.qscannerRuns()).to.have.length(2);
    const layers = (outcomes[1] as Extract<RecordOutcome, { kind: 'scanned' }>).resultKey;
    expect(layers).to.match(new RegExp(`/zip-${Buffer.from(sha, 'base64').toString('hex')}-layers-[0-9a-f]{12}/`));
    const items = await h.doc.send(new ScanCommand({ TableName: h.table }));
    const keys = (items.Items ?? []).map((item) => item.pk as string).sort();
    expect(keys).to.have.length(2);
    expect(keys).to.include(`zip#${sha}#pkg+secret`);
    expect(keys.find((key) => key !== `zip#${sha}#pkg+secret`)).to.match(new RegExp(`^zip#${sha.replace(/[+/=]/g, '\\$&')}#layers=[0-9a-f]{12}#pkg\\+secret$`));
  });

  it('an idle function (State=Inactive, LastUpdateStatus=Successful; bulk target) is scanned at once, not waited for or retried', async () => {
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:idle-reports';
    h.addFunction(arn, zipFunction(arn, 'IdleCode00000000000000000000000000000000000=', { State: 'Inactive', StateReasonCode: 'Idle', StateReason: 'The function is inactive.' }));
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [{ functionArn: arn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned']);
    expect(h.lambdaMock.commandCalls(GetFunctionCommand)).to.have.length(1);
    expect((await h.qscannerRuns()).map((run) => run.argv.slice(0, 2))).to.deep.equal([['lambda', arn]]);
    expect(h.functions.get(arn)!.tags.ShipscanStatus).to.equal('COMPLETED');
  });

  it('an account that is neither the own one nor a spoke: permanent failure naming the account and aws.spokes, no AWS call, no retry, ScanFailure counted', async () => {
    const arn = 'arn:aws:lambda:us-east-1:999999999999:function:orders-api';
    // Were it read with the scanner's own role, this registry would answer; the real API answers AccessDenied.
    h.addFunction(arn, zipFunction(arn, CODE_SHA));
    const spokes = [{ accountId: '266106314375', roleArn: 'arn:aws:iam::266106314375:role/shipscan-spoke', externalId: 'ext-266106314375-x7' }];
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes, spokes }), [{ functionArn: arn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes).to.have.length(1);
    expect(outcomes[0]).to.deep.include({ kind: 'failed', code: 'ACCOUNT_NOT_CONFIGURED', permanent: true });
    const reason = (outcomes[0] as Extract<RecordOutcome, { kind: 'failed' }>).reason;
    for (const part of ['999999999999', 'aws.spokes', '101010101010', '266106314375']) expect(reason).to.include(part);
    expect(h.lambdaMock.calls()).to.have.length(0);
    expect(h.stsMock.calls()).to.have.length(0);
    expect(h.sqsMock.commandCalls(ChangeMessageVisibilityCommand)).to.have.length(0);
    expect(await h.qscannerRuns()).to.have.length(0);
    expect(await h.listResults()).to.deep.equal([]);
    const errors = h.jsonLines().filter((line) => line.level === 'ERROR' && line.message === 'account not configured; the message is not retried');
    expect(errors).to.have.length(1);
    expect(errors[0]).to.deep.include({ account: '999999999999', ownAccount: '101010101010', spokeAccounts: ['266106314375'], functionArn: arn, reason });
    expect(h.metricSum('ScanFailure')).to.equal(1);
    expect(h.metricSum('ScanFailure', { reason: 'UnknownAccountError' })).to.equal(1);
  });

  it('errors thrown by the record pipeline (AssumeRole refused, results bucket missing) fail the record and count ScanFailure, by error name too', async () => {
    h.stsMock.on(AssumeRoleCommand).rejects(Object.assign(new Error('User: arn:aws:sts::101010101010:assumed-role/scanner/x is not authorized to perform: sts:AssumeRole'), { name: 'AccessDenied' }));
    const spokeArn = 'arn:aws:lambda:us-east-1:266106314375:function:orders-api';
    const ownArn = 'arn:aws:lambda:us-east-1:101010101010:function:billing-api';
    h.addFunction(spokeArn, zipFunction(spokeArn, 'SpokeCode0000000000000000000000000000000000='));
    h.addFunction(ownArn, zipFunction(ownArn, 'BillingCode00000000000000000000000000000000='));
    const spokes = [{ accountId: '266106314375', roleArn: 'arn:aws:iam::266106314375:role/shipscan-spoke', externalId: 'ext-266106314375-x7' }];
    // The handler writes results to a bucket that does not exist (s3rver answers NoSuchBucket).
    h.bucket = 'shipscan-results-missing';
    const outcomes: RecordOutcome[] = [];
    const { event, response } = await h.invoke(h.handler({ outcomes, spokes }), [{ functionArn: spokeArn, reason: 'bulk' }, { functionArn: ownArn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal(event.Records.map((r) => ({ itemIdentifier: r.messageId })));
    // Neither reached an outcome: both threw.
    expect(outcomes).to.deep.equal([]);
    expect(h.metricSum('ScanFailure')).to.equal(2);
    expect(h.metricSum('ScanFailure', { reason: 'AccessDenied' })).to.equal(1);
    expect(h.metricSum('ScanFailure', { reason: 'NoSuchBucket' })).to.equal(1);
    expect(h.jsonLines().filter((line) => line.level === 'ERROR' && line.message === 'record failed')).to.have.length(2);
    // The lock of the scan that could not be stored is released, so the retry scans again.
    expect(await h.cacheItem('zip#BillingCode00000000000000000000000000000000=#pkg+secret')).to.equal(undefined);
  });

  it('a function in another region of the own account: the child gets that region and no extra credentials', async () => {
    const arn = 'arn:aws:lambda:eu-central-1:101010101010:function:orders-eu';
    h.addFunction(arn, zipFunction(arn, 'EuCode0000000000000000000000000000000000000='));
    const runs: QScannerRunOptions[] = [];
    const { response } = await h.invoke(h.handler({ runs }), [{ functionArn: arn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    // The scanner itself runs in us-east-1 (the harness's AWS_REGION), which the child would otherwise inherit.
    expect(process.env.AWS_REGION).to.equal('us-east-1');
    expect(runs.map((run) => run.extraEnv)).to.deep.equal([{ AWS_REGION: 'eu-central-1', AWS_DEFAULT_REGION: 'eu-central-1' }]);
    expect((await h.qscannerRuns())[0]!.envKeys).to.include.members(['AWS_REGION', 'AWS_DEFAULT_REGION']);
  });

  it("a spoke's function named like the scanner is scanned; the own account's one is skipped", async () => {
    const spokeArn = 'arn:aws:lambda:us-east-1:266106314375:function:shipscan-scanner';
    const ownArn = 'arn:aws:lambda:us-east-1:101010101010:function:shipscan-scanner';
    h.addFunction(spokeArn, zipFunction(spokeArn, 'NamesakeCode0000000000000000000000000000000='));
    h.addFunction(ownArn, zipFunction(ownArn, 'OwnScannerCode00000000000000000000000000000='));
    const spokes = [{ accountId: '266106314375', roleArn: 'arn:aws:iam::266106314375:role/shipscan-spoke', externalId: 'ext-266106314375-x7' }];
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes, spokes }), [{ functionArn: spokeArn, reason: 'bulk' }, { functionArn: ownArn, reason: 'bulk' }]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes.map((o) => o.kind)).to.deep.equal(['scanned', 'skipped']);
    expect(h.lambdaMock.commandCalls(GetFunctionCommand).map((call) => call.args[0].input.FunctionName)).to.deep.equal([spokeArn]);
  });

  it('too little invocation time left for a scan: lock released, retried with the usual backoff instead of at once', async () => {
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:late-batch';
    const code = 'LateCode00000000000000000000000000000000000=';
    h.addFunction(arn, zipFunction(arn, code));
    const outcomes: RecordOutcome[] = [];
    // 45 s stay reserved for recording: 45.5 s left leave less than the 1 s minimum scan.
    const { event, response } = await h.invoke(h.handler({ outcomes }), [{ functionArn: arn, reason: 'bulk' }], 45_500, 3);
    expect(outcomes[0]).to.deep.include({ kind: 'retry-later', reason: 'not enough invocation time left for a scan', delaySec: 240 });
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(h.sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input.VisibilityTimeout)).to.deep.equal([240]);
    expect(await h.cacheItem(`zip#${code}#pkg+secret`)).to.equal(undefined);
    expect(await h.qscannerRuns()).to.have.length(0);
  });

  it('exit 41 (policy result not ready): retried later like exit 40, lock released, nothing stored or announced', async () => {
    const record = renamedVariant(createRaw(), 'orders-policywait');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:orders-policywait';
    const code = 'PolicyWaitCode00000000000000000000000000000=';
    h.addFunction(arn, zipFunction(arn, code));
    const outcomes: RecordOutcome[] = [];
    const { event, response } = await h.invoke(h.handler({ outcomes }), [record]);
    expect(outcomes[0]).to.deep.include({ kind: 'retry-later', reason: 'qscanner exit 41: report not ready', delaySec: 60 });
    expect(response.batchItemFailures).to.deep.equal([{ itemIdentifier: event.Records[0]!.messageId }]);
    expect(h.sqsMock.commandCalls(ChangeMessageVisibilityCommand).map((c) => c.args[0].input.VisibilityTimeout)).to.deep.equal([60]);
    expect(await h.listResults('results/101010101010/us-east-1/orders-policywait/')).to.deep.equal([]);
    expect(await h.cacheItem(`zip#${code}#pkg+secret`)).to.equal(undefined);
    expect(h.functions.get(arn)!.tags).to.deep.equal({});
    expect(h.published()).to.have.length(0);
    expect(h.metricSum('ScanFailure')).to.equal(0);
  });

  it('exit 43 (policy AUDIT): result recorded with the verdict, tagged, cached, counted; announced for its findings', async () => {
    const record = renamedVariant(createRaw(), 'payments-audit');
    const arn = 'arn:aws:lambda:us-east-1:101010101010:function:payments-audit';
    const code = 'AuditCode0000000000000000000000000000000000=';
    h.addFunction(arn, zipFunction(arn, code));
    const outcomes: RecordOutcome[] = [];
    const { response } = await h.invoke(h.handler({ outcomes }), [record]);
    expect(response.batchItemFailures).to.deep.equal([]);
    expect(outcomes[0]).to.deep.include({ kind: 'scanned', status: 'COMPLETED', policyVerdict: 'AUDIT', notified: true });
    const keys = await h.listResults('results/101010101010/us-east-1/payments-audit/');
    expect(keys).to.have.length(1);
    const result = parseScanResult(await h.readResult(keys[0]!));
    expect(result.policy).to.deep.equal({ verdict: 'AUDIT' });
    expect(result.counts.critical).to.equal(2);
    expect(h.functions.get(arn)!.tags).to.include({ ShipscanPolicy: 'AUDIT', ShipscanStatus: 'COMPLETED', ShipscanContentResult: keys[0] });
    expect(await h.cacheItem(`zip#${code}#pkg+secret`)).to.include({ policyVerdict: 'AUDIT', resultKey: keys[0] });
    const message = JSON.parse(h.published()[0]!.Message!);
    expect(message).to.deep.include({ policyVerdict: 'AUDIT', highestSeverity: 'CRITICAL' });
    expect(h.metricSum('PolicyAudit')).to.equal(1);
    expect(h.metricSum('PolicyDeny')).to.equal(0);
  });
});
