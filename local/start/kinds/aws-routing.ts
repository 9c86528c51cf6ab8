/**
 * How AWS events reach the local scanner: through the same EventBridge rule the stack deploys
 * (aws/event-pattern.ts, evaluated by shared/event-pattern), so a replay drops what the cloud drops
 * and says which field stopped it. Raw CloudTrail records are wrapped in the envelope EventBridge puts
 * around them first; bulk targets come from the bulk scanner, which sends to the queue directly.
 */
import { randomUUID } from 'node:crypto';
import { functionRequestForms, lambdaEventPattern } from '../../../aws/event-pattern';
import { evaluatePattern } from '../../../shared/event-pattern/match';
import { LOCAL_ACCOUNT, LOCAL_REGION } from '../../stack/aws-stack';
import type { ItemOfKind } from '../../replay/detect';

/** The local stack's own functions (the scanner handler runs as shipscan-scanner): never scanned, as in the cloud. */
export const LOCAL_OWN_FUNCTIONS = ['shipscan-scanner', 'shipscan-bulk'];
export const LOCAL_RULE_NAME = 'shipscan-local-deployments';

/** The rule the local stack stands for: defaults of `shipscan:aws` (no UpdateFunctionConfiguration), own functions excluded. */
export function localDeploymentPattern() {
  return lambdaEventPattern({
    includeConfigurationChanges: false,
    ownFunctions: {
      arnPrefix: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT}:function:shipscan-`,
      requestForms: functionRequestForms('aws', LOCAL_REGION, LOCAL_ACCOUNT, LOCAL_OWN_FUNCTIONS),
    },
  });
}

type Json = Record<string, unknown>;

/** The envelope EventBridge delivers a CloudTrail record in ("AWS API Call via CloudTrail"). */
export function cloudTrailEnvelope(record: Json): Json {
  const service = String(record.eventSource ?? '').replace(/\.amazonaws\.com$/, '');
  const identity = (record.userIdentity ?? {}) as Json;
  return {
    version: '0',
    id: typeof record.eventID === 'string' ? record.eventID : randomUUID(),
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${service}`,
    account: record.recipientAccountId ?? identity.accountId,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}

export type AwsRoute = { deliver: true; body: Json } | { deliver: false; by: string; reason: string };

export function routeAwsEvent(item: ItemOfKind<'lambda-deployment'>, pattern = localDeploymentPattern()): AwsRoute {
  if (item.shape === 'bulk') return { deliver: true, body: item.event };
  const envelope = item.shape === 'cloudtrail' ? cloudTrailEnvelope(item.event) : item.event;
  const verdict = evaluatePattern(pattern, envelope);
  if (verdict.matched) return { deliver: true, body: envelope };
  return { deliver: false, by: `EventBridge rule ${LOCAL_RULE_NAME}`, reason: verdict.reason };
}
