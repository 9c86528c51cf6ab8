import * as pulumi from '@pulumi/pulumi';

/** IAM policy documents as typed values, serialised once with pulumi.jsonStringify. */
type Names = pulumi.Input<string> | pulumi.Input<string>[];
export type Principal = '*' | { AWS?: Names; Service?: Names };
export type ConditionBlock = Record<string, Record<string, pulumi.Input<string> | pulumi.Input<string>[]>>;

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Principal;
  Action: string | string[];
  Resource?: pulumi.Input<pulumi.Input<string> | pulumi.Input<string>[]>;
  Condition?: ConditionBlock;
}

export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: PolicyStatement[];
}

export function policyDocument(statements: readonly (PolicyStatement | false | undefined)[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements.filter((s): s is PolicyStatement => Boolean(s)) };
}

export function policyJson(document: PolicyDocument): pulumi.Output<string> {
  return pulumi.jsonStringify(document);
}

/** Trust policy for an AWS service principal. */
export function serviceTrust(service: string, condition?: ConditionBlock): pulumi.Output<string> {
  return policyJson(
    policyDocument([{ Effect: 'Allow', Principal: { Service: service }, Action: 'sts:AssumeRole', ...(condition ? { Condition: condition } : {}) }]),
  );
}

/** Bucket/queue statement refusing every request that does not use TLS. */
export function denyInsecureTransport(resources: pulumi.Input<pulumi.Input<string>[]>, action: string): PolicyStatement {
  return {
    Sid: 'DenyInsecureTransport',
    Effect: 'Deny',
    Principal: '*',
    Action: action,
    Resource: resources,
    Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  };
}
