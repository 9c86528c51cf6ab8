import { ecrPushPattern, objectWritePattern, type ObjectPatternOptions } from './artifact-patterns';

/**
 * The CloudFormation template the hub's StackSet deploys into every account of the targeted OUs (and, with
 * auto-deployment, every account that joins them later), built as typed data and serialised once:
 * - a forwarding rule for S3 object writes (CloudTrail data events, the configured filters) and, optionally,
 *   ECR pushes, targeting the hub's central bus through a role that may only `events:PutEvents` on that bus;
 * - the object-reader role (fixed name, so the hub can assume it in any account), created in the primary
 *   region only (IAM is global: a second region's stack would collide), trusting exactly the hub's object
 *   scanner role from inside the organisation, allowed only GetObject / GetObjectVersion on the configured
 *   buckets (or every bucket, when the stack says so).
 */

export interface ForwarderTemplateOptions {
  /** ARN of the hub's central event bus. */
  busArn: string;
  /** The hub's object scanner role: the only principal the reader role trusts. */
  scannerRoleArn: string;
  organizationId: string;
  readerRoleName: string;
  /** Where the reader role is created (one region of the StackSet's). */
  primaryRegion: string;
  /** Bucket names the reader may read; empty with allBuckets: every bucket. */
  readBuckets: readonly string[];
  allBuckets: boolean;
  ecrPushes: boolean;
  filters: Omit<ObjectPatternOptions, 'ownBuckets'>;
  partition?: string;
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface CfnTemplate {
  AWSTemplateFormatVersion: '2010-09-09';
  Description: string;
  Conditions: Record<string, Json>;
  Resources: Record<string, { Type: string; Condition?: string; Properties: Record<string, Json> }>;
}

export function forwarderTemplate(options: ForwarderTemplateOptions): CfnTemplate {
  const partition = options.partition ?? 'aws';
  const readResources = options.allBuckets && options.readBuckets.length === 0 ? [`arn:${partition}:s3:::*/*`] : options.readBuckets.map((bucket) => `arn:${partition}:s3:::${bucket}/*`);
  const forwardingRole = {
    Type: 'AWS::IAM::Role',
    Properties: {
      Description: 'shipscan: lets EventBridge forward new-artifact events to the hub bus',
      AssumeRolePolicyDocument: {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole', Condition: { StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } } }],
      },
      Policies: [{ PolicyName: 'forward-to-hub', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'events:PutEvents', Resource: options.busArn }] } }],
    },
  };
  const target = (id: string): Json => ({ Id: id, Arn: options.busArn, RoleArn: { 'Fn::GetAtt': ['ForwardingRole', 'Arn'] } });
  const resources: CfnTemplate['Resources'] = {
    ForwardingRole: forwardingRole,
    ObjectWritesRule: {
      Type: 'AWS::Events::Rule',
      Properties: {
        Description: 'shipscan: forward S3 object writes (CloudTrail data events) to the hub',
        EventPattern: objectWritePattern({ ...options.filters, ownBuckets: [] }) as Json,
        State: 'ENABLED',
        Targets: [target('hub-bus')],
      },
    },
    ObjectReaderRole: {
      Type: 'AWS::IAM::Role',
      Condition: 'IsPrimaryRegion',
      Properties: {
        RoleName: options.readerRoleName,
        Description: 'shipscan: lets the hub object scanner read new objects of the configured buckets',
        MaxSessionDuration: 3600,
        AssumeRolePolicyDocument: {
          Version: '2012-10-17',
          Statement: [
            {
              Effect: 'Allow',
              Principal: { AWS: options.scannerRoleArn },
              Action: 'sts:AssumeRole',
              Condition: { StringEquals: { 'aws:PrincipalOrgID': options.organizationId } },
            },
          ],
        },
        Policies: [{ PolicyName: 'read-objects', PolicyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['s3:GetObject', 's3:GetObjectVersion'], Resource: readResources }] } }],
      },
    },
  };
  if (options.ecrPushes) {
    resources.EcrPushesRule = {
      Type: 'AWS::Events::Rule',
      Properties: { Description: 'shipscan: forward ECR pushes to the hub', EventPattern: ecrPushPattern() as Json, State: 'ENABLED', Targets: [target('hub-bus')] },
    };
  }
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: 'shipscan: forwards new-artifact events to the hub and lets the hub read new objects',
    Conditions: { IsPrimaryRegion: { 'Fn::Equals': [{ Ref: 'AWS::Region' }, options.primaryRegion] } },
    Resources: resources,
  };
}
