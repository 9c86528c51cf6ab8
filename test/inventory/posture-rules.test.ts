import { expect } from 'chai';
import type { Instance, SecurityGroup } from '@aws-sdk/client-ec2';
import { instanceShape, securityGroupShape } from '../../functions/aws/inventory/collectors/ec2';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import {
  AWS_POSTURE_RULES,
  createPostureRegistry,
  DEFAULT_POSTURE_SETTINGS,
  PostureRegistryError,
  type AccountTrailsShape,
  type AwsPostureContext,
  type AwsPostureRule,
  type Ec2InstanceShape,
  type IamRootShape,
  type IamUserShape,
  type KmsKeyShape,
  type LambdaFunctionShape,
  type LoadBalancerShape,
  type PasswordPolicyShape,
  type RdsInstanceShape,
  type S3AccountShape,
  type S3BucketShape,
  type SecurityGroupShape,
  type TrailShape,
} from '../../shared/rules/aws/posture';
import type { PostureEvaluation } from '../../shared/rules/types';
import { loadCorpus } from '../support/corpus';
import * as samples from './support/api-samples';

/**
 * One table per posture rule: stored configurations in the shapes the collectors write, built from the
 * public API documentation's examples (support/api-samples.ts) and the corpus, then varied one field at a
 * time. Each row says what the rule must answer: pass, the failing subjects (with severity), or not
 * applicable.
 */

const NOW = new Date('2026-03-01T00:00:00Z');
const ctx: AwsPostureContext = { allowLists: DEFAULT_ALLOW_LISTS, now: NOW, settings: DEFAULT_POSTURE_SETTINGS };

function rule(id: string): AwsPostureRule {
  const found = AWS_POSTURE_RULES.find((r) => r.id === id);
  if (!found) throw new Error(`no rule ${id}`);
  return found;
}

type Expected = 'pass' | 'n/a' | string[] | { subject: string; severity: string }[];

function verdict(evaluation: PostureEvaluation): Expected {
  if (evaluation.status === 'not-applicable') return 'n/a';
  if (evaluation.failures.length === 0) return 'pass';
  return evaluation.failures.map((f) => f.subject);
}

function table<C>(id: string, rows: [string, C, Expected][], context: AwsPostureContext = ctx): void {
  describe(id, () => {
    for (const [name, config, expected] of rows) {
      it(`${name}: ${Array.isArray(expected) ? `fails ${JSON.stringify(expected)}` : expected}`, () => {
        const evaluation = rule(id).evaluate(config, context);
        if (Array.isArray(expected) && typeof expected[0] === 'object') {
          expect(evaluation.status).to.equal('evaluated');
          const failures = evaluation.status === 'evaluated' ? evaluation.failures : [];
          expect(failures.map((f) => ({ subject: f.subject, severity: f.severity ?? rule(id).severity }))).to.deep.equal(expected);
        } else {
          expect(verdict(evaluation)).to.deep.equal(expected);
        }
        if (evaluation.status === 'evaluated') for (const f of evaluation.failures) expect(JSON.stringify(f.evidence).length).to.be.below(4096);
      });
    }
  });
}

// ---------------------------------------------------------------- S3

const PAB_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
function bucket(over: Partial<S3BucketShape> = {}): S3BucketShape {
  return {
    Name: 'amzn-s3-demo-bucket',
    BucketRegion: 'us-east-1',
    PublicAccessBlock: PAB_ON,
    Policy: null,
    Encryption: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }] },
    Versioning: { Status: 'Enabled' },
    Logging: { LoggingEnabled: { TargetBucket: 'amzn-s3-demo-logs', TargetPrefix: 'amzn-s3-demo-bucket/' } },
    TagSet: [],
    ...over,
  };
}

const publicRead = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' }] });
const publicWrite = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: ['s3:PutObject'], Resource: 'arn:aws:s3:::amzn-s3-demo-bucket/*' }] });
const orgOnly = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123defg' } } }] });

