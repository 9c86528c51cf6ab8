import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import { arn, type AwsContext } from './context';
import { denyInsecureTransport, policyDocument, policyJson } from './policy';

/** Scan cache and in-flight lock: key `pk`, TTL on `expiresAt` (the runtime's scan-cache contract). */
export function cacheTable(name: string, ctx: AwsContext, key: aws.kms.Key, parent: pulumi.Resource): aws.dynamodb.Table {
  return new aws.dynamodb.Table(
    name,
    {
      billingMode: 'PAY_PER_REQUEST',
      hashKey: 'pk',
      attributes: [{ name: 'pk', type: 'S' }],
      ttl: { attributeName: 'expiresAt', enabled: true },
      pointInTimeRecovery: { enabled: true },
      serverSideEncryption: { enabled: true, kmsKeyArn: key.arn },
      tags: ctx.tags,
    },
    { parent },
  );
}

/** Findings and alarm notifications: KMS-encrypted, publishable by this stack's alarms, TLS only. */
export function findingsTopic(name: string, ctx: AwsContext, key: aws.kms.Key, alertEmail: string | undefined, parent: pulumi.Resource): aws.sns.Topic {
  const topic = new aws.sns.Topic(name, { kmsMasterKeyId: key.arn, tags: ctx.tags }, { parent });
  new aws.sns.TopicPolicy(
    name,
    {
      arn: topic.arn,
      policy: policyJson(
        policyDocument([
          {
            Sid: 'AlarmsPublish',
            Effect: 'Allow',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: 'sns:Publish',
            Resource: topic.arn,
            // This stack's alarms only (all named `<ctx.prefix>-...`, aws/monitoring.ts).
            Condition: { ArnLike: { 'aws:SourceArn': arn(ctx, 'cloudwatch', `alarm:${ctx.prefix}-*`) } },
          },
          denyInsecureTransport([topic.arn], 'sns:Publish'),
        ]),
      ),
    },
    { parent },
  );
  if (alertEmail) new aws.sns.TopicSubscription(`${name}-email`, { topic: topic.arn, protocol: 'email', endpoint: alertEmail }, { parent });
  return topic;
}

/** The Qualys token as `{"accessToken": ...}` (what the runtime's token reader accepts), always a Pulumi secret. */
export function qualysTokenSecret(name: string, ctx: AwsContext, key: aws.kms.Key, accessToken: pulumi.Input<string>, parent: pulumi.Resource): aws.secretsmanager.Secret {
  const secret = new aws.secretsmanager.Secret(
    name,
    { name: `${ctx.prefix}/qualys-token`, description: 'Qualys access token for QScanner', kmsKeyId: key.arn, recoveryWindowInDays: 7, tags: ctx.tags },
    { parent },
  );
  new aws.secretsmanager.SecretVersion(
    name,
    { secretId: secret.id, secretString: pulumi.secret(pulumi.output(accessToken).apply((token) => JSON.stringify({ accessToken: token }))) },
    { parent },
  );
  return secret;
}
