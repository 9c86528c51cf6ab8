import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SendEmailCommand, SESv2Client, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import { PublishCommand, SNSClient, type PublishCommandInput } from '@aws-sdk/client-sns';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { DynamoFindingStore } from '../../../functions/aws/findings-store';
import { createSecurityEventsHandlerFromEnv, type SecurityEventsOverrides } from '../../../functions/aws/security-events/from-env';
import type { SecurityEventsHandler } from '../../../functions/aws/security-events/handler';
import type { SecurityEventOutcome } from '../../../functions/aws/security-events/pipeline';
import { startDynalite } from '../../../local/emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../../../local/emulators/s3rver';
import { lambdaContext, sqsEvent } from '../../../local/lambda-invocation';
import type { FindingsConfig } from '../../../shared/findings/config';
import type { StoredFinding } from '../../../shared/findings/store';
import { findingsTableSchema } from '../../../shared/findings/tables';

/**
 * The security-events function on dynalite (findings table) and s3rver (unprocessable records), with the
 * production wiring (createSecurityEventsHandlerFromEnv) and aws-sdk-client-mock for the APIs without an
 * emulator here (SNS, SES, Secrets Manager). Every handler built gets its own DynamoDB client, as separate
 * Lambda containers would. Powertools logs and EMF metrics are captured from stdout and stderr.
 */

export const TOPIC = 'arn:aws:sns:us-east-1:111111111111:shipscan-findings';
export const QUEUE_ARN = 'arn:aws:sqs:us-east-1:111111111111:shipscan-security-events';
export const NOTIFY_SECRET = 'arn:aws:secretsmanager:us-east-1:111111111111:secret:shipscan/notify-AbCdEf';
export const FROM = 'shipscan@example.com';
export const TO = ['secops@example.com'];

let isolation = 0;

