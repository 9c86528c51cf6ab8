import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { arn, type AwsContext } from './context';
import { policyDocument, policyJson, type PolicyStatement } from './policy';

export interface KeyOptions {
  /** Log groups whose names start with this may use the key (CloudWatch Logs encryption context). */
  logGroupPrefix?: string;
  /**
   * Let EventBridge (SQS targets) and this stack's CloudWatch alarms (SNS actions) encrypt messages.
   */
  allowEventsAndAlarms?: boolean;
  /** Name of the trail that writes log files with this key. */
  trailName?: string;
  /** An organisation trail (artifacts.createOrgTrail) writing with this key too. */
  orgTrailName?: string;
}

/**
 * Key policy: the account administers the key and may grant its use through IAM (with explicit
 * actions rather than `kms:*`); service principals get only the data-key actions they need, each
 * conditioned on this stack's calling resources (aws:SourceArn) or the encryption context of its
 * resources, except EventBridge, whose requests carry neither (the queue policy scopes it). In a key policy `Resource: "*"` means "this key" (the API accepts nothing else).
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
    // EventBridge delivering to the SSE-KMS scan queue: AWS documents that its KMS requests carry no
    // aws:SourceArn / aws:SourceAccount, so any such condition would drop every event silently. What
    // scopes the delivery is the queue policy (SendMessage only from this stack's rule ARNs).
    statements.push({
      Sid: 'EventBridgeRulesEncryptMessages',
      Effect: 'Allow',
      Principal: { Service: 'events.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
    });
    // Alarm actions to the encrypted topic do carry the calling alarm, so only this stack's alarms
    // (named `<prefix>-...`, aws/monitoring.ts) may use the key.
    statements.push({
      Sid: 'AlarmsEncryptMessages',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Resource: '*',
      Condition: { StringEquals: { 'aws:SourceAccount': ctx.accountId }, ArnLike: { 'aws:SourceArn': arn(ctx, 'cloudwatch', `alarm:${ctx.prefix}-*`) } },
    });
  }
  for (const [sid, trailName] of [['', options.trailName], ['Org', options.orgTrailName]] as const) {
    if (!trailName) continue;
    const trailArn = arn(ctx, 'cloudtrail', `trail/${trailName}`);
    statements.push(
      {
        Sid: `CloudTrail${sid}EncryptLogs`,
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
        Sid: `CloudTrail${sid}DescribeKey`,
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