table<S3BucketShape>('aws.s3.bucket-block-public-access-disabled', [
  ['all four settings on', bucket(), 'pass'],
  ['no configuration (NoSuchPublicAccessBlockConfiguration)', bucket({ PublicAccessBlock: null }), ['public-access-block']],
  ['RestrictPublicBuckets off', bucket({ PublicAccessBlock: { ...PAB_ON, RestrictPublicBuckets: false } }), ['public-access-block']],
]);

table<S3AccountShape>('aws.s3.account-block-public-access-disabled', [
  ['account-wide on', { AccountId: '123456789012', PublicAccessBlock: PAB_ON }, 'pass'],
  ['none', { AccountId: '123456789012', PublicAccessBlock: null }, ['public-access-block']],
  ['BlockPublicPolicy off', { AccountId: '123456789012', PublicAccessBlock: { ...PAB_ON, BlockPublicPolicy: false } }, ['public-access-block']],
]);

table<S3BucketShape>('aws.s3.bucket-policy-public', [
  ['no policy (NoSuchBucketPolicy)', bucket(), 'pass'],
  ['public read, Block Public Access off', bucket({ Policy: publicRead, PublicAccessBlock: null }), [{ subject: 'bucket-policy', severity: 'HIGH' }]],
  ['public write', bucket({ Policy: publicWrite, PublicAccessBlock: null }), [{ subject: 'bucket-policy', severity: 'CRITICAL' }]],
  ['public read held back by RestrictPublicBuckets', bucket({ Policy: publicRead }), [{ subject: 'bucket-policy', severity: 'MEDIUM' }]],
  ['limited to the organisation', bucket({ Policy: orgOnly, PublicAccessBlock: null }), 'pass'],
  ['not a policy document', bucket({ Policy: '<xml/>' }), 'n/a'],
]);

table<S3BucketShape>('aws.s3.bucket-default-encryption-missing', [
  ['SSE-S3', bucket(), 'pass'],
  ['SSE-KMS', bucket({ Encryption: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'arn:aws:kms:us-east-1:123456789012:key/x' } }] } }), 'pass'],
  ['none (ServerSideEncryptionConfigurationNotFoundError)', bucket({ Encryption: null }), ['default-encryption']],
  ['a rule without an algorithm', bucket({ Encryption: { Rules: [{ BucketKeyEnabled: true }] } }), ['default-encryption']],
]);

table<S3BucketShape>('aws.s3.bucket-versioning-off', [
  ['Enabled', bucket(), 'pass'],
  ['Suspended', bucket({ Versioning: { Status: 'Suspended' } }), ['versioning']],
  ['never enabled (no Status)', bucket({ Versioning: {} }), ['versioning']],
]);

table<S3BucketShape>('aws.s3.bucket-access-logging-off', [
  ['logging to a bucket', bucket(), 'pass'],
  ['no LoggingEnabled', bucket({ Logging: {} }), ['access-logging']],
]);

// ---------------------------------------------------------------- EC2

const documentedGroup = securityGroupShape(samples.DESCRIBE_SECURITY_GROUPS_VPC.SecurityGroups[0] as SecurityGroup);
function group(ingress: SecurityGroupShape['IpPermissions'], over: Partial<SecurityGroupShape> = {}): SecurityGroupShape {
  return { ...documentedGroup, IpPermissions: ingress, ...over };
}
const world = (protocol: string, from?: number, to?: number, cidr = '0.0.0.0/0') => ({ IpProtocol: protocol, FromPort: from, ToPort: to, IpRanges: [{ CidrIp: cidr }] });

table<SecurityGroupShape>('aws.ec2.security-group-open-to-internet', [
  ['the documented group (SSH from 203.0.113.0/24, itself)', documentedGroup, 'pass'],
  ['SSH from the world', group([world('tcp', 22, 22)]), [{ subject: 'tcp/22-22 from 0.0.0.0/0', severity: 'CRITICAL' }]],
  ['HTTPS from the world (allow-listed)', group([world('tcp', 443, 443)]), 'pass'],
  ['a high port from the world', group([world('tcp', 8080, 8080)]), [{ subject: 'tcp/8080-8080 from 0.0.0.0/0', severity: 'HIGH' }]],
  ['all traffic from ::/0', group([{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }]), [{ subject: 'all/0-65535 from ::/0', severity: 'CRITICAL' }]],
  ['split halves 0.0.0.0/1', group([world('tcp', 5432, 5432, '0.0.0.0/1')]), [{ subject: 'tcp/5432-5432 from 0.0.0.0/1', severity: 'HIGH' }]],
  ['a private range', group([world('tcp', 22, 22, '10.0.0.0/8')]), 'pass'],
  ['ICMP from the world', group([world('icmp', -1, -1)]), 'pass'],
  ['the same range twice', group([world('tcp', 22, 22), world('tcp', 22, 22)]), [{ subject: 'tcp/22-22 from 0.0.0.0/0', severity: 'CRITICAL' }]],
]);