export class SecurityEventsHarness {
  private stops: (() => Promise<void>)[] = [];
  private dynamoEndpoint = '';
  private readonly clients: DynamoDBClient[] = [];
  s3!: S3Client;
  table = '';
  bucket = '';
  sns = new SNSClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
  ses = new SESv2Client({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
  secrets = new SecretsManagerClient({ region: 'us-east-1', credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' } });
  snsMock!: AwsClientStub<SNSClient>;
  sesMock!: AwsClientStub<SESv2Client>;
  secretsMock!: AwsClientStub<SecretsManagerClient>;
  output: string[] = [];
  outcomes: { record: SQSRecord; outcome: SecurityEventOutcome }[] = [];
  private savedMetricsFlag: string | undefined;

  async start(): Promise<void> {
    const dynamo = await startDynalite();
    this.stops.push(dynamo.stop);
    this.dynamoEndpoint = dynamo.endpoint;
    const s3 = await startS3rver();
    this.stops.push(s3.stop);
    this.s3 = new S3Client(s3ClientOptions(s3.endpoint));
    // Another suite's offline stack may have switched EMF off for the process; these tests read it.
    this.savedMetricsFlag = process.env.POWERTOOLS_METRICS_DISABLED;
    delete process.env.POWERTOOLS_METRICS_DISABLED;
  }

  async stop(): Promise<void> {
    for (const mock of [this.snsMock, this.sesMock, this.secretsMock]) mock?.restore();
    for (const stop of this.stops.reverse()) await stop();
    this.stops = [];
    this.s3?.destroy();
    for (const client of this.clients) client.destroy();
    if (this.savedMetricsFlag !== undefined) process.env.POWERTOOLS_METRICS_DISABLED = this.savedMetricsFlag;
  }

  /** A fresh table, bucket, mocks and captured output for one test. */
  async reset(): Promise<void> {
    isolation += 1;
    this.table = `findings-${isolation}`;
    this.bucket = `results-${isolation}`;
    await this.dynamo().send(new CreateTableCommand({ TableName: this.table, ...findingsTableSchema() }));
    await this.s3.send(new CreateBucketCommand({ Bucket: this.bucket }));
    for (const mock of [this.snsMock, this.sesMock, this.secretsMock]) mock?.restore();
    this.snsMock = mockClient(this.sns);
    this.sesMock = mockClient(this.ses);
    this.secretsMock = mockClient(this.secrets);
    let published = 0;
    this.snsMock.on(PublishCommand).callsFake(async () => ({ MessageId: `msg-${++published}` }));
    let sent = 0;
    // Async: Nodemailer chains `.then` on what send() returns.
    this.sesMock.on(SendEmailCommand).callsFake(async () => ({ MessageId: `ses-${++sent}` }));
    this.secretsMock.on(GetSecretValueCommand).rejects(new Error('no notify secret in this test'));
    this.output = [];
    this.outcomes = [];
  }

  /** A DynamoDB document client of its own (its own connections). */
  dynamo(): DynamoDBDocumentClient {
    const raw = new DynamoDBClient({ endpoint: this.dynamoEndpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
    this.clients.push(raw);
    return DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  }

  store(): DynamoFindingStore {
    return new DynamoFindingStore(this.dynamo(), this.table);
  }

  env(settings: Partial<FindingsConfig> = {}, extra: Record<string, string> = {}): Record<string, string> {
    return {
      FINDINGS_TABLE: this.table,
      FINDINGS_TOPIC_ARN: TOPIC,
      RESULTS_BUCKET: this.bucket,
      FINDINGS_SETTINGS: JSON.stringify({ email: { from: FROM, to: TO }, ...settings }),
      POWERTOOLS_SERVICE_NAME: 'shipscan-security-events',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
      METRICS_NAMESPACE: 'Shipscan',
      AWS_REGION: 'us-east-1',
      ...extra,
    };
  }

  /** A cold start: the production wiring with this harness's clients. */
  handler(options: { settings?: Partial<FindingsConfig>; env?: Record<string, string>; overrides?: SecurityEventsOverrides } = {}): SecurityEventsHandler {
    return createSecurityEventsHandlerFromEnv({
      env: this.env(options.settings, options.env),
      clients: { sns: this.sns, ses: this.ses, secrets: this.secrets, s3: this.s3, dynamo: this.dynamo() },
      onOutcome: (record, outcome) => this.outcomes.push({ record, outcome }),
      ...options.overrides,
    });
  }

  /** Runs the handler on one SQS batch of `bodies`, stdout and stderr captured into `output` (also when invocations overlap). */
  async invoke(handler: SecurityEventsHandler, bodies: readonly unknown[], receiveCount = 1): Promise<{ response: SQSBatchResponse; records: SQSRecord[] }> {
    const event = sqsEvent(bodies, QUEUE_ARN, receiveCount);
    this.startCapture();
    try {
      return { response: await handler(event, lambdaContext(60_000, 'shipscan-security-events')), records: event.Records };
    } finally {
      this.endCapture();
    }
  }

  private capturing = 0;
  private saved?: { stdout: typeof process.stdout.write; stderr: typeof process.stderr.write };

  private startCapture(): void {
    if (this.capturing++ > 0) return;
    this.saved = { stdout: process.stdout.write, stderr: process.stderr.write };
    const capture = ((chunk: string | Uint8Array) => {
      this.output.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write;
    process.stdout.write = capture;
    process.stderr.write = capture;
  }

  private endCapture(): void {
    if (--this.capturing > 0 || !this.saved) return;
    process.stdout.write = this.saved.stdout;
    process.stderr.write = this.saved.stderr;
    this.saved = undefined;
  }

  published(): PublishCommandInput[] {
    return this.snsMock.commandCalls(PublishCommand).map((call) => call.args[0].input);
  }

  emails(): SendEmailCommandInput[] {
    return this.sesMock.commandCalls(SendEmailCommand).map((call) => call.args[0].input);
  }

  async findings(): Promise<StoredFinding[]> {
    const store = this.store();
    return [...(await store.query({ state: 'ACTIVE' })), ...(await store.query({ state: 'RESOLVED' })), ...(await store.query({ state: 'SUPPRESSED' }))];
  }

  async unprocessableKeys(): Promise<string[]> {
    const listed = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: 'security-events/unprocessable/' }));
    return (listed.Contents ?? []).map((o) => o.Key!).sort();
  }

  async readObject(key: string): Promise<string> {
    return (await (await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body!.transformToString()) ?? '';
  }

  jsonLines(): Record<string, unknown>[] {
    return this.output
      .join('')
      .split('\n')
      .filter((line) => line.trim().startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  }

  /** Sum of a metric over the EMF documents whose dimension set is exactly `service` plus `extra`. */
  metricSum(name: string, extra: Record<string, string> = {}): number {
    const wanted = ['service', ...Object.keys(extra)].sort().join(',');
    return this.jsonLines()
      .filter((line) => line._aws && name in line)
      .filter((line) => {
        const sets = ((line._aws as { CloudWatchMetrics?: { Dimensions?: string[][] }[] }).CloudWatchMetrics ?? []).flatMap((c) => c.Dimensions ?? []);
        return sets.some((set) => [...set].sort().join(',') === wanted) && Object.entries(extra).every(([key, value]) => line[key] === value);
      })
      .flatMap((line) => (Array.isArray(line[name]) ? (line[name] as unknown[]) : [line[name]]))
      .reduce((sum: number, value) => sum + Number(value), 0);
  }

  logs(message: string): Record<string, unknown>[] {
    return this.jsonLines().filter((line) => line.message === message);
  }
}
