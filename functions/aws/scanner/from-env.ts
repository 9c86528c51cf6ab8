import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
// The runner module directly: the package index also exports the Container Security API client (undici), which this bundle never uses.
import { runQScanner } from '../../../shared/qualys/qscanner-runner';
import { AccountClients, SpokeCredentials, type ClientDecorator } from '../account-access';
import { loadScannerEnv, type ScannerEnv } from '../env';
import { QualysTokenProvider } from '../qualys-token';
import { ResultStore } from '../result-store';
import { ScanCache } from '../scan-cache';
import { createQScannerEngine, type ScanEngine } from '../scan-engine';
import { createTelemetry } from '../telemetry';
import { createScannerHandler, type ScannerHandler, type ScannerHandlerDeps } from './handler';
import type { PipelineSettings } from './pipeline';

/**
 * Production wiring from the environment. Endpoints follow the SDK's own overrides
 * (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_S3`, `..._DYNAMODB`, ...), which the offline stack uses;
 * `S3_FORCE_PATH_STYLE=true` is needed for S3 emulators.
 */

export function settingsFromEnv(env: ScannerEnv): PipelineSettings {
  return {
    resultsBucket: env.RESULTS_BUCKET,
    findingsTopicArn: env.FINDINGS_TOPIC_ARN,
    cacheTtlDays: env.CACHE_TTL_DAYS,
    partialCacheTtlMinutes: env.PARTIAL_CACHE_TTL_MINUTES,
    severityThreshold: env.SEVERITY_THRESHOLD,
    tagFunctions: env.TAG_FUNCTIONS,
    selfFunctionNames: new Set(env.SELF_FUNCTION_NAMES),
    scanTimeoutMs: env.SCAN_TIMEOUT_SEC * 1000,
    readyWaitMs: env.READY_WAIT_SEC * 1000,
    retryDelaySec: env.RETRY_DELAY_SEC,
    lockTtlMs: env.LOCK_TTL_SEC * 1000,
    scanProfile: scanProfile(env.QSCANNER_SCAN_TYPES, env.QSCANNER_POLICY_TAGS),
    excludePatterns: env.EXCLUDE_PATTERNS.map((pattern) => new RegExp(pattern)),
  };
}

/** `pkg+secret` or `pkg+secret/policy=a+b`: order-independent, so equal settings share cache entries. */
export function scanProfile(scanTypes: readonly string[], policyTags: readonly string[]): string {
  const types = [...new Set(scanTypes)].sort().join('+');
  const tags = [...new Set(policyTags)].sort().join('+');
  return tags ? `${types}/policy=${tags}` : types;
}

export interface ScannerOverrides {
  engine?: ScanEngine;
  env?: Readonly<Record<string, string | undefined>>;
  /** Clients for services the offline stack simulates in process rather than over an endpoint. */
  clients?: {
    sns?: SNSClient;
    sqs?: SQSClient;
    secrets?: SecretsManagerClient;
    sts?: STSClient;
    /** Applied to every per-account Lambda / ECR client after tracing (the offline stack answers ECR in process). */
    decorate?: ClientDecorator;
  };
  /** Called with every record's outcome (offline runner). */
  onOutcome?: ScannerHandlerDeps['onOutcome'];
}

export function createScannerHandlerFromEnv(overrides: ScannerOverrides = {}): ScannerHandler {
  const rawEnv = overrides.env ?? process.env;
  const env = loadScannerEnv(rawEnv);
  const region = env.AWS_REGION;
  const { logger, metrics, tracer } = createTelemetry(env.POWERTOOLS_SERVICE_NAME, env.METRICS_NAMESPACE);
  const trace = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const s3 = trace(
    new S3Client({
      region,
      forcePathStyle: rawEnv.S3_FORCE_PATH_STYLE === 'true',
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
  );
  const doc = DynamoDBDocumentClient.from(trace(new DynamoDBClient({ region })), { marshallOptions: { removeUndefinedValues: true } });
  const sts = overrides.clients?.sts ?? trace(new STSClient({ region }));
  const secrets = overrides.clients?.secrets ?? trace(new SecretsManagerClient({ region }));
  const tokens = new QualysTokenProvider(secrets, env.QUALYS_SECRET_ARN);
  const decorate = overrides.clients?.decorate;
  const engine =
    overrides.engine ??
    createQScannerEngine({
      run: runQScanner,
      binaryPath: env.QSCANNER_PATH,
      ...(env.QUALYS_POD ? { pod: env.QUALYS_POD } : {}),
      ...(env.QUALYS_GATEWAY ? { gateway: env.QUALYS_GATEWAY } : {}),
      cacheDir: env.QSCANNER_CACHE_DIR,
      scanTypes: env.QSCANNER_SCAN_TYPES,
      policyTags: env.QSCANNER_POLICY_TAGS,
      accessToken: () => tokens.token(),
    });
  const deps: ScannerHandlerDeps = {
    settings: settingsFromEnv(env),
    accounts: new AccountClients(new SpokeCredentials(sts, env.SPOKE_ROLES), decorate ? (client) => decorate(trace(client)) : trace),
    cache: new ScanCache(doc, env.CACHE_TABLE),
    store: new ResultStore(s3, env.RESULTS_BUCKET),
    sns: overrides.clients?.sns ?? trace(new SNSClient({ region })),
    sqs: overrides.clients?.sqs ?? trace(new SQSClient({ region })),
    engine,
    logger,
    metrics,
    tracer,
    ...(env.SCAN_QUEUE_URL ? { queueUrl: env.SCAN_QUEUE_URL } : {}),
    ...(overrides.onOutcome ? { onOutcome: overrides.onOutcome } : {}),
  };
  return createScannerHandler(deps);
}