describe('aws.ec2.security-group-open-to-internet with a trusted range', () => {
  it('a trusted CIDR is not exposure', () => {
    const evaluation = rule('aws.ec2.security-group-open-to-internet').evaluate(group([world('tcp', 22, 22, '44.0.0.0/8')]), { ...ctx, allowLists: { ...DEFAULT_ALLOW_LISTS, trustedCidrs: ['44.0.0.0/8'] } });
    expect(verdict(evaluation)).to.equal('pass');
  });
});

table<SecurityGroupShape>('aws.ec2.default-security-group-has-rules', [
  ['not the default group', documentedGroup, 'n/a'],
  ['default group with the AWS-created rules', group(documentedGroup.IpPermissions, { GroupName: 'default' }), ['default-group-rules']],
  ['default group emptied', group([], { GroupName: 'default', IpPermissionsEgress: [] }), 'pass'],
]);

const [optional, required] = samples.describeInstances([
  { id: 'i-1234567890abcdef0', tokens: 'optional' },
  { id: 'i-0598c7d356eba48d7', tokens: 'required' },
]).Reservations[0]!.Instances.map((i) => instanceShape(i as Instance));
table<Ec2InstanceShape>('aws.ec2.instance-imdsv1-allowed', [
  ['HttpTokens required', required!, 'pass'],
  ['HttpTokens optional', optional!, ['metadata-options']],
  ['metadata service off', { ...optional!, MetadataOptions: { ...optional!.MetadataOptions, HttpEndpoint: 'disabled' } }, 'pass'],
  ['terminated', { ...optional!, State: { Name: 'terminated' } }, 'n/a'],
  ['no MetadataOptions', { InstanceId: 'i-0', State: { Name: 'running' } }, 'n/a'],
]);

// ---------------------------------------------------------------- IAM

function user(over: Partial<IamUserShape> = {}): IamUserShape {
  return { UserName: 'Bob', Arn: 'arn:aws:iam::123456789012:user/Bob', LoginProfile: null, MFADevices: [], AccessKeys: [], ...over };
}
const documentedKeys = samples.LIST_ACCESS_KEYS.AccessKeyMetadata.map((k) => ({ AccessKeyId: k.AccessKeyId, Status: k.Status, CreateDate: k.CreateDate.toISOString() }));
const lastUsed = samples.GET_ACCESS_KEY_LAST_USED.AccessKeyLastUsed;

table<IamUserShape>('aws.iam.access-key-too-old', [
  ['the documented keys (2013): the active one is old, the inactive one ignored', user({ AccessKeys: documentedKeys }), ['access-key/AKIAIOSFODNN7EXAMPLE']],
  ['a key of 30 days', user({ AccessKeys: [{ AccessKeyId: 'AKIANEW', Status: 'Active', CreateDate: '2026-01-30T00:00:00Z' }] }), 'pass'],
  ['exactly 90 days', user({ AccessKeys: [{ AccessKeyId: 'AKIA90', Status: 'Active', CreateDate: '2025-12-01T00:00:00Z' }] }), 'pass'],
  ['91 days', user({ AccessKeys: [{ AccessKeyId: 'AKIA91', Status: 'Active', CreateDate: '2025-11-30T00:00:00Z' }] }), ['access-key/AKIA91']],
  ['no keys', user(), 'pass'],
]);

