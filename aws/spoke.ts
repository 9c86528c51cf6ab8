import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsConfig } from '../shared/config';
import type { FindingsConfig } from '../shared/findings/config';
import { awsContext } from './context';
import { lambdaEventPattern } from './event-pattern';
import { functionAccessStatements } from './iam';
import { createKey } from './kms';
import { securityPatternsFor, securityRuleSuffix } from './security-events';
import { policyDocument, policyJson, serviceTrust } from './policy';
import { accessLogging } from './buckets';
import { createTrail } from './trail';
import { ecrPushPattern, objectWritePattern } from './artifact-patterns';
import { objectReadResources } from './artifacts';

export interface AwsSpokeArgs {
  /** Validated `shipscan:aws` config (mode spoke, with hub set). */
  config: AwsConfig;
  /**
   * Keep the hub's ExternalId (in the access role's trust policy) encrypted in the state. Default
   * true; the composition root passes false only when the stack holds it in plain text anyway.
   */
  secretExternalIds?: boolean;
  /** `shipscan:findings` of the spoke stack: its disabledRules narrow what is forwarded (default: every detector's events). */
  findings?: Pick<FindingsConfig, 'disabledRules'>;
}

/**
 * A spoke account: forwards its Lambda deployment events (and, with aws.securityEvents, the calls the
 * security-event detectors watch) to the hub's central bus and lets the hub's scanner and bulk roles
 * (exactly the configured ARNs, presenting the ExternalId) read, tag and pull the images of its functions.
 */
export class AwsSpoke extends pulumi.ComponentResource {
  readonly accessRole: aws.iam.Role;
  readonly forwardRule: aws.cloudwatch.EventRule;
  /** aws.artifacts: the rules forwarding S3 object writes (and ECR pushes) to the hub, and the role the hub reads objects with. */
  readonly artifactRules: aws.cloudwatch.EventRule[] = [];
  readonly objectReaderRole?: aws.iam.Role;
  /** The security-event rules forwarding to the hub (one per pattern), with aws.securityEvents.enabled. */
  readonly securityForwardRules: aws.cloudwatch.EventRule[];
  readonly trail?: aws.cloudtrail.Trail;
  /** Where the trail bucket's S3 server access logs go (with createTrail and aws.accessLogging). */
  readonly accessLogsBucket?: aws.s3.Bucket;

