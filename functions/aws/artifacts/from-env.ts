import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { runQScanner } from '../../../shared/qualys/qscanner-runner';
import { QualysTokenProvider } from '../qualys-token';
import { ResultStore } from '../result-store';
import { ScanCache } from '../scan-cache';
import { createQScannerEngine, type ScanEngine } from '../scan-engine';
import { scanProfile } from '../scanner/from-env';
import { createTelemetry } from '../telemetry';
import { loadArtifactsEnv, type ArtifactsEnv } from './env';
import { pendingFindingsFold, type FindingsFold } from './findings-fold';
import { createObjectHandler, type ObjectHandler, type ObjectHandlerDeps } from './handler';
import { ObjectAccess } from './object-access';
import type { ObjectPipelineSettings } from './object-pipeline';

/** Object scans always look for packages and secrets (QScanner `repo --scan-types pkg,secret`). */
export const OBJECT_SCAN_TYPES = ['pkg', 'secret'] as const;
const MIB = 1024 * 1024;

export function objectSettingsFromEnv(env: ArtifactsEnv): ObjectPipelineSettings {
  return {
    resultsBucket: env.RESULTS_BUCKET,
    filter: {
      includeBuckets: env.INCLUDE_BUCKETS,
      excludeBuckets: env.EXCLUDE_BUCKETS,
      includePrefixes: env.INCLUDE_PREFIXES,
      excludePrefixes: env.EXCLUDE_PREFIXES,
      ownBuckets: env.OWN_BUCKETS,
    },
    maxObjectBytes: env.MAX_OBJECT_MB * MIB,
    excludedMimeTypes: new Set(env.EXCLUDED_MIME_TYPES),
    extractLimits: { maxTotalBytes: env.EXTRACT_MAX_MB * MIB, maxEntries: env.EXTRACT_MAX_ENTRIES, maxRatio: env.EXTRACT_MAX_RATIO, maxDepth: env.EXTRACT_MAX_DEPTH },
    workDir: env.WORK_DIR,
    scanTimeoutMs: env.SCAN_TIMEOUT_SEC * 1000,
    lockTtlMs: env.LOCK_TTL_SEC * 1000,
    retryDelaySec: env.RETRY_DELAY_SEC,
    cacheTtlDays: env.CACHE_TTL_DAYS,
    partialCacheTtlMinutes: env.PARTIAL_CACHE_TTL_MINUTES,
    scanProfile: scanProfile([...OBJECT_SCAN_TYPES], []),
  };
}

export interface ObjectHandlerOverrides {
  engine?: ScanEngine;
  env?: Readonly<Record<string, string | undefined>>;
  clients?: { sqs?: SQSClient; secrets?: SecretsManagerClient; sts?: STSClient; decorateS3?: (client: S3Client) => S3Client };
  findings?: FindingsFold;
  onOutcome?: ObjectHandlerDeps['onOutcome'];
}

/** Production wiring; endpoints follow the SDK's own overrides (AWS_ENDPOINT_URL_S3...), S3_FORCE_PATH_STYLE for emulators. */
export function createObjectHandlerFromEnv(overrides: ObjectHandlerOverrides = {}): ObjectHandler {
  const rawEnv = overrides.env ?? process.env;
  const env = loadArtifactsEnv(rawEnv);
  const region = env.AWS_REGION;
  const { logger, metrics, tracer } = createTelemetry(env.POWERTOOLS_SERVICE_NAME, env.METRICS_NAMESPACE);
  const trace = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const forcePathStyle = rawEnv.S3_FORCE_PATH_STYLE === 'true';
  const decorateS3 = overrides.clients?.decorateS3 ?? ((client: S3Client) => client);
  const resultsS3 = decorateS3(trace(new S3Client({ region, forcePathStyle, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' })));
  const doc = DynamoDBDocumentClient.from(trace(new DynamoDBClient({ region })), { marshallOptions: { removeUndefinedValues: true } });
  const sts = overrides.clients?.sts ?? trace(new STSClient({ region }));
  const tokens = new QualysTokenProvider(overrides.clients?.secrets ?? trace(new SecretsManagerClient({ region })), env.QUALYS_SECRET_ARN);
  const engine =
    overrides.engine ??
    createQScannerEngine({
      run: runQScanner,
      binaryPath: env.QSCANNER_PATH,
      ...(env.QUALYS_POD ? { pod: env.QUALYS_POD } : {}),
      ...(env.QUALYS_GATEWAY ? { gateway: env.QUALYS_GATEWAY } : {}),
      cacheDir: env.QSCANNER_CACHE_DIR,
      tmpRoot: env.WORK_DIR,
      scanTypes: [...OBJECT_SCAN_TYPES],
      accessToken: () => tokens.token(),
    });
  const access = new ObjectAccess(sts, {
    spokes: env.SPOKE_OBJECT_ROLES,
    ...(env.ORG_ROLE_NAME ? { orgRoleName: env.ORG_ROLE_NAME } : {}),
    ...(env.ORG_EXTERNAL_ID ? { orgExternalId: env.ORG_EXTERNAL_ID } : {}),
    clientConfig: { forcePathStyle },
    decorate: (client) => decorateS3(trace(client)),
  });
  return createObjectHandler({
    settings: objectSettingsFromEnv(env),
    access,
    cache: new ScanCache(doc, env.CACHE_TABLE),
    store: new ResultStore(resultsS3, env.RESULTS_BUCKET),
    resultsS3,
    engine,
    // The single call site of the vulnerability-findings fold (see findings-fold.ts).
    findings: overrides.findings ?? pendingFindingsFold(logger),
    logger,
    metrics,
    tracer,
    sqs: overrides.clients?.sqs ?? trace(new SQSClient({ region })),
    ...(env.OBJECT_QUEUE_URL ? { queueUrl: env.OBJECT_QUEUE_URL } : {}),
    ...(overrides.onOutcome ? { onOutcome: overrides.onOutcome } : {}),
  });
}
