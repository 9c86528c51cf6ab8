import { expect } from 'chai';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { FAKE_QSCANNER_PATH } from '../../local/fake-qscanner';
import { startLambdaApiStub, type LambdaApiStub } from '../../local/lambda-api-stub';
import { startDynalite } from '../../local/emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../../local/emulators/s3rver';
import type { RunningEmulator } from '../../local/emulators/dynalite';
import { CACHE_TABLE_SCHEMA } from '../../functions/aws/scan-cache';
import { createScannerHandlerFromEnv } from '../../functions/aws/scanner/from-env';
import { EnvError } from '../../functions/aws/env';
import { lambdaContextIn } from './support/lambda-context';
import { sqsEvent } from './support/harness';

/**
 * The production wiring (handler built from the environment) against emulators reached only through
 * the SDK's endpoint variables, as the offline stack runs it: dynalite, s3rver, the Lambda API stub,
 * the fake qscanner. SNS and Secrets Manager have no emulator here and are mocked.
 */
describe('AWS scanner built from the environment (endpoint overrides, offline)', function () {
  this.timeout(60_000);
  let dynamo: RunningEmulator;
  let s3: RunningEmulator;
  let lambda: LambdaApiStub;
  let tmp: string;
  const saved: Record<string, string | undefined> = {};
  // Created in `before`: a class-level mock made at load time would be undone by other files' restore().
  let snsMock: AwsClientStub<SNSClient>;
  let sqsMock: AwsClientStub<SQSClient>;
  let secretsMock: AwsClientStub<SecretsManagerClient>;

  before(async () => {
    snsMock = mockClient(SNSClient);
    sqsMock = mockClient(SQSClient);
    secretsMock = mockClient(SecretsManagerClient);
    dynamo = await startDynalite();
    s3 = await startS3rver();
    lambda = await startLambdaApiStub({ defaultAccount: '123456789012', defaultRegion: 'eu-west-1' });
    tmp = await mkdtemp(path.join(os.tmpdir(), 'shipscan-aws-env-'));
    const overrides: Record<string, string> = {
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      // s3rver accepts only its default key pair; dynalite and the Lambda stub accept any.
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      AWS_REGION: 'eu-west-1',
    };
    for (const [key, value] of Object.entries(overrides)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
    await new DynamoDBClient({ region: 'eu-west-1' }).send(new CreateTableCommand({ TableName: 'offline-cache', ...CACHE_TABLE_SCHEMA }));
    await new S3Client(s3ClientOptions(s3.endpoint)).send(new CreateBucketCommand({ Bucket: 'offline-results' }));
    snsMock.on(PublishCommand).resolves({ MessageId: 'm1' });
    secretsMock.on(GetSecretValueCommand).resolves({ SecretString: 'offline-qualys-token' });
  });

  after(async () => {
    for (const [key, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    snsMock.restore();
    sqsMock.restore();
    secretsMock.restore();
    await lambda?.stop();
    await s3?.stop();
    await dynamo?.stop();
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it('scans a stub function end to end through the SDK endpoint variables', async () => {
    const arn = lambda.putFunction({ name: 'orders-api', pendingReads: 1 });
    const handler = createScannerHandlerFromEnv({
      env: {
        ...process.env,
        RESULTS_BUCKET: 'offline-results',
        CACHE_TABLE: 'offline-cache',
        FINDINGS_TOPIC_ARN: 'arn:aws:sns:eu-west-1:123456789012:findings',
        QUALYS_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:qualys',
        QUALYS_POD: 'US2',
        QSCANNER_PATH: FAKE_QSCANNER_PATH,
        QSCANNER_CACHE_DIR: path.join(tmp, 'cache'),
        S3_FORCE_PATH_STYLE: 'true',
        READY_WAIT_SEC: '10',
        SCAN_TIMEOUT_SEC: '30',
      },
    });
    const { stdout, stderr } = { stdout: process.stdout.write, stderr: process.stderr.write };
    const lines: string[] = [];
    process.stdout.write = process.stderr.write = ((chunk: string) => (lines.push(String(chunk)), true)) as typeof process.stdout.write;
    let response;
    try {
      response = await handler(sqsEvent([{ functionArn: arn, reason: 'bulk' }]), lambdaContextIn('123456789012', 300_000, 'shipscan-scanner', 'eu-west-1'));
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
    expect(lines.join(''), 'logs').not.to.include('offline-qualys-token');
    expect(response.batchItemFailures, lines.filter((line) => line.includes('"ERROR"')).join('\n')).to.deep.equal([]);
    expect(lambda.calls.map((c) => c.operation)).to.include.members(['GetFunction', 'TagResource']);
    expect(lambda.tagsOf(arn).ShipscanStatus).to.equal('COMPLETED');
    const listed = await new S3Client(s3ClientOptions(s3.endpoint)).send(new ListObjectsV2Command({ Bucket: 'offline-results', Prefix: 'results/123456789012/eu-west-1/orders-api/' }));
    expect(listed.Contents).to.have.length(1);
    expect(snsMock.commandCalls(PublishCommand)).to.have.length(1);
  });

  it('a missing variable stops the handler at construction with the variable named', () => {
    expect(() => createScannerHandlerFromEnv({ env: { AWS_REGION: 'eu-west-1' } })).to.throw(EnvError, /RESULTS_BUCKET/);
  });
});
