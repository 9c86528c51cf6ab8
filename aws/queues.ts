import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsContext } from './context';
import { denyInsecureTransport, policyDocument, policyJson } from './policy';

export interface ScanQueues {
  queue: aws.sqs.Queue;
  deadLetterQueue: aws.sqs.Queue;
}

/**
 * The scan queue and its dead-letter queue, both under the stack key. Other capabilities' queues (security
 * events) are built the same way, named `<name>-<suffix>` and `<name>-dlq`.
 */
export function scanQueues(
  name: string,
  ctx: AwsContext,
  key: aws.kms.Key,
  options: { functionTimeoutSec: number; maxReceiveCount: number; suffix?: string },
  parent: pulumi.Resource,
): ScanQueues {
  const deadLetterQueue = new aws.sqs.Queue(
    `${name}-dlq`,
    { kmsMasterKeyId: key.arn, kmsDataKeyReusePeriodSeconds: 300, messageRetentionSeconds: 14 * 24 * 3600, tags: ctx.tags },
    { parent },
  );
  const queue = new aws.sqs.Queue(
    `${name}-${options.suffix ?? 'scans'}`,
    {
      kmsMasterKeyId: key.arn,
      kmsDataKeyReusePeriodSeconds: 300,
      // AWS's guidance for Lambda consumers: at least six times the function timeout.
      visibilityTimeoutSeconds: Math.min(43_200, 6 * options.functionTimeoutSec),
      messageRetentionSeconds: 4 * 24 * 3600,
      receiveWaitTimeSeconds: 20,
      redrivePolicy: pulumi.jsonStringify({ deadLetterTargetArn: deadLetterQueue.arn, maxReceiveCount: options.maxReceiveCount }),
      tags: ctx.tags,
    },
    { parent },
  );
  return { queue, deadLetterQueue };
}

/** Only the given EventBridge rules may send to the queues (their DLQ included), and only over TLS. */
export function allowRulesToSend(
  name: string,
  queues: ScanQueues,
  ruleArns: pulumi.Input<string>[],
  parent: pulumi.Resource,
  options: { queueSuffix?: string; sid?: string } = {},
): void {
  for (const [suffix, target] of [[options.queueSuffix ?? 'scans', queues.queue], ['dlq', queues.deadLetterQueue]] as const) {
    new aws.sqs.QueuePolicy(
      `${name}-${suffix}`,
      {
        queueUrl: target.url,
        policy: policyJson(
          policyDocument([
            {
              Sid: options.sid ?? 'DeploymentRulesSend',
              Effect: 'Allow',
              Principal: { Service: 'events.amazonaws.com' },
              Action: 'sqs:SendMessage',
              Resource: target.arn,
              Condition: { ArnEquals: { 'aws:SourceArn': ruleArns } },
            },
            denyInsecureTransport([target.arn], 'sqs:*'),
          ]),
        ),
      },
      { parent },
    );
  }
}
