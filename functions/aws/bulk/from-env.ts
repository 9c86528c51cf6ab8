import { ResourceGroupsTaggingAPIClient } from '@aws-sdk/client-resource-groups-tagging-api';
import { SQSClient } from '@aws-sdk/client-sqs';
import { STSClient } from '@aws-sdk/client-sts';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { AccountClients, SpokeCredentials, accountOfFunctionArn } from '../account-access';
import { loadBulkEnv, type BulkEnv } from '../env';
import { createTelemetry } from '../telemetry';
import { parseBulkInput, runBulkScan, type BulkDeps, type BulkSettings, type BulkSummary } from './bulk-scan';

export type BulkHandler = (event: unknown, context: Context) => Promise<BulkSummary>;

export function bulkSettingsFromEnv(env: BulkEnv): BulkSettings {
  return {
    queueUrl: env.SCAN_QUEUE_URL,
    excludePatterns: env.EXCLUDE_PATTERNS.map((pattern) => new RegExp(pattern)),
    selfFunctionNames: new Set(env.SELF_FUNCTION_NAMES),
    regions: env.REGIONS.length > 0 ? env.REGIONS : [env.AWS_REGION],
    batchSize: env.BATCH_SIZE,
    maxWorkers: env.MAX_WORKERS,
    invocationDelayMs: env.INVOCATION_DELAY_MS,
  };
}

export function createBulkHandler(deps: Omit<BulkDeps, 'remainingMs'> & { logger: Logger }): BulkHandler {
  return async (event, context) => {
    deps.logger.addContext(context);
    // The own account is where this function runs; named accounts are checked against it and the spokes.
    deps.accounts.credentials.setOwnAccount(accountOfFunctionArn(context.invokedFunctionArn));
    const input = parseBulkInput(event);
    return runBulkScan(input, { ...deps, remainingMs: () => context.getRemainingTimeInMillis() });
  };
}

export function createBulkHandlerFromEnv(rawEnv: Readonly<Record<string, string | undefined>> = process.env): BulkHandler {
  const env = loadBulkEnv(rawEnv);
  const { logger, tracer } = createTelemetry(env.POWERTOOLS_SERVICE_NAME, env.METRICS_NAMESPACE);
  const trace = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const credentials = new SpokeCredentials(trace(new STSClient({ region: env.AWS_REGION })), env.SPOKE_ROLES, 'shipscan-bulk');
  const tagging = new Map<string, ResourceGroupsTaggingAPIClient>();
  return createBulkHandler({
    settings: bulkSettingsFromEnv(env),
    accounts: new AccountClients(credentials, trace),
    tagging: (account, region) => {
      const key = `${account}/${region}`;
      let client = tagging.get(key);
      if (!client) {
        const spoke = credentials.isSpoke(account);
        client = trace(new ResourceGroupsTaggingAPIClient({ region, ...(spoke ? { credentials: async () => (await credentials.forAccount(account))! } : {}) }));
        tagging.set(key, client);
      }
      return client;
    },
    sqs: trace(new SQSClient({ region: env.AWS_REGION })),
    logger,
  });
}
