/**
 * The AWS half of the embedded stack: dynalite (cache and findings tables), s3rver (results bucket), the
 * Lambda API stub and the fake qscanner, with the scanner and security-events handlers built by the SAME
 * production wiring as in Lambda (`createScannerHandlerFromEnv`, `createSecurityEventsHandlerFromEnv`),
 * reaching the emulators through the SDK's endpoint variables. SNS, SES, SQS visibility changes and
 * Secrets Manager are answered in-process (no emulator exists here); published findings are kept for the
 * summary, and each finding email is kept in `mail` (the run folder writes it as .eml and .html).
 *
 * The scanner runs in LOCAL_ACCOUNT (its invokedFunctionArn says so). Like a hub, it reads other
 * accounts only through configured spokes, so every other account an event names is added as a
 * spoke (`addSpokeAccount`), with STS AssumeRole and ECR logins answered in process.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import * as os from 'node:os';
import * as path from 'node:path';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { ECRClient } from '@aws-sdk/client-ecr';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { Context, SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { ClientDecorator } from '../../functions/aws/account-access';
import { createScannerHandlerFromEnv } from '../../functions/aws/scanner/from-env';
import { createObjectHandlerFromEnv } from '../../functions/aws/artifacts/from-env';
import type { ObjectOutcome } from '../../functions/aws/artifacts/object-pipeline';
import type { RecordOutcome } from '../../functions/aws/scanner/pipeline';
import { CACHE_TABLE_SCHEMA } from '../../functions/aws/scan-cache';
import { DynamoFindingStore } from '../../functions/aws/findings-store';
import { createSecurityEventsHandlerFromEnv } from '../../functions/aws/security-events/from-env';
import type { SecurityEventOutcome } from '../../functions/aws/security-events/pipeline';
import type { StoredFinding } from '../../shared/findings/store';
import { findingsTableSchema } from '../../shared/findings/tables';
import { FINDING_STATES } from '../../shared/findings/finding';
import { startDynalite, type RunningEmulator } from '../emulators/dynalite';
import { s3ClientOptions, startS3rver } from '../emulators/s3rver';
import { FAKE_QSCANNER_PATH } from '../fake-qscanner';
import { startLambdaApiStub, type LambdaApiStub } from '../lambda-api-stub';
import { lambdaContext, sqsEvent } from '../lambda-invocation';
import { answerLocally, type LocalCall } from './local-answers';
import { LOCAL_MAIL, MailOutbox } from './mail-outbox';

export const LOCAL_ACCOUNT = '123456789012';
export const LOCAL_REGION = 'us-east-1';
export const RESULTS_BUCKET = 'shipscan-results';
export const CACHE_TABLE = 'shipscan-cache';
/** The role the local object scanner assumes in accounts other than LOCAL_ACCOUNT (as the StackSet's reader role). */
export const LOCAL_OBJECT_ROLE = 'shipscan-object-reader';
export const LOCAL_OBJECT_QUEUE_ARN = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:shipscan-objects`;
export const FINDINGS_TABLE = 'shipscan-findings';
const FINDINGS_TOPIC_ARN = `arn:aws:sns:${LOCAL_REGION}:${LOCAL_ACCOUNT}:shipscan-findings`;
const SECURITY_EVENTS_QUEUE_ARN = `arn:aws:sqs:${LOCAL_REGION}:${LOCAL_ACCOUNT}:shipscan-security-events-queue`;
const QUALYS_SECRET_ARN = `arn:aws:secretsmanager:${LOCAL_REGION}:${LOCAL_ACCOUNT}:secret:shipscan-qualys-AbCdEf`;
/** s3rver accepts only its default key pair; dynalite and the Lambda stub accept any. */
const LOCAL_CREDENTIALS = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' };

export interface InvocationResult {
  /** The batch as delivered, one record per body, in the order of the bodies. */
  records: SQSRecord[];
  /** In processing order; `atMs` is when the record's outcome was known, from the invocation's start. */
  outcomes: { record: SQSRecord; outcome: RecordOutcome; atMs: number }[];
  response: SQSBatchResponse;
}

export interface ObjectInvocationResult {
  records: SQSRecord[];
  /** Per record, the outcome of each object its message announced. */
  outcomes: { record: SQSRecord; outcomes: ObjectOutcome[] }[];
  response: SQSBatchResponse;
}

/** One security-events invocation: the batch as delivered and each record's outcome. */
export interface SecurityInvocationResult {
  records: SQSRecord[];
  outcomes: { record: SQSRecord; outcome: SecurityEventOutcome }[];
  response: SQSBatchResponse;
}

export interface LocalAwsStack {
  lambda: LambdaApiStub;
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** SNS Publish calls the scanner made (findings notifications). */
  published: LocalCall[];
  /** Hands the bodies to the scanner as one SQS batch, the way the event source mapping does. */
  invoke(bodies: readonly unknown[]): Promise<InvocationResult>;
  /** Hands the bodies to the object scanner (artifacts) as one SQS batch; `receiveCount` as SQS would count. */
  invokeObjects(bodies: readonly unknown[], receiveCount?: number): Promise<ObjectInvocationResult>;
  /** Creates the bucket in s3rver when it does not exist yet and stores the bytes (or a file's, streamed) under the key. */
  putObject(bucket: string, key: string, body: Buffer | string | { path: string }): Promise<void>;
  /** Creates the bucket in s3rver when it does not exist yet (an object event names a bucket that exists). */
  ensureBucket(bucket: string): Promise<void>;
  /** STS AssumeRole calls the object scanner made (role ARNs and ExternalIds). */
  assumedRoles: LocalCall[];
  /** Hands the bodies to the security-events handler as one SQS batch (its queue's event source). */
  invokeSecurityEvents(bodies: readonly unknown[]): Promise<SecurityInvocationResult>;
  /** Every finding in the findings table, in every state. */
  findings(): Promise<StoredFinding[]>;
  /** The finding emails the security-events handler sent (SES answered here; nothing leaves the machine). */
  mail: MailOutbox;
  /**
   * Lets the scanner read another account, as a hub reads a configured spoke (role, ExternalId).
   * LOCAL_ACCOUNT itself is the scanner's own account and needs none.
   */
  addSpokeAccount(account: string): void;
  stop(): Promise<void>;
}

export interface LocalAwsStackOptions {
  /** Powertools log level for the handler (default SILENT: the runner prints its own progress). */
  logLevel?: string;
  /** Object scanner environment beyond the local defaults (MAX_OBJECT_MB, EXCLUDE_PREFIXES...). */
  objectEnv?: Record<string, string>;
}

export async function startLocalAwsStack(options: LocalAwsStackOptions = {}): Promise<LocalAwsStack> {
  const started: { stop(): Promise<void> }[] = [];
  try {
    const dynamo: RunningEmulator = await startDynalite();
    started.push(dynamo);
    const s3: RunningEmulator = await startS3rver();
    started.push(s3);
    const lambda = await startLambdaApiStub({ defaultAccount: LOCAL_ACCOUNT, defaultRegion: LOCAL_REGION });
    started.push(lambda);
    const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-qscanner-cache-'));
    started.push({ stop: () => rm(cacheDir, { recursive: true, force: true }) });

    // The SDK reads endpoint overrides from the process environment, as it would in Lambda. Stopping the
    // stack puts the previous values back: code that runs in the same process afterwards (a test suite that
    // counts metrics, say) must not inherit the stack's endpoints or its disabled metrics.
    const stackEnv: Record<string, string> = {
      ...LOCAL_CREDENTIALS,
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      AWS_ENDPOINT_URL_S3: s3.endpoint,
      AWS_ENDPOINT_URL_LAMBDA: lambda.endpoint,
      POWERTOOLS_LOG_LEVEL: options.logLevel ?? 'SILENT',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_TRACE_ENABLED: 'false',
    };
    const previousEnv = Object.fromEntries(Object.keys(stackEnv).map((key) => [key, process.env[key]]));
    started.push({
      stop: async () => {
        for (const [key, value] of Object.entries(previousEnv)) {
          if (value === undefined) delete process.env[key];
          else process.env[key] = value;
        }
      },
    });
    Object.assign(process.env, stackEnv);
    const credentials = { accessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, secretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY };
    await new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamo.endpoint, credentials }).send(
      new CreateTableCommand({ TableName: CACHE_TABLE, ...CACHE_TABLE_SCHEMA }),
    );
    const findingsDynamo = new DynamoDBClient({ region: LOCAL_REGION, endpoint: dynamo.endpoint, credentials });
    started.push({ stop: async () => findingsDynamo.destroy() });
    await findingsDynamo.send(new CreateTableCommand({ TableName: FINDINGS_TABLE, ...findingsTableSchema() }));
    const findingStore = new DynamoFindingStore(DynamoDBDocumentClient.from(findingsDynamo, { marshallOptions: { removeUndefinedValues: true } }), FINDINGS_TABLE);
    await new S3Client(s3ClientOptions(s3.endpoint)).send(new CreateBucketCommand({ Bucket: RESULTS_BUCKET }));

    const published: LocalCall[] = [];
    let messageNumber = 0;
    const sns = answerLocally(new SNSClient({ region: LOCAL_REGION }), () => ({ MessageId: `local-${++messageNumber}` }), published);
    const sqs = answerLocally(new SQSClient({ region: LOCAL_REGION }), () => ({}));
    // Any token satisfies the fake qscanner; the value exists only in this process and the child's env.
    const secrets = answerLocally(new SecretsManagerClient({ region: LOCAL_REGION }), () => ({ SecretString: JSON.stringify({ accessToken: 'offline-token' }) }));
    // Spoke roles: the Lambda stub accepts any signature, so made-up session credentials do.
    const sts = answerLocally(new STSClient({ region: LOCAL_REGION }), () => ({
      Credentials: { AccessKeyId: 'ASIALOCALSPOKE', SecretAccessKey: 'local-spoke-secret', SessionToken: 'local-spoke-session', Expiration: new Date(Date.now() + 3_600_000) },
    }));
    // No ECR emulator: a spoke image's registry login is answered here (the fake qscanner pulls nothing).
    const decorate: ClientDecorator = (client) =>
      client instanceof ECRClient
        ? answerLocally(client, (call) =>
            call.command === 'GetAuthorizationTokenCommand'
              ? { authorizationData: [{ authorizationToken: Buffer.from('AWS:local-ecr-password').toString('base64'), proxyEndpoint: 'https://local.invalid' }] }
              : {},
          )
        : client;

    // Invocations may run concurrently (as Lambda does up to the maximum concurrency): keep each one's outcomes apart.
    const outcomesByMessage = new Map<string, { outcome: RecordOutcome; at: number }>();
    const spokeAccounts = new Set<string>();
    const build = () => createScannerHandlerFromEnv({
      env: {
        ...process.env,
        RESULTS_BUCKET,
        CACHE_TABLE,
        FINDINGS_TOPIC_ARN,
        QUALYS_SECRET_ARN,
        QUALYS_POD: 'US2',
        CACHE_TTL_DAYS: '30',
        SEVERITY_THRESHOLD: 'HIGH',
        TAG_FUNCTIONS: 'true',
        SELF_FUNCTION_NAMES: 'shipscan-scanner,shipscan-bulk',
        QSCANNER_PATH: FAKE_QSCANNER_PATH,
        QSCANNER_CACHE_DIR: cacheDir,
        S3_FORCE_PATH_STYLE: 'true',
        POWERTOOLS_SERVICE_NAME: 'shipscan-scanner',
        METRICS_NAMESPACE: 'Shipscan',
        READY_WAIT_SEC: '10',
        RETRY_DELAY_SEC: '1',
        SPOKE_ROLES: JSON.stringify(
          [...spokeAccounts].map((accountId) => ({ accountId, roleArn: `arn:aws:iam::${accountId}:role/shipscan-spoke`, externalId: `local-${accountId}` })),
        ),
      },
      clients: { sns, sqs, secrets, sts, decorate },
      onOutcome: (record, outcome) => outcomesByMessage.set(record.messageId, { outcome, at: performance.now() }),
    });
    // SPOKE_ROLES is read once per handler, as at a Lambda cold start: a new spoke means a new handler.
    let handler = build();
    let builtForSpokes = 0;
    // The security-events function, as deployed with an email recipient: SES is answered here, and the
    // email channel hands each message it sent to the outbox the run folder keeps.
    const mail = new MailOutbox();
    let sesMessages = 0;
    const ses = answerLocally(new SESv2Client({ region: LOCAL_REGION }), () => ({ MessageId: `local-ses-${++sesMessages}` }));
    const securityOutcomes = new Map<string, SecurityEventOutcome>();
    const securityHandler = createSecurityEventsHandlerFromEnv({
      env: {
        ...process.env,
        FINDINGS_TABLE,
        FINDINGS_TOPIC_ARN,
        RESULTS_BUCKET,
        FINDINGS_SETTINGS: JSON.stringify({ email: { from: LOCAL_MAIL.from, to: [...LOCAL_MAIL.to] } }),
        POWERTOOLS_SERVICE_NAME: 'shipscan-security-events',
        METRICS_NAMESPACE: 'Shipscan',
        S3_FORCE_PATH_STYLE: 'true',
      },
      clients: { sns, ses },
      mailRecorder: mail,
      onOutcome: (record, outcome) => securityOutcomes.set(record.messageId, outcome),
    });
    const context = (): Context => ({ ...lambdaContext(900_000), invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:shipscan-scanner` });

    // The object scanner: the same wiring as in Lambda. Reader roles in other accounts are answered with
    // s3rver's own key pair (it accepts no other), as session credentials.
    const assumedRoles: LocalCall[] = [];
    const objectSts = answerLocally(
      new STSClient({ region: LOCAL_REGION }),
      () => ({ Credentials: { AccessKeyId: LOCAL_CREDENTIALS.AWS_ACCESS_KEY_ID, SecretAccessKey: LOCAL_CREDENTIALS.AWS_SECRET_ACCESS_KEY, SessionToken: 'local-object-session', Expiration: new Date(Date.now() + 3_600_000) } }),
      assumedRoles,
    );
    const objectWorkDir = await mkdtemp(path.join(os.tmpdir(), 'shipscan-objects-'));
    started.push({ stop: () => rm(objectWorkDir, { recursive: true, force: true }) });
    const objectOutcomes = new Map<string, ObjectOutcome[]>();
    const objectHandler = createObjectHandlerFromEnv({
      env: {
        ...process.env,
        RESULTS_BUCKET,
        CACHE_TABLE,
        QUALYS_SECRET_ARN,
        QUALYS_POD: 'US2',
        QSCANNER_PATH: FAKE_QSCANNER_PATH,
        QSCANNER_CACHE_DIR: cacheDir,
        S3_FORCE_PATH_STYLE: 'true',
        OWN_BUCKETS: RESULTS_BUCKET,
        ORG_ROLE_NAME: LOCAL_OBJECT_ROLE,
        WORK_DIR: objectWorkDir,
        RETRY_DELAY_SEC: '1',
        POWERTOOLS_SERVICE_NAME: 'shipscan-objects',
        METRICS_NAMESPACE: 'Shipscan',
        ...options.objectEnv,
      },
      clients: { sqs, secrets, sts: objectSts },
      onOutcome: (record, outcomes) => objectOutcomes.set(record.messageId, outcomes),
    });
    const s3Admin = new S3Client(s3ClientOptions(s3.endpoint));
    started.push({ stop: async () => s3Admin.destroy() });
    const buckets = new Set<string>([RESULTS_BUCKET]);

    const ensureBucket = async (bucket: string) => {
      if (buckets.has(bucket)) return;
      await s3Admin.send(new CreateBucketCommand({ Bucket: bucket })).catch((error: { name?: string }) => {
        if (error.name !== 'BucketAlreadyOwnedByYou' && error.name !== 'BucketAlreadyExists') throw error;
      });
      buckets.add(bucket);
    };

    return {
      lambda,
      assumedRoles,
      ensureBucket,
      async putObject(bucket, key, body) {
        await ensureBucket(bucket);
        if (typeof body === 'string' || Buffer.isBuffer(body)) {
          await s3Admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
          return;
        }
        // A file of any size streams with its length, so it is never held in memory.
        const { size } = await stat(body.path);
        await s3Admin.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: createReadStream(body.path), ContentLength: size }));
      },
      async invokeObjects(bodies, receiveCount = 1) {
        const event = sqsEvent(bodies, LOCAL_OBJECT_QUEUE_ARN, receiveCount);
        const response = await objectHandler(event, { ...lambdaContext(900_000, 'shipscan-objects'), invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:shipscan-objects` });
        const outcomes = event.Records.map((record) => {
          const found = objectOutcomes.get(record.messageId) ?? [];
          objectOutcomes.delete(record.messageId);
          return { record, outcomes: found };
        });
        return { records: event.Records, outcomes, response };
      },
      dynamoEndpoint: dynamo.endpoint,
      s3Endpoint: s3.endpoint,
      published,
      addSpokeAccount(account) {
        if (account !== LOCAL_ACCOUNT) spokeAccounts.add(account);
      },
      async invoke(bodies) {
        if (builtForSpokes !== spokeAccounts.size) {
          handler = build();
          builtForSpokes = spokeAccounts.size;
        }
        const event = sqsEvent(bodies);
        const start = performance.now();
        const response = await handler(event, context());
        const outcomes: InvocationResult['outcomes'] = [];
        for (const record of event.Records) {
          const known = outcomesByMessage.get(record.messageId);
          outcomesByMessage.delete(record.messageId);
          if (known) outcomes.push({ record, outcome: known.outcome, atMs: known.at - start });
        }
        return { records: event.Records, outcomes, response };
      },
      mail,
      async invokeSecurityEvents(bodies) {
        const event = sqsEvent(bodies, SECURITY_EVENTS_QUEUE_ARN);
        const response = await securityHandler(event, { ...lambdaContext(60_000, 'shipscan-security-events'), invokedFunctionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:shipscan-security-events` });
        const outcomes: SecurityInvocationResult['outcomes'] = [];
        for (const record of event.Records) {
          const outcome = securityOutcomes.get(record.messageId);
          securityOutcomes.delete(record.messageId);
          if (outcome) outcomes.push({ record, outcome });
        }
        return { records: event.Records, outcomes, response };
      },
      async findings() {
        return (await Promise.all(FINDING_STATES.map((state) => findingStore.query({ state })))).flat();
      },
      async stop() {
        await stopAll(started);
      },
    };
  } catch (error) {
    await stopAll(started);
    throw error;
  }
}

async function stopAll(started: { stop(): Promise<void> }[]): Promise<void> {
  for (const part of started.reverse()) await part.stop().catch(() => undefined);
}
