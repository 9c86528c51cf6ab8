import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AwsConfig } from '../shared/config';
import type { AwsContext } from './context';
import { functionRequestForms, lambdaEventPattern } from './event-pattern';
import { policyDocument, policyJson } from './policy';
import type { ScanQueues } from './queues';

/**
 * Hub mode: the central bus spokes forward to. Its policy lets the listed spoke accounts, and/or
 * every account of the organization (aws:PrincipalOrgID), put events on it.
 */
export function centralBus(name: string, ctx: AwsContext, cfg: AwsConfig, parent: pulumi.Resource): aws.cloudwatch.EventBus {
  const bus = new aws.cloudwatch.EventBus(name, { name: `${ctx.prefix}-central`, tags: ctx.tags }, { parent });
  const spokeAccounts = cfg.spokes.map((spoke) => pulumi.interpolate`arn:${ctx.partition}:iam::${spoke.accountId}:root`);
  new aws.cloudwatch.EventBusPolicy(
    name,
    {
      eventBusName: bus.name,
      policy: policyJson(
        policyDocument([
          spokeAccounts.length > 0 && { Sid: 'SpokeAccountsPutEvents', Effect: 'Allow', Principal: { AWS: spokeAccounts }, Action: 'events:PutEvents', Resource: bus.arn },
          cfg.organizationId !== undefined && {
            Sid: 'OrganizationPutEvents',
            Effect: 'Allow',
            Principal: '*',
            Action: 'events:PutEvents',
            Resource: bus.arn,
            Condition: { StringEquals: { 'aws:PrincipalOrgID': cfg.organizationId } },
          },
        ]),
      ),
    },
    { parent },
  );
  return bus;
}

export interface DeploymentRuleArgs {
  includeConfigurationChanges: boolean;
  /** Physical names of the stack's own functions, each starting with `<ctx.prefix>-` (see OwnFunctions). */
  ownFunctions: string[];
  /** Buses to listen on besides the default bus (the hub's central bus). */
  extraBuses: { suffix: string; bus: aws.cloudwatch.EventBus }[];
}

/**
 * The Lambda deployment rule on each bus, targeting the scan queue (DLQ for undeliverable events).
 * Rules are named `<ctx.prefix>-<suffix>`: the stack key lets EventBridge encrypt into the queues
 * only for rules of that name (aws/kms.ts).
 */
export function deploymentRules(name: string, ctx: AwsContext, queues: ScanQueues, args: DeploymentRuleArgs, parent: pulumi.Resource): aws.cloudwatch.EventRule[] {
  for (const fn of args.ownFunctions) {
    if (!fn.startsWith(`${ctx.prefix}-`)) throw new Error(`own function ${fn} does not start with ${ctx.prefix}- and would not be excluded from the deployment rule`);
  }
  const pattern = pulumi.all([ctx.partition, ctx.region, ctx.accountId]).apply(([partition, region, account]) =>
    JSON.stringify(
      lambdaEventPattern({
        includeConfigurationChanges: args.includeConfigurationChanges,
        ownFunctions: {
          arnPrefix: `arn:${partition}:lambda:${region}:${account}:function:${ctx.prefix}-`,
          requestForms: functionRequestForms(partition, region, account, args.ownFunctions),
        },
      }),
    ),
  );
  const buses: { suffix: string; bus?: aws.cloudwatch.EventBus }[] = [{ suffix: 'deployments' }, ...args.extraBuses];
  return buses.map(({ suffix, bus }) => {
    const onBus = bus ? { eventBusName: bus.name } : {};
    const rule = new aws.cloudwatch.EventRule(
      `${name}-${suffix}`,
      {
        name: `${ctx.prefix}-${suffix}`,
        description: 'shipscan: Lambda functions created or updated (CloudTrail)',
        eventPattern: pattern,
        ...onBus,
        tags: ctx.tags,
      },
      { parent },
    );
    new aws.cloudwatch.EventTarget(
      `${name}-${suffix}`,
      {
        rule: rule.name,
        ...onBus,
        arn: queues.queue.arn,
        retryPolicy: { maximumEventAgeInSeconds: 24 * 3600, maximumRetryAttempts: 185 },
        deadLetterConfig: { arn: queues.deadLetterQueue.arn },
      },
      { parent },
    );
    return rule;
  });
}