describe('aws.iam.access-key-too-old follows accessKeyMaxAgeDays', () => {
  it('a 30-day key fails a 14-day limit', () => {
    const evaluation = rule('aws.iam.access-key-too-old').evaluate(user({ AccessKeys: [{ AccessKeyId: 'AKIANEW', Status: 'Active', CreateDate: '2026-01-30T00:00:00Z' }] }), { ...ctx, settings: { ...DEFAULT_POSTURE_SETTINGS, accessKeyMaxAgeDays: 14 } });
    expect(verdict(evaluation)).to.deep.equal(['access-key/AKIANEW']);
  });
});

table<IamUserShape>('aws.iam.access-key-unused', [
  ['last used in 2015 (the documented answer)', user({ AccessKeys: [{ ...documentedKeys[0]!, LastUsed: { LastUsedDate: lastUsed.LastUsedDate.toISOString(), ServiceName: lastUsed.ServiceName, Region: lastUsed.Region } }] }), ['access-key/AKIAIOSFODNN7EXAMPLE']],
  ['used yesterday', user({ AccessKeys: [{ AccessKeyId: 'AKIAUSED', Status: 'Active', CreateDate: '2020-01-01T00:00:00Z', LastUsed: { LastUsedDate: '2026-02-28T00:00:00Z' } }] }), 'pass'],
  ['never used, created 100 days ago', user({ AccessKeys: [{ AccessKeyId: 'AKIAIDLE', Status: 'Active', CreateDate: '2025-11-21T00:00:00Z', LastUsed: { ServiceName: 'N/A', Region: 'N/A' } }] }), ['access-key/AKIAIDLE']],
  ['never used, created 10 days ago', user({ AccessKeys: [{ AccessKeyId: 'AKIAFRESH', Status: 'Active', CreateDate: '2026-02-19T00:00:00Z' }] }), 'pass'],
  ['inactive and unused', user({ AccessKeys: [{ ...documentedKeys[1]! }] }), 'pass'],
]);

const login = { CreateDate: samples.GET_LOGIN_PROFILE.LoginProfile.CreateDate.toISOString() };
table<IamUserShape>('aws.iam.console-user-without-mfa', [
  ['console password, no MFA', user({ LoginProfile: login }), ['console-mfa']],
  ['console password and the documented MFA device', user({ LoginProfile: login, MFADevices: [{ SerialNumber: samples.LIST_MFA_DEVICES.MFADevices[0]!.SerialNumber }] }), 'pass'],
  ['no console password (NoSuchEntity)', user(), 'pass'],
]);

table<PasswordPolicyShape>('aws.iam.password-policy-weak', [
  ['the documented policy (length 8, no case rules)', samples.GET_ACCOUNT_PASSWORD_POLICY, ['password-policy']],
  ['no policy (NoSuchEntity)', { PasswordPolicy: null }, ['password-policy']],
  [
    'CIS policy',
    { PasswordPolicy: { MinimumPasswordLength: 14, RequireSymbols: true, RequireNumbers: true, RequireUppercaseCharacters: true, RequireLowercaseCharacters: true, PasswordReusePrevention: 24 } },
    'pass',
  ],
]);

describe('aws.iam.password-policy-weak names what is weak', () => {
  it('the documented policy misses length, both cases and reuse prevention', () => {
    const evaluation = rule('aws.iam.password-policy-weak').evaluate(samples.GET_ACCOUNT_PASSWORD_POLICY, ctx);
    expect(evaluation.status === 'evaluated' && evaluation.failures[0]?.evidence.weaknesses).to.deep.equal([
      'minimum length 8 < 14',
      'upper-case letters not required',
      'lower-case letters not required',
      'reuse prevention unset < 24',
    ]);
  });
});

const summary: IamRootShape = { SummaryMap: samples.GET_ACCOUNT_SUMMARY.SummaryMap };
table<IamRootShape>('aws.iam.root-without-mfa', [
  ['the documented summary (AccountMFAEnabled 0)', summary, ['root-mfa']],
  ['MFA on', { SummaryMap: { ...summary.SummaryMap, AccountMFAEnabled: 1 } }, 'pass'],
  ['key missing from the map', { SummaryMap: {} }, 'n/a'],
]);