  constructor(name: string, args: AwsSpokeArgs, opts?: pulumi.ComponentResourceOptions) {
    super('shipscan:aws:AwsSpoke', name, {}, opts);
    const cfg = args.config;
    const hub = cfg.hub;
    if (cfg.mode !== 'spoke' || !hub?.roleArns) throw new Error('AwsSpoke needs shipscan:aws.mode = spoke and shipscan:aws.hub with roleArns');
    const hubRoles = hub.roleArns;
    const ctx = awsContext(this);
    const parent = { parent: this };
    const externalId = args.secretExternalIds === false ? hub.externalId : pulumi.secret(hub.externalId);

    this.accessRole = new aws.iam.Role(
      `${name}-access`,
      {
        name: cfg.spokeRoleName,
        description: `Lets the shipscan hub (account ${hub.accountId}) scan this account's Lambda functions`,
        maxSessionDuration: 3600,
        assumeRolePolicy: policyJson(
          policyDocument([
            {
              Sid: 'HubAssumesWithExternalId',
              Effect: 'Allow',
              // Exactly this hub's scanner and bulk roles (the hub stack's aws.spokeHub.roleArns), not
              // every principal of the hub account, nor every shipscan stack's roles there. IAM checks
              // that the roles exist when it stores the policy, so a wrong ARN fails the deployment.
              Principal: { AWS: [...hubRoles] },
              Action: 'sts:AssumeRole',
              // A secret ExternalId makes the whole trust policy a secret in the state.
              Condition: { StringEquals: { 'sts:ExternalId': externalId } },
            },
          ]),
        ),
        tags: ctx.tags,
      },
      parent,
    );
    new aws.iam.RolePolicy(
      `${name}-access`,
      {
        role: this.accessRole.id,
        policy: policyJson(policyDocument(functionAccessStatements(ctx, { tagFunctions: cfg.tagFunctions, listFunctions: true, tagging: true }))),
      },
      parent,
    );

    const forwarder = new aws.iam.Role(
      `${name}-forwarder`,
      { assumeRolePolicy: serviceTrust('events.amazonaws.com', { StringEquals: { 'aws:SourceAccount': ctx.accountId } }), tags: ctx.tags },
      parent,
    );
    const forwarderPolicy = new aws.iam.RolePolicy(
      `${name}-forwarder`,
      { role: forwarder.id, policy: policyJson(policyDocument([{ Sid: 'ForwardToHub', Effect: 'Allow', Action: 'events:PutEvents', Resource: hub.eventBusArn }])) },
      parent,
    );
    this.forwardRule = new aws.cloudwatch.EventRule(
      `${name}-deployments`,
      {
        description: 'shipscan: forward Lambda deployments to the hub',
        eventPattern: JSON.stringify(lambdaEventPattern({ includeConfigurationChanges: cfg.scanOnConfigurationChange })),
        tags: ctx.tags,
      },
      parent,
    );
    new aws.cloudwatch.EventTarget(
      `${name}-deployments`,
      { rule: this.forwardRule.name, arn: hub.eventBusArn, roleArn: forwarder.arn, retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 } },
      { parent: this, dependsOn: [forwarderPolicy] },
    );
    // The same role forwards the security events: it may put events on the hub bus, nothing else.
    const securityPatterns = cfg.securityEvents.enabled ? securityPatternsFor(args.findings ?? { disabledRules: [] }) : [];
    this.securityForwardRules = securityPatterns.map((pattern, index) => {
      const suffix = securityRuleSuffix(index);
      const rule = new aws.cloudwatch.EventRule(
        `${name}-${suffix}`,
        {
          description: `shipscan: forward risky API calls to the hub (security-event detectors), part ${index + 1} of ${securityPatterns.length}`,
          eventPattern: JSON.stringify(pattern),
          tags: ctx.tags,
        },
        parent,
      );
      new aws.cloudwatch.EventTarget(
        `${name}-${suffix}`,
        { rule: rule.name, arn: hub.eventBusArn, roleArn: forwarder.arn, retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 } },
        { parent: this, dependsOn: [forwarderPolicy] },
      );
      return rule;
    });

    const ownBuckets: pulumi.Output<string>[] = [];
    if (cfg.createTrail) {
      const trailName = `${ctx.prefix}-trail`;
      const key = createKey(`${name}-key`, ctx, { trailName }, this);
      const trail = createTrail(`${name}-trail`, ctx, key, trailName, cfg.logRetentionDays, this);
      this.trail = trail.trail;
      ownBuckets.push(trail.bucket.bucket);
      if (cfg.accessLogging) {
        this.accessLogsBucket = accessLogging(
          `${name}-access-logs`,
          ctx,
          { expireAfterDays: cfg.logRetentionDays, sources: [{ name: trail.bucketName, prefix: 'trail', bucket: trail.bucket }] },
          this,
        ).bucket;
        ownBuckets.push(this.accessLogsBucket.bucket);
      }
    }

    if (cfg.artifacts.enabled) {
      const artifacts = cfg.artifacts;
      // The hub's object scanner reads with this role: exactly the hub's roles, with the ExternalId, reads only.
      this.objectReaderRole = new aws.iam.Role(
        `${name}-object-reader`,
        {
          name: artifacts.crossAccountRoleName,
          description: `Lets the shipscan hub (account ${hub.accountId}) read new objects of the configured buckets`,
          maxSessionDuration: 3600,
          assumeRolePolicy: policyJson(
            policyDocument([
              { Sid: 'HubAssumesWithExternalId', Effect: 'Allow', Principal: { AWS: [...hubRoles] }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'sts:ExternalId': externalId } } },
            ]),
          ),
          tags: ctx.tags,
        },
        parent,
      );
      new aws.iam.RolePolicy(
        `${name}-object-reader`,
        {
          role: this.objectReaderRole.id,
          policy: policyJson(policyDocument([{ Sid: 'ReadConfiguredObjects', Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: objectReadResources(artifacts, ctx.partition) }])),
        },
        parent,
      );
      const patterns: [string, string, pulumi.Input<string>][] = [
        [
          'objects',
          'shipscan: forward S3 object writes to the hub',
          pulumi.all(ownBuckets).apply((own) =>
            JSON.stringify(
              objectWritePattern({
                includeBuckets: artifacts.buckets.include,
                excludeBuckets: artifacts.buckets.exclude,
                includePrefixes: artifacts.prefixes.include,
                excludePrefixes: artifacts.prefixes.exclude,
                ownBuckets: own,
              }),
            ),
          ),
        ],
        ...(artifacts.ecrPushes ? [['ecr-pushes', 'shipscan: forward ECR pushes to the hub', JSON.stringify(ecrPushPattern())] as [string, string, string]] : []),
      ];
      for (const [suffix, description, pattern] of patterns) {
        const rule = new aws.cloudwatch.EventRule(`${name}-${suffix}`, { description, eventPattern: pattern, tags: ctx.tags }, parent);
        new aws.cloudwatch.EventTarget(
          `${name}-${suffix}`,
          { rule: rule.name, arn: hub.eventBusArn, roleArn: forwarder.arn, retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 } },
          { parent: this, dependsOn: [forwarderPolicy] },
        );
        this.artifactRules.push(rule);
      }
    }

    this.registerOutputs({
      accessRoleArn: this.accessRole.arn,
      forwardRuleArn: this.forwardRule.arn,
      securityForwardRuleArns: this.securityForwardRules.map((rule) => rule.arn),
      hubAccountId: hub.accountId,
    });
  }
}
