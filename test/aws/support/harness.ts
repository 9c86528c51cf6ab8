import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { sqsEvent as localSqsEvent } from '../../../local/lambda-invocation';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetFunctionCommand, LambdaClient, TagResourceCommand, type GetFunctionCommandOutput } from '@aws-sdk/client-lambda';
import { ECRClient, GetAuthorizationTokenCommand, DescribeImagesCommand } from '@aws-sdk/client-ecr';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { ChangeMessageVisibilityCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { Context, SQSEvent, SQSRecord } from 'aws-lambda';
import { lambdaContext } from './lambda-context';

export { lambdaContext };
import { runQScanner } from '../../../shared/qualys';
import type { QScannerRunOptions } from '../../../shared/qualys/contracts';
import { FAKE_QSCANNER_PATH } from '../../../local/fake-qscanner';
import { startDynalite } from '../../../local/emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../../../local/emulators/s3rver';
import { AccountClients, SpokeCredentials } from '../../../functions/aws/account-access';
import type { SpokeRole } from '../../../functions/aws/env';
import { QualysTokenProvider } from '../../../functions/aws/qualys-token';
import { ResultStore } from '../../../functions/aws/result-store';
import { CACHE_TABLE_SCHEMA, ScanCache } from '../../../functions/aws/scan-cache';
import { createQScannerEngine, type ScanEngine } from '../../../functions/aws/scan-engine';
import { createScannerHandler, type ScannerHandler } from '../../../functions/aws/scanner/handler';
import type { PipelineSettings, RecordOutcome } from '../../../functions/aws/scanner/pipeline';

/**
 * The scanner wired to real emulators (dynalite, s3rver), the real QScanner runner with the fake
 * qscanner child, and aws-sdk-client-mock for the APIs without an emulator (Lambda, STS, SNS, SQS,
 * ECR, Secrets Manager). Lambda functions live in an in-memory registry the GetFunction and
 * TagResource mocks read and write.
 */

/** Each test gets its own table and bucket (see `reset`), so no cache entry or object leaks between tests. */
let isolation = 0;
export const TOPIC = 'arn:aws:sns:us-east-1:111111111111:shipscan-findings';
export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111111111111:shipscan-scan';
export const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/111111111111/shipscan-scan';
/** Secret values planted to prove they never reach logs or argv. */
export const QUALYS_TOKEN = 'qualys-token-Zq9XvT3kLp0sWm7R';
export const SPOKE_SECRET_KEY = 'spoke-secret-key-Hn4Bc8Vy1Qe6';
export const SPOKE_SESSION_TOKEN = 'spoke-session-token-Jr2Kd5Fw9';
export const ECR_PASSWORD = 'ecr-password-Tm3Gx7Pz2';
/** The account the scanner runs in unless a test says otherwise (the corpus CreateFunction variant's). */
export const OWN_ACCOUNT_ID = '101010101010';

export interface FunctionState {
  output: GetFunctionCommandOutput;
  /** GetFunction answers from `pending` first (one per call), then from `output`. */
  pending?: GetFunctionCommandOutput[];
  tags: Record<string, string>;
}

export class Harness {
  dynamoEndpoint = '';
  s3Endpoint = '';
  private stops: (() => Promise<void>)[] = [];
  s3!: S3Client;
  doc!: DynamoDBDocumentClient;
  lambdaMock!: AwsClientStub<LambdaClient>;
  stsMock!: AwsClientStub<STSClient>;
  snsMock!: AwsClientStub<SNSClient>;
  sqsMock!: AwsClientStub<SQSClient>;
  ecrMock!: AwsClientStub<ECRClient>;
  secretsMock!: AwsClientStub<SecretsManagerClient>;
  functions = new Map<string, FunctionState>();
  tmp = '';
  qscannerLog = '';
  output: string[] = [];
  table = '';
  bucket = '';
  private savedEnv: Record<string, string | undefined> = {};

  async start(): Promise<void> {
    const dynamo = await startDynalite();
    this.stops.push(dynamo.stop);
    const s3 = await startS3rver();
    this.stops.push(s3.stop);
    this.dynamoEndpoint = dynamo.endpoint;
    this.s3Endpoint = s3.endpoint;
    this.s3 = new S3Client(s3ClientOptions(s3.endpoint));
    const dynamoClient = new DynamoDBClient({ endpoint: dynamo.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    this.doc = DynamoDBDocumentClient.from(dynamoClient, { marshallOptions: { removeUndefinedValues: true } });
    this.tmp = await mkdtemp(path.join(os.tmpdir(), 'shipscan-aws-test-'));
    this.qscannerLog = path.join(this.tmp, 'qscanner.log');
    for (const key of ['FAKE_QSCANNER_LOG', 'FAKE_QSCANNER_SLOW_MS', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_REGION']) this.savedEnv[key] = process.env[key];
    process.env.FAKE_QSCANNER_LOG = this.qscannerLog;
    process.env.FAKE_QSCANNER_SLOW_MS = '60000';
    // The SDK's default chain must find something for the clients the mocks intercept.
    process.env.AWS_ACCESS_KEY_ID = 'AKIDSCANNERROLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'scanner-role-secret';
    process.env.AWS_REGION = 'us-east-1';
  }

  async stop(): Promise<void> {
    // Class-level mocks outlive this file otherwise and would intercept other suites' real clients.
    for (const mock of [this.lambdaMock, this.stsMock, this.snsMock, this.sqsMock, this.ecrMock, this.secretsMock]) mock?.restore();
    for (const stop of this.stops.reverse()) await stop();
    this.stops = [];
    this.s3?.destroy();
    this.doc?.destroy();
    for (const [key, value] of Object.entries(this.savedEnv)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true });
  }

  /** Fresh table, bucket, mocks, registry and captured output for one test. */
  async reset(): Promise<void> {
    isolation += 1;
    this.table = `shipscan-cache-${isolation}`;
    this.bucket = `shipscan-results-${isolation}`;
    await this.doc.send(new CreateTableCommand({ TableName: this.table, ...CACHE_TABLE_SCHEMA }));
    await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    this.functions.clear();
    this.output = [];
    this.lambdaMock?.restore();
    this.stsMock?.restore();
    this.snsMock?.restore();
    this.sqsMock?.restore();
    this.ecrMock?.restore();
    this.secretsMock?.restore();
    this.lambdaMock = mockClient(LambdaClient);
    this.stsMock = mockClient(STSClient);
    this.snsMock = mockClient(SNSClient);
    this.sqsMock = mockClient(SQSClient);
    this.ecrMock = mockClient(ECRClient);
    this.secretsMock = mockClient(SecretsManagerClient);
    this.lambdaMock.on(GetFunctionCommand).callsFake((input: { FunctionName?: string }) => {
      const state = this.functions.get(input.FunctionName ?? '');
      if (!state) {
        const error = new Error(`Function not found: ${input.FunctionName}`);
        error.name = 'ResourceNotFoundException';
        throw error;
      }
      const next = state.pending?.shift() ?? state.output;
      return { ...next, Tags: { ...state.tags } };
    });
    this.lambdaMock.on(TagResourceCommand).callsFake((input: { Resource?: string; Tags?: Record<string, string> }) => {
      const state = this.functions.get(input.Resource ?? '');
      if (!state) throw Object.assign(new Error('not found'), { name: 'ResourceNotFoundException' });
      Object.assign(state.tags, input.Tags);
      return {};
    });
    this.stsMock.on(AssumeRoleCommand).callsFake((input: { RoleArn?: string }) => ({
      Credentials: {
        AccessKeyId: `ASIA${(input.RoleArn ?? '').replace(/[^0-9]/g, '').slice(0, 12)}`,
        SecretAccessKey: SPOKE_SECRET_KEY,
        SessionToken: SPOKE_SESSION_TOKEN,
        Expiration: new Date(Date.now() + 3600_000),
      },
    }));
    let published = 0;
    this.snsMock.on(PublishCommand).callsFake(() => ({ MessageId: `msg-${++published}` }));
    this.sqsMock.on(ChangeMessageVisibilityCommand).resolves({});
    this.ecrMock.on(GetAuthorizationTokenCommand).resolves({
      authorizationData: [{ authorizationToken: Buffer.from(`AWS:${ECR_PASSWORD}`).toString('base64'), proxyEndpoint: 'https://x' }],
    });
    this.ecrMock.on(DescribeImagesCommand).resolves({});
    this.secretsMock.on(GetSecretValueCommand).resolves({ SecretString: JSON.stringify({ accessToken: QUALYS_TOKEN }) });
  }

  addFunction(arn: string, output: GetFunctionCommandOutput, options: { pending?: GetFunctionCommandOutput[]; tags?: Record<string, string> } = {}): FunctionState {
    const state: FunctionState = { output, ...(options.pending ? { pending: [...options.pending] } : {}), tags: { ...(options.tags ?? {}) } };
    this.functions.set(arn, state);
    return state;
  }

  settings(overrides: Partial<PipelineSettings> = {}): PipelineSettings {
    return {
      resultsBucket: this.bucket,
      findingsTopicArn: TOPIC,
      cacheTtlDays: 30,
      partialCacheTtlMinutes: 60,
      severityThreshold: 'HIGH',
      tagFunctions: true,
      selfFunctionNames: new Set(['shipscan-scanner', 'shipscan-bulk']),
      scanTimeoutMs: 60_000,
      readyWaitMs: 30_000,
      retryDelaySec: 60,
      lockTtlMs: 900_000,
      scanProfile: 'pkg+secret',
      ...overrides,
    };
  }

  /** The real runner and fake qscanner; `runs` receives the options of every run (the fake logs env names only, not values). */
  realEngine(runs?: QScannerRunOptions[]): ScanEngine {
    const tokens = new QualysTokenProvider(new SecretsManagerClient({ region: 'us-east-1' }), 'arn:aws:secretsmanager:us-east-1:111111111111:secret:qualys');
    return createQScannerEngine({
      run: (options) => {
        runs?.push(options);
        return runQScanner(options);
      },
      binaryPath: FAKE_QSCANNER_PATH,
      pod: 'US2',
      cacheDir: path.join(this.tmp, 'cache'),
      tmpRoot: this.tmp,
      accessToken: () => tokens.token(),
    });
  }

  handler(
    options: {
      settings?: Partial<PipelineSettings>;
      engine?: ScanEngine;
      spokes?: SpokeRole[];
      outcomes?: RecordOutcome[];
      now?: () => number;
      sleep?: (ms: number) => Promise<void>;
      /** Account of the scanner's invokedFunctionArn (default OWN_ACCOUNT_ID). */
      ownAccount?: string;
      /** Options of every qscanner run (see realEngine). */
      runs?: QScannerRunOptions[];
    } = {},
  ): ScannerHandler {
    // Logger and metrics write through process.stdout/stderr, which `invoke` captures.
    const logger = new Logger({ serviceName: 'shipscan-scanner', logLevel: 'DEBUG' });
    const metrics = new Metrics({ serviceName: 'shipscan-scanner', namespace: 'Shipscan' });
    const outcomes = options.outcomes;
    const invokedFunctionArn = `arn:aws:lambda:us-east-1:${options.ownAccount ?? OWN_ACCOUNT_ID}:function:shipscan-scanner`;
    const handler = createScannerHandler({
      settings: this.settings(options.settings),
      accounts: new AccountClients(new SpokeCredentials(new STSClient({ region: 'us-east-1' }), options.spokes ?? [])),
      cache: new ScanCache(this.doc, this.table),
      store: new ResultStore(this.s3, this.bucket),
      sns: new SNSClient({ region: 'us-east-1' }),
      sqs: new SQSClient({ region: 'us-east-1' }),
      engine: options.engine ?? this.realEngine(options.runs),
      logger,
      metrics,
      sleep: options.sleep ?? (async () => {}),
      ...(options.now ? { now: options.now } : {}),
      ...(outcomes ? { onOutcome: (_record: SQSRecord, outcome: RecordOutcome) => outcomes.push(outcome) } : {}),
    });
    // Lambda tells the function where it runs through the context; the scanner takes its own account from it.
    return (event: SQSEvent, context: Context) => handler(event, { ...context, invokedFunctionArn });
  }

  /** Runs the handler with stdout captured into `output`. */
  async invoke(handler: ScannerHandler, bodies: unknown[], remainingMs = 600_000, receiveCount = 1) {
    const event = localSqsEvent(bodies, QUEUE_ARN, receiveCount);
    // Powertools writes INFO/DEBUG and EMF to stdout, WARN/ERROR to stderr: capture both.
    const stdout = process.stdout.write;
    const stderr = process.stderr.write;
    const capture = ((chunk: string | Uint8Array) => {
      this.output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
    try {
      return { event, response: await handler(event, lambdaContext(remainingMs)) };
    } finally {
      process.stdout.write = stdout;
      process.stderr.write = stderr;
    }
  }

  async qscannerRuns(): Promise<{ argv: string[]; envKeys: string[]; tokenSha256: string | null }[]> {
    try {
      return (await readFile(this.qscannerLog, 'utf8'))
        .split('\n')
        .filter((line) => line.trim())
        .map((line) => JSON.parse(line));
    } catch {
      return [];
    }
  }

  async clearQscannerLog(): Promise<void> {
    await rm(this.qscannerLog, { force: true });
  }

  async listResults(prefix = 'results/'): Promise<string[]> {
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix }));
    return (listed.Contents ?? []).map((object) => object.Key!).sort();
  }

  async readResult(key: string): Promise<unknown> {
    const object = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    return JSON.parse(await object.Body!.transformToString());
  }

  async cacheItem(pk: string): Promise<Record<string, unknown> | undefined> {
    return (await this.doc.send(new GetCommand({ TableName: this.table, Key: { pk }, ConsistentRead: true }))).Item;
  }

  published(): PublishCommandInput[] {
    return this.snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
  }

  /** Structured log lines and EMF documents written during the invocations. */
  jsonLines(): Record<string, unknown>[] {
    return this.output
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /**
   * Sum of a metric over the EMF documents whose dimension set is exactly `service` plus `extra`
   * (repeated values in one document come as an array). The default is the series an alarm on
   * {service} sees: CloudWatch keeps each dimension set apart.
   */
  metricSum(name: string, extra: Record<string, string> = {}): number {
    const wanted = ['service', ...Object.keys(extra)].sort().join(',');
    return this.metricValues(name)
      .filter((m) => {
        const sets = ((m.dimensions._aws as { CloudWatchMetrics?: { Dimensions?: string[][] }[] } | undefined)?.CloudWatchMetrics ?? []).flatMap((c) => c.Dimensions ?? []);
        return sets.some((set) => [...set].sort().join(',') === wanted) && Object.entries(extra).every(([key, value]) => m.dimensions[key] === value);
      })
      .flatMap((m) => (Array.isArray(m.value) ? m.value : [m.value]))
      .reduce((sum: number, value) => sum + Number(value), 0);
  }

  /** Metric names and values from the EMF documents. */
  metricValues(name: string): { value: unknown; dimensions: Record<string, unknown> }[] {
    return this.jsonLines()
      .filter((line) => line._aws && name in line)
      .map((line) => ({ value: line[name], dimensions: line }));
  }
}

/** One SQS record per body on the test queue. */
export function sqsEvent(bodies: unknown[]): SQSEvent {
  return localSqsEvent(bodies, QUEUE_ARN);
}

/** GetFunction output for a zip function. */
export function zipFunction(arn: string, codeSha256: string, extra: Partial<NonNullable<GetFunctionCommandOutput['Configuration']>> = {}): GetFunctionCommandOutput {
  const name = arn.split(':')[6]!;
  return {
    $metadata: {},
    Configuration: { FunctionName: name, FunctionArn: arn, Runtime: 'nodejs22.x', CodeSha256: codeSha256, PackageType: 'Zip', State: 'Active', LastUpdateStatus: 'Successful', ...extra },
    Code: { RepositoryType: 'S3', Location: 'https://example.invalid/code.zip' },
  };
}