table<IamRootShape>('aws.iam.root-access-keys-present', [
  ['no keys', { SummaryMap: { AccountAccessKeysPresent: 0 } }, 'pass'],
  ['keys present', { SummaryMap: { AccountAccessKeysPresent: 1 } }, ['root-access-keys']],
  ['the documented summary omits the key', summary, 'n/a'],
]);

// ---------------------------------------------------------------- Lambda

interface GetFunctionSample {
  data?: { Configuration: Record<string, unknown> };
  Configuration?: Record<string, unknown>;
}
function corpusFunction(file: string): LambdaFunctionShape {
  const sample = loadCorpus<GetFunctionSample>(file);
  const c = (sample.data?.Configuration ?? sample.Configuration)!;
  return { FunctionName: String(c.FunctionName), FunctionArn: String(c.FunctionArn), Runtime: c.Runtime as string | undefined, PackageType: c.PackageType as string | undefined, Policy: null, FunctionUrls: [], Tags: {} };
}
const nodeFn = corpusFunction('aws/api-lambda-GetFunction-zip.awscli-example.json');
const pythonFn = corpusFunction('aws/api-lambda-GetFunction-zip.c7n-placebo.json');
const imageFn = corpusFunction('aws/api-lambda-GetFunction-image.c7n-placebo.json');
const policy = (statement: Record<string, unknown>) => JSON.stringify({ Version: '2012-10-17', Id: 'default', Statement: [{ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: nodeFn.FunctionArn, ...statement }] });

table<LambdaFunctionShape>('aws.lambda.resource-policy-public', [
  ['no policy (ResourceNotFoundException)', nodeFn, 'pass'],
  ['Principal * without condition', { ...nodeFn, Policy: policy({ Sid: 'backdoor', Principal: '*' }) }, [{ subject: 'permission/backdoor', severity: 'HIGH' }]],
  ['S3 with SourceArn', { ...nodeFn, Policy: policy({ Sid: 's3', Principal: { Service: 's3.amazonaws.com' }, Condition: { ArnLike: { 'AWS:SourceArn': 'arn:aws:s3:::amzn-s3-demo-bucket' } } }) }, 'pass'],
  ['Principal * with SourceAccount', { ...nodeFn, Policy: policy({ Sid: 'acct', Principal: '*', Condition: { StringEquals: { 'AWS:SourceAccount': '123456789012' } } }) }, 'pass'],
  [
    'function URL permission limited to AWS_IAM',
    { ...nodeFn, Policy: policy({ Sid: 'url', Principal: '*', Action: 'lambda:InvokeFunctionUrl', Condition: { StringEquals: { 'lambda:FunctionUrlAuthType': 'AWS_IAM' } } }) },
    [{ subject: 'permission/url', severity: 'MEDIUM' }],
  ],
]);

table<LambdaFunctionShape>('aws.lambda.function-url-no-auth', [
  ['no URL', nodeFn, 'pass'],
  ['URL with AWS_IAM', { ...nodeFn, FunctionUrls: [{ AuthType: 'AWS_IAM', FunctionArn: nodeFn.FunctionArn }] }, 'pass'],
  ['URL with NONE', { ...nodeFn, FunctionUrls: [{ AuthType: 'NONE', FunctionArn: nodeFn.FunctionArn, FunctionUrl: 'https://abc.lambda-url.us-west-2.on.aws/' }] }, ['url']],
  ['alias URL with NONE', { ...nodeFn, FunctionUrls: [{ AuthType: 'NONE', FunctionArn: `${nodeFn.FunctionArn}:live` }] }, ['url@live']],
]);

table<LambdaFunctionShape>('aws.lambda.critical-vulnerabilities', [
  ['never scanned', nodeFn, 'n/a'],
  ['last scan clean', { ...nodeFn, Tags: { ShipscanStatus: 'COMPLETED', ShipscanCritical: '0', ShipscanHigh: '3' } }, 'pass'],
  ['two critical', { ...nodeFn, Tags: { ShipscanStatus: 'COMPLETED', ShipscanCritical: '2', ShipscanHigh: '2', ShipscanTime: '2026-02-01T00:00:00Z' } }, ['last-scan']],
  ['a tag that is not a count', { ...nodeFn, Tags: { ShipscanStatus: 'COMPLETED', ShipscanCritical: 'many' } }, 'n/a'],
]);

