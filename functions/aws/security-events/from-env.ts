import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SNSClient } from '@aws-sdk/client-sns';
import { FindingsConfigSchema, type FindingsConfig } from '../../../shared/findings/config';
import { withNotifySecrets } from '../../../shared/findings/notify-secrets';
import { FindingRecorder } from '../../../shared/findings/recorder';
import { compileSuppressions } from '../../../shared/findings/suppressions';
// The AWS rule modules directly: shared/rules/index.ts also loads the Azure rules this bundle never runs.
import { AWS_ACTIVITY_DETECTORS, createRegistry } from '../../../shared/rules/aws';
import type { MailSink } from '../../notify/mail-recorder';
import { DynamoFindingStore } from '../findings-store';
import { channelsFromConfig } from '../notify/channels';
import { createTelemetry } from '../telemetry';
import { countTransitions } from './metrics';
import { loadSecurityEventsEnv } from './env';
import { createSecurityEventsHandler, type SecurityEventsHandler, type SecurityEventsHandlerDeps } from './handler';
import { NotifySecretReader } from './notify-secret';
import type { PostureHook } from './pipeline';
import { S3UnprocessableSink } from './unprocessable';

/**
 * Production wiring from the environment (endpoints follow the SDK's own `AWS_ENDPOINT_URL_*` overrides,
 * which the offline stack uses). The findings recorder and its channels are built on the first record that
 * needs them, after the notify secret is read, and then kept for the life of the container.
 */

export interface SecurityEventsOverrides {
  env?: Readonly<Record<string, string | undefined>>;
  /** Clients for services the offline stack answers in process rather than over an endpoint. */
  clients?: { sns?: SNSClient; ses?: SESv2Client; secrets?: SecretsManagerClient; s3?: S3Client; dynamo?: DynamoDBDocumentClient };
  /** Keeps a copy of each email sent (the offline stack writes them as .eml / .html). */
  mailRecorder?: MailSink;
  postureHook?: PostureHook;
  onOutcome?: SecurityEventsHandlerDeps['onOutcome'];
  now?: () => Date;
}

export function createSecurityEventsHandlerFromEnv(overrides: SecurityEventsOverrides = {}): SecurityEventsHandler {
  const rawEnv = overrides.env ?? process.env;
  const env = loadSecurityEventsEnv(rawEnv);
  const region = env.AWS_REGION;
  const settings: FindingsConfig = env.FINDINGS_SETTINGS ?? FindingsConfigSchema.parse({});
  const { logger, metrics, tracer } = createTelemetry(env.POWERTOOLS_SERVICE_NAME, env.METRICS_NAMESPACE);
  const trace = <T>(client: T): T => tracer.captureAWSv3Client(client);
  const doc = overrides.clients?.dynamo ?? DynamoDBDocumentClient.from(trace(new DynamoDBClient({ region })), { marshallOptions: { removeUndefinedValues: true } });
  const s3 =
    overrides.clients?.s3 ??
    trace(new S3Client({ region, forcePathStyle: rawEnv.S3_FORCE_PATH_STYLE === 'true', requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }));
  const sns = overrides.clients?.sns ?? trace(new SNSClient({ region }));
  const ses = overrides.clients?.ses ?? trace(new SESv2Client({ region }));
  const secretReader = new NotifySecretReader(overrides.clients?.secrets ?? trace(new SecretsManagerClient({ region })), env.NOTIFY_SECRET_ARN);
  const store = new DynamoFindingStore(doc, env.FINDINGS_TABLE);
  const suppressions = compileSuppressions(settings.suppressions);

  let recorder: Promise<FindingRecorder> | undefined;
  const buildRecorder = async (): Promise<FindingRecorder> => {
    const config = withNotifySecrets(settings, await secretReader.read());
    const channels = channelsFromConfig(config, {
      sns: { client: sns, topicArn: env.FINDINGS_TOPIC_ARN },
      ses,
      ...(overrides.mailRecorder ? { mailRecorder: overrides.mailRecorder } : {}),
    });
    logger.info('finding channels ready', { channels: channels.map((c) => c.name) });
    return new FindingRecorder({
      store,
      channels,
      policy: { severityThreshold: config.severityThreshold, notifyOnResolve: config.notifyOnResolve, mode: 'immediate' },
      suppressions,
      // Events are sightings: lastSeenAt moves with each one, so a finding shows when it was last done.
      persistTouches: true,
      onTransition: (transition) => countTransitions(metrics, [transition]),
    });
  };

  return createSecurityEventsHandler({
    registry: createRegistry(AWS_ACTIVITY_DETECTORS, { disabledRules: settings.disabledRules }),
    allowLists: settings.allowLists,
    recorder: () => {
      const current = (recorder ??= buildRecorder());
      // A failed build (the secret could not be read) is not kept: the next record tries again.
      current.catch(() => {
        if (recorder === current) recorder = undefined;
      });
      return current;
    },
    unprocessable: new S3UnprocessableSink(s3, env.RESULTS_BUCKET, env.UNPROCESSABLE_PREFIX),
    logger,
    metrics,
    tracer,
    ...(overrides.postureHook ? { postureHook: overrides.postureHook } : {}),
    ...(overrides.onOutcome ? { onOutcome: overrides.onOutcome } : {}),
    ...(overrides.now ? { now: overrides.now } : {}),
  });
}
