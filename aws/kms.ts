import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { arn, type AwsContext } from './context';
import { policyDocument, policyJson, type PolicyStatement } from './policy';

export interface KeyOptions {
  /** Log groups whose names start with this may use the key (CloudWatch Logs encryption context). */
  logGroupPrefix?: string;
  /**
   * Let this stack's EventBridge rules (SQS targets) and CloudWatch alarms (SNS actions) encrypt
   * messages. Both are named `<ctx.prefix>-...` (aws/deployment-rules.ts, aws/monitoring.ts).
   */
  allowEventsAndAlarms?: boolean;
  /** Name of the trail that writes log files with this key. */
  trailName?: string;
}

/**
 * Key policy: the account administers the key and may grant its use through IAM (with explicit
 * actions rather than `kms:*`); service principals get only the data-key actions they need, each
 * conditioned on this stack's calling resources (aws:SourceArn) or the encryption context of its
 * resources. In a key policy `Resource: "*"` means "this key" (the API accepts nothing else).
 */
export function keyPolicyDocument(ctx: AwsContext, options: KeyOptions) {
  const root = pulumi.interpolate`arn:${ctx.partition}:iam::${ctx.accountId}:root`;
  const statements: PolicyStatement[] = [
    {
      Sid: 'AccountAdministersKey',
      Effect: 'Allow',
      Principal: { AWS: root },
      Action: [
        'kms:Create*',
        'kms:Describe*',
        'kms:Enable*',
        'kms:List*',
        'kms:Put*',
        'kms:Update*',
        'kms:Revoke*',
        'kms:Disable*',
        'kms:Get*',
        'kms:Delete*',
        'kms:TagResource',
        'kms:UntagResource',
        'kms:ScheduleKeyDeletion',
        'kms:CancelKeyDeletion',
        'kms:RotateKeyOnDemand',
      ],
      Resource: '*',
    },
    {
      Sid: 'AccountUsesKeyThroughIam',
      Effect: 'Allow',
      Principal: { AWS: root },
      Action: ['kms:Encrypt', 'kms:Decrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:DescribeKey'],
      Resource: '*',
    },
    {
      Sid: 'AwsServicesCreateGrants',
      Effect: 'Allow',
      Principal: { AWS: root },
      Action: 'kms:CreateGrant',
      Resource: '*',
      Condition: { Bool: { 'kms:GrantIsForAWSResource': 'true' } },
    },
  ];
  if (options.logGroupPrefix) {
    statements.push({
      Sid: 'CloudWatchLogsEncrypt',
      Effect: 'Allow',
      Principal: { Service: pulumi.interpolate`logs.${ctx.region}.amazonaws.com` },
      Action: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
      Resource: '*',
      Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': arn(ctx, 'logs', `log-group:${options.logGroupPrefix}*`) } },
    });
  }
  if (options.allowEventsAndAlarms) {
    // Conditioned on the calling rule or alarm (aws:SourceArn), not just the account, so other rules
    // and alarms of the account cannot write into the stack's queues and topic with this key. The
    // rule pattern also covers the hub's central-bus rule (`rule/<prefix>-central/<prefix>-...`).
    const serviceUse = (sid: string, service: string, sourceArn: pulumi.Output<string>): PolicyStatement => ({
      Sid: sid,
      Effect: 'Allow',
      Principal: { Service: service },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': ctx.accountId }, ArnLike: { 'aws:SourceArn': sourceArn } },
    });
    statements.push(
      serviceUse('EventBridgeRulesEncryptMessages', 'events.amazonaws.com', arn(ctx, 'events', `rule/${ctx.prefix}-*`)),
      serviceUse('AlarmsEncryptMessages', 'cloudwatch.amazonaws.com', arn(ctx, 'cloudwatch', `alarm:${ctx.prefix}-*`)),
    );
  }
  if (options.trailName) {
    const trailArn = arn(ctx, 'cloudtrail', `trail/${options.trailName}`);
    statements.push(
      {
        Sid: 'CloudTrailEncryptLogs',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': pulumi.interpolate`arn:${ctx.partition}:cloudtrail:*:${ctx.accountId}:trail/*` },
        },
      },
      {
        Sid: 'CloudTrailDescribeKey',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:DescribeKey',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
      },
    );
  }
  return policyDocument(statements);
}

export function createKey(name: string, ctx: AwsContext, options: KeyOptions, parent: pulumi.Resource): aws.kms.Key {
  const key = new aws.kms.Key(
    name,
    {
      description: `shipscan ${ctx.prefix}: results, cache, queues, topic, logs and the Qualys token`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: policyJson(keyPolicyDocument(ctx, options)),
      tags: ctx.tags,
    },
    { parent },
  );
  new aws.kms.Alias(name, { name: `alias/${ctx.prefix}`, targetKeyId: key.keyId }, { parent });
  return key;
}