table<LambdaFunctionShape>('aws.lambda.deprecated-runtime', [
  ['nodejs22.x (the awscli example)', nodeFn, 'pass'],
  ['python3.12 (the corpus c7n sample)', pythonFn, 'pass'],
  ['nodejs16.x', { ...nodeFn, Runtime: 'nodejs16.x' }, ['runtime']],
  ['python3.9 after 2025-12-15', { ...nodeFn, Runtime: 'python3.9' }, ['runtime']],
  ['container image (no runtime)', imageFn, 'n/a'],
  ['a runtime the table does not know', { ...nodeFn, Runtime: 'nodejs99.x' }, 'pass'],
]);

describe('aws.lambda.deprecated-runtime judges against the evaluation time', () => {
  it('nodejs20.x passes before 2026-04-30 and fails after', () => {
    const r = rule('aws.lambda.deprecated-runtime');
    expect(verdict(r.evaluate({ ...nodeFn, Runtime: 'nodejs20.x' }, ctx))).to.equal('pass');
    expect(verdict(r.evaluate({ ...nodeFn, Runtime: 'nodejs20.x' }, { ...ctx, now: new Date('2026-05-01T00:00:00Z') }))).to.deep.equal(['runtime']);
  });
});

// ---------------------------------------------------------------- RDS, ELBv2

const db = samples.DESCRIBE_DB_INSTANCES.DBInstances[0] as RdsInstanceShape;
table<RdsInstanceShape>('aws.rds.instance-publicly-accessible', [
  ['publicly accessible', db, ['publicly-accessible']],
  ['private', { ...db, PubliclyAccessible: false }, 'pass'],
]);
table<RdsInstanceShape>('aws.rds.storage-unencrypted', [
  ['unencrypted', db, ['storage-encryption']],
  ['encrypted', { ...db, StorageEncrypted: true }, 'pass'],
]);

const lb: LoadBalancerShape = { ...(samples.DESCRIBE_LOAD_BALANCERS.LoadBalancers[0] as Omit<LoadBalancerShape, 'Listeners'>), Listeners: samples.DESCRIBE_LISTENERS.Listeners };
table<LoadBalancerShape>('aws.elbv2.http-listener-without-redirect', [
  ['the documented ALB (HTTP 80 forwards)', lb, ['listener/HTTP:80']],
  ['HTTP 80 redirects to HTTPS', { ...lb, Listeners: [lb.Listeners[0]!, { ...lb.Listeners[1]!, DefaultActions: [{ Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }] }] }, 'pass'],
  ['internal', { ...lb, Scheme: 'internal' }, 'n/a'],
  ['network load balancer', { ...lb, Type: 'network' }, 'n/a'],
]);

// ---------------------------------------------------------------- CloudTrail, KMS

const trail = (documented: (typeof samples.DESCRIBE_TRAILS.trailList)[number], over: Partial<TrailShape> = {}): TrailShape => ({
  Name: documented.Name,
  TrailARN: documented.TrailARN,
  HomeRegion: documented.HomeRegion,
  IsMultiRegionTrail: documented.IsMultiRegionTrail,
  LogFileValidationEnabled: documented.LogFileValidationEnabled,
  Status: { IsLogging: samples.GET_TRAIL_STATUS.IsLogging },
  EventSelectors: { EventSelectors: samples.GET_EVENT_SELECTORS.EventSelectors },
  ...over,
});
const trail1 = trail(samples.DESCRIBE_TRAILS.trailList[0]!);

table<TrailShape>('aws.cloudtrail.log-file-validation-off', [
  ['the documented Trail1 (validation off)', trail1, ['log-file-validation']],
  ['validation on', { ...trail1, LogFileValidationEnabled: true }, 'pass'],
]);
table<TrailShape>('aws.cloudtrail.trail-not-logging', [
  ['logging (the documented status)', trail1, 'pass'],
  ['stopped', { ...trail1, Status: { IsLogging: false } }, ['logging']],
]);

const coverage = (trails: TrailShape[]): AccountTrailsShape => ({ ListedIn: 'us-east-1', MultiRegionTrails: trails });
const multi = { ...trail1, IsMultiRegionTrail: true };
table<AccountTrailsShape>('aws.cloudtrail.no-multi-region-trail', [
  ['no multi-region trail (the documented trails are single-region)', coverage([]), ['multi-region-trail']],
  ['a logging multi-region trail with all management events', coverage([multi]), 'pass'],
  ['multi-region but stopped', coverage([{ ...multi, Status: { IsLogging: false } }]), ['multi-region-trail']],
  ['write-only management events', coverage([{ ...multi, EventSelectors: { EventSelectors: [{ ReadWriteType: 'WriteOnly', IncludeManagementEvents: true }] } }]), ['multi-region-trail']],
  [
    'advanced selectors for management events',
    coverage([{ ...multi, EventSelectors: { AdvancedEventSelectors: [{ Name: 'mgmt', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] }] } }]),
    'pass',
  ],
]);

const key = (metadata: (typeof samples.DESCRIBE_KEY_CUSTOMER_SYMMETRIC)['KeyMetadata'] | (typeof samples.DESCRIBE_KEY_RSA)['KeyMetadata'] | (typeof samples.DESCRIBE_KEY_AWS_MANAGED)['KeyMetadata'], rotation: boolean | null): KmsKeyShape => ({
  KeyId: metadata.KeyId,
  Arn: metadata.Arn,
  KeyManager: metadata.KeyManager,
  KeyState: metadata.KeyState,
  KeySpec: metadata.KeySpec,
  KeyUsage: metadata.KeyUsage,
  Origin: metadata.Origin,
  KeyRotationEnabled: rotation,
});
table<KmsKeyShape>('aws.kms.key-rotation-off', [
  ['customer symmetric key, rotation off', key(samples.DESCRIBE_KEY_CUSTOMER_SYMMETRIC.KeyMetadata, false), ['rotation']],
  ['customer symmetric key, rotation on', key(samples.DESCRIBE_KEY_CUSTOMER_SYMMETRIC.KeyMetadata, true), 'pass'],
  ['AWS managed key (the documented S3 key)', key(samples.DESCRIBE_KEY_AWS_MANAGED.KeyMetadata, null), 'n/a'],
  ['RSA signing key', key(samples.DESCRIBE_KEY_RSA.KeyMetadata, null), 'n/a'],
  ['pending deletion', { ...key(samples.DESCRIBE_KEY_CUSTOMER_SYMMETRIC.KeyMetadata, false), KeyState: 'PendingDeletion' }, 'n/a'],
]);

// ---------------------------------------------------------------- the registry

describe('AWS posture rule registry', () => {
  it('holds 26 rules, one module each, every one with metadata and a table above', () => {
    expect(AWS_POSTURE_RULES).to.have.length(26);
    for (const r of AWS_POSTURE_RULES) {
      expect(r.title.length, r.id).to.be.greaterThan(10);
      expect(r.risk.length, r.id).to.be.greaterThan(40);
      expect(r.remediation.text.length, r.id).to.be.greaterThan(20);
      expect(r.triggers.length, r.id).to.be.greaterThan(0);
      expect(r.category).to.equal('posture');
    }
  });

  it('refuses a duplicate id, a rule over an unknown kind, and a service that does not collect its kind', () => {
    const first = AWS_POSTURE_RULES[0]!;
    expect(() => createPostureRegistry([first, first])).to.throw(PostureRegistryError, /twice/);
    expect(() => createPostureRegistry([{ ...first, id: 'aws.s3.other', resourceType: 'AWS::Nothing' }])).to.throw(PostureRegistryError, /no resource kind/);
    expect(() => createPostureRegistry([{ ...first, id: 'aws.s3.other', service: 'ec2' }])).to.throw(PostureRegistryError, /collected by s3/);
  });

  it('a disabled rule is not run and not returned', () => {
    const registry = createPostureRegistry(AWS_POSTURE_RULES, { disabledRules: ['aws.s3.bucket-versioning-off'] });
    expect(registry.rule('aws.s3.bucket-versioning-off')).to.equal(undefined);
    expect(registry.rulesFor('AWS::S3::Bucket').map((r) => r.id)).to.not.include('aws.s3.bucket-versioning-off');
  });
});
