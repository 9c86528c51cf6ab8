import { expect } from 'chai';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { DescribeTrailsCommand, GetEventSelectorsCommand, GetTrailStatusCommand, CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { DescribeListenersCommand, DescribeLoadBalancersCommand, DescribeTagsCommand, ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  GetAccessKeyLastUsedCommand,
  GetAccountPasswordPolicyCommand,
  GetAccountSummaryCommand,
  GetLoginProfileCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  ListUsersCommand,
  ListUserTagsCommand,
  NoSuchEntityException,
} from '@aws-sdk/client-iam';
import { DescribeDBInstancesCommand, RDSClient } from '@aws-sdk/client-rds';
import { DescribeKeyCommand, GetKeyRotationStatusCommand, KMSClient, ListKeysCommand, ListResourceTagsCommand } from '@aws-sdk/client-kms';
import { GetPolicyCommand, LambdaClient, ListFunctionsCommand, ListFunctionUrlConfigsCommand, ListTagsCommand, ResourceNotFoundException, type FunctionConfiguration } from '@aws-sdk/client-lambda';
import {
  GetBucketEncryptionCommand,
  GetBucketLoggingCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
  ListBucketsCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { GetPublicAccessBlockCommand as GetAccountPublicAccessBlockCommand, S3ControlClient } from '@aws-sdk/client-s3-control';
import { callCounter } from '../../functions/aws/inventory/calls';
import { SdkClientFactory } from '../../functions/aws/inventory/clients';
import { COLLECTORS, type CollectorContext } from '../../functions/aws/inventory/collectors';
import { emptyAccount, FakeAws } from '../../local/inventory/fake-aws';
import { DEFAULT_ALLOW_LISTS } from '../../shared/rules/allow-lists';
import { RESOURCE_TYPES } from '../../shared/rules/aws/posture/kinds';
import { DEFAULT_POSTURE_REGISTRY, evaluatePosture } from '../../shared/rules/aws/posture/registry';
import { DEFAULT_POSTURE_SETTINGS, type PostureResource } from '../../shared/rules/aws/posture/types';
import * as samples from './support/api-samples';
import { loadCorpus } from '../support/corpus';

/**
 * The collectors against recorded API answers (aws-sdk-client-mock, the shapes of the public documentation's
 * examples in support/api-samples.ts): what they store, that they follow every page, that "not configured"
 * answers are stored as null and refused detail calls as readErrors, and what the rules then say. Throttling
 * goes through the local fake instead: aws-sdk-client-mock replaces `send`, so the SDK's retry never runs
 * under it, while the fake answers inside the retry loop.
 */

const ACCOUNT = '123456789012';

function context(factory = new SdkClientFactory({ credentialsFor: () => undefined, extra: { credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } }, maxAttempts: 1 })): CollectorContext {
  return { account: ACCOUNT, region: 'us-east-1', homeRegion: 'us-east-1', partition: 'aws', clients: factory, counter: callCounter(), concurrency: 4 };
}

function failuresOf(resource: PostureResource): Record<string, number> {
  const out: Record<string, number> = {};
  const rules = DEFAULT_POSTURE_REGISTRY.rulesFor(resource.type);
  evaluatePosture(resource, rules, { allowLists: DEFAULT_ALLOW_LISTS, settings: DEFAULT_POSTURE_SETTINGS, now: new Date('2026-06-01T00:00:00Z') }).forEach((outcome, i) => {
    if (outcome.status === 'evaluated' && outcome.failures.length > 0) out[rules[i]!.id] = outcome.failures.length;
  });
  return out;
}

function named(name: string, message = name) {
  return new S3ServiceException({ name, message, $fault: 'client', $metadata: {} });
}

// Class-level mocks replace send() for every client of the class in this process: they are made when these
// tests start and restored when they end, never at load time (other files' tests use real clients).
let iam: AwsClientStub<IAMClient>;
let s3: AwsClientStub<S3Client>;
let s3control: AwsClientStub<S3ControlClient>;
let ec2: AwsClientStub<EC2Client>;
let cloudtrail: AwsClientStub<CloudTrailClient>;
let elbv2: AwsClientStub<ElasticLoadBalancingV2Client>;
let rds: AwsClientStub<RDSClient>;
let kms: AwsClientStub<KMSClient>;
let lambda: AwsClientStub<LambdaClient>;
let mocks: { reset(): unknown; restore(): void }[] = [];

/**
 * A documented answer as the SDK's output type: the samples are transcribed JSON, whose enum values
 * (`"Active"`, `"internet-facing"`) TypeScript widens to string; the SDK deserialises them as those strings.
 */
function documented<T>(sample: object): T {
  return sample as T;
}

describe('inventory collectors against recorded API answers', function () {
  this.timeout(30_000);
  before(() => {
    iam = mockClient(IAMClient);
    s3 = mockClient(S3Client);
    s3control = mockClient(S3ControlClient);
    ec2 = mockClient(EC2Client);
    cloudtrail = mockClient(CloudTrailClient);
    elbv2 = mockClient(ElasticLoadBalancingV2Client);
    rds = mockClient(RDSClient);
    kms = mockClient(KMSClient);
    lambda = mockClient(LambdaClient);
    mocks = [iam, s3, s3control, ec2, cloudtrail, elbv2, rds, kms, lambda];
  });
  beforeEach(() => mocks.forEach((m) => m.reset()));
  after(() => mocks.forEach((m) => m.restore()));

  it('IAM: follows ListUsers pages (Marker), reads each user, the password policy and the root summary', async () => {
    const bob = samples.LIST_USERS_BOB.Users[0]!;
    iam.on(ListUsersCommand, {}).resolves({ Users: [bob], IsTruncated: true, Marker: 'page-2' });
    iam.on(ListUsersCommand, { Marker: 'page-2' }).resolves({ Users: [{ ...bob, UserName: 'Alice', UserId: 'AIDA2222222222EXAMPLE', Arn: `arn:aws:iam::${ACCOUNT}:user/Alice` }], IsTruncated: false });
    iam.on(GetLoginProfileCommand, { UserName: 'Bob' }).resolves(samples.GET_LOGIN_PROFILE);
    iam.on(GetLoginProfileCommand, { UserName: 'Alice' }).rejects(new NoSuchEntityException({ message: 'Login Profile for User Alice cannot be found.', $metadata: {} }));
    iam.on(ListMFADevicesCommand).resolves({ MFADevices: [], IsTruncated: false });
    iam.on(ListAccessKeysCommand, { UserName: 'Bob' }).resolves(documented(samples.LIST_ACCESS_KEYS));
    iam.on(ListAccessKeysCommand, { UserName: 'Alice' }).resolves({ AccessKeyMetadata: [] });
    iam.on(GetAccessKeyLastUsedCommand).resolves(samples.GET_ACCESS_KEY_LAST_USED);
    iam.on(ListUserTagsCommand).resolves({ Tags: [{ Key: 'team', Value: 'billing' }], IsTruncated: false });
    iam.on(GetAccountPasswordPolicyCommand).resolves(samples.GET_ACCOUNT_PASSWORD_POLICY);
    iam.on(GetAccountSummaryCommand).resolves(samples.GET_ACCOUNT_SUMMARY);

    const ctx = context();
    const resources = await COLLECTORS.iam.collect(ctx);
    expect(resources.map((r) => r.type).sort()).to.deep.equal([RESOURCE_TYPES.passwordPolicy, RESOURCE_TYPES.root, RESOURCE_TYPES.user, RESOURCE_TYPES.user].sort());
    expect(iam.commandCalls(ListUsersCommand)).to.have.length(2);
    const stored = Object.fromEntries(resources.map((r) => [r.name, r]));
    const bobConfig = stored.Bob!.config as { LoginProfile: unknown; AccessKeys: { Status: string; LastUsed?: { LastUsedDate?: string } }[] };
    expect(bobConfig.LoginProfile).to.not.equal(null);
    expect(bobConfig.AccessKeys).to.have.length(2);
    expect(bobConfig.AccessKeys[0]!.LastUsed?.LastUsedDate).to.equal('2015-06-16T22:45:00.000Z');
    expect((stored.Alice!.config as { LoginProfile: unknown }).LoginProfile).to.equal(null);
    expect(stored.Bob!.tags).to.deep.equal({ team: 'billing' });
    // Every page and call counted: 2 list pages + per user (login, MFA, keys, tags) + 2 last-used + policy + summary.
    expect(ctx.counter.total()).to.equal(2 + 2 * 4 + 2 + 2);

    expect(failuresOf(stored.Bob!)).to.include.keys('aws.iam.console-user-without-mfa', 'aws.iam.access-key-too-old');
    const root = resources.find((r) => r.type === RESOURCE_TYPES.root)!;
    expect(failuresOf(root)).to.have.key('aws.iam.root-without-mfa');
    const policy = resources.find((r) => r.type === RESOURCE_TYPES.passwordPolicy)!;
    expect(failuresOf(policy)).to.have.key('aws.iam.password-policy-weak');
  });

  it('IAM: no password policy (NoSuchEntity) is stored as null and fails the policy rule', async () => {
    iam.on(ListUsersCommand).resolves({ Users: [], IsTruncated: false });
    iam.on(GetAccountPasswordPolicyCommand).rejects(new NoSuchEntityException({ message: 'The Password Policy with domain name 123456789012 cannot be found.', $metadata: {} }));
    iam.on(GetAccountSummaryCommand).resolves({ SummaryMap: { AccountMFAEnabled: 1, AccountAccessKeysPresent: 0 } });
    const resources = await COLLECTORS.iam.collect(context());
    const policy = resources.find((r) => r.type === RESOURCE_TYPES.passwordPolicy)!;
    expect(policy.config).to.deep.equal({ PasswordPolicy: null });
    expect(failuresOf(policy)).to.have.key('aws.iam.password-policy-weak');
    expect(failuresOf(resources.find((r) => r.type === RESOURCE_TYPES.root)!)).to.deep.equal({});
  });

  it('S3: follows ListBuckets pages; absent settings are null, a refused detail call is a readError, not "not configured"', async () => {
    s3.on(ListBucketsCommand, {}).resolves({ Buckets: [{ Name: 'open-bucket', CreationDate: new Date('2024-01-01T00:00:00Z'), BucketRegion: 'us-east-1' }], ContinuationToken: 'next' });
    s3.on(ListBucketsCommand, { ContinuationToken: 'next' }).resolves({ Buckets: [{ Name: 'guarded-bucket', CreationDate: new Date('2024-01-01T00:00:00Z'), BucketRegion: 'eu-west-1' }] });
    s3.on(GetPublicAccessBlockCommand).rejects(named('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found'));
    s3.on(GetBucketPolicyCommand, { Bucket: 'open-bucket' }).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::open-bucket/*' }] }) });
    s3.on(GetBucketPolicyCommand, { Bucket: 'guarded-bucket' }).rejects(named('AccessDenied', 'Access Denied'));
    s3.on(GetBucketEncryptionCommand).resolves({ ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false }] } });
    s3.on(GetBucketVersioningCommand).resolves({});
    s3.on(GetBucketLoggingCommand).resolves({});
    s3.on(GetBucketTaggingCommand).rejects(named('NoSuchTagSet', 'The TagSet does not exist'));
    s3control.on(GetAccountPublicAccessBlockCommand).resolves({ PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } });

    const resources = await COLLECTORS.s3.collect(context());
    expect(s3.commandCalls(ListBucketsCommand)).to.have.length(2);
    const open = resources.find((r) => r.name === 'open-bucket')!;
    const guarded = resources.find((r) => r.name === 'guarded-bucket')!;
    expect(guarded.region).to.equal('eu-west-1');
    expect((open.config as { PublicAccessBlock: unknown }).PublicAccessBlock).to.equal(null);
    expect(open.readErrors).to.equal(undefined);
    expect(guarded.readErrors).to.deep.equal({ GetBucketPolicy: 'AccessDenied' });
    expect(failuresOf(open)).to.include.keys('aws.s3.bucket-policy-public', 'aws.s3.bucket-versioning-off', 'aws.s3.bucket-access-logging-off');
    expect(failuresOf(open)).to.not.have.key('aws.s3.bucket-default-encryption-missing');
    const account = resources.find((r) => r.type === RESOURCE_TYPES.s3Account)!;
    expect(failuresOf(account)).to.deep.equal({});
  });

  it('S3: a bucket deleted between the list and its reads is left out; describe answers undefined for it', async () => {
    s3.on(ListBucketsCommand).resolves({ Buckets: [{ Name: 'gone-bucket', BucketRegion: 'us-east-1' }] });
    for (const command of [GetPublicAccessBlockCommand, GetBucketPolicyCommand, GetBucketEncryptionCommand, GetBucketVersioningCommand, GetBucketLoggingCommand, GetBucketTaggingCommand] as const) {
      s3.on(command as typeof GetBucketPolicyCommand).rejects(named('NoSuchBucket', 'The specified bucket does not exist'));
    }
    s3control.on(GetAccountPublicAccessBlockCommand).rejects(named('NoSuchPublicAccessBlockConfiguration'));
    const resources = await COLLECTORS.s3.collect(context());
    expect(resources.map((r) => r.type)).to.deep.equal([RESOURCE_TYPES.s3Account]);
    expect(failuresOf(resources[0]!)).to.have.key('aws.s3.account-block-public-access-disabled');
    expect(await COLLECTORS.s3.describe(context(), { type: RESOURCE_TYPES.bucket, arn: 'arn:aws:s3:::gone-bucket', region: 'us-east-1' })).to.equal(undefined);
  });

  it('EC2: follows DescribeSecurityGroups pages (NextToken); instances keep their metadata options', async () => {
    const group = samples.DESCRIBE_SECURITY_GROUPS_VPC.SecurityGroups[0]!;
    ec2.on(DescribeSecurityGroupsCommand, { MaxResults: 1000 }).resolves({ SecurityGroups: [group], NextToken: 't2' });
    ec2.on(DescribeSecurityGroupsCommand, { MaxResults: 1000, NextToken: 't2' }).resolves({
      SecurityGroups: [{ ...group, GroupId: 'sg-00000000000000001', GroupName: 'open-ssh', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [], UserIdGroupPairs: [], PrefixListIds: [] }] }],
    });
    ec2.on(DescribeInstancesCommand).resolves(documented(samples.describeInstances([{ id: 'i-1234567890abcdef0', tokens: 'optional' }, { id: 'i-0598c7d356eba48d7', tokens: 'required' }])));
    const resources = await COLLECTORS.ec2.collect(context());
    expect(ec2.commandCalls(DescribeSecurityGroupsCommand)).to.have.length(2);
    const groups = resources.filter((r) => r.type === RESOURCE_TYPES.securityGroup);
    expect(groups).to.have.length(2);
    const open = groups.find((g) => g.name.includes('open-ssh'))!;
    expect(failuresOf(open)).to.have.key('aws.ec2.security-group-open-to-internet');
    const instances = resources.filter((r) => r.type === RESOURCE_TYPES.instance);
    expect(instances.map((i) => Object.keys(failuresOf(i)))).to.deep.equal([['aws.ec2.instance-imdsv1-allowed'], []]);
  });

  it('CloudTrail: trails of the documented example fail log file validation; the home region stores the account coverage', async () => {
    cloudtrail.on(DescribeTrailsCommand).resolves(samples.DESCRIBE_TRAILS);
    cloudtrail.on(GetTrailStatusCommand).resolves(samples.GET_TRAIL_STATUS);
    cloudtrail.on(GetEventSelectorsCommand).resolves(documented(samples.GET_EVENT_SELECTORS));
    const resources = await COLLECTORS.cloudtrail.collect(context());
    const trails = resources.filter((r) => r.type === RESOURCE_TYPES.trail);
    expect(trails.map((t) => t.name)).to.deep.equal(['Trail1', 'Trail2']);
    for (const trail of trails) expect(failuresOf(trail)).to.have.key('aws.cloudtrail.log-file-validation-off');
    const coverage = resources.find((r) => r.type === RESOURCE_TYPES.accountTrails)!;
    expect(failuresOf(coverage)).to.have.key('aws.cloudtrail.no-multi-region-trail');
    // Outside the home region the coverage is not stored twice.
    const elsewhere = await COLLECTORS.cloudtrail.collect({ ...context(), region: 'eu-west-1' });
    expect(elsewhere.map((r) => r.type)).to.deep.equal([]);
  });

  it('ELBv2 and RDS: the documented load balancer has an HTTP listener without redirect; the RDS instance is public and unencrypted', async () => {
    elbv2.on(DescribeLoadBalancersCommand).resolves(documented(samples.DESCRIBE_LOAD_BALANCERS));
    elbv2.on(DescribeListenersCommand).resolves(documented(samples.DESCRIBE_LISTENERS));
    elbv2.on(DescribeTagsCommand).resolves({ TagDescriptions: [] });
    rds.on(DescribeDBInstancesCommand).resolves(samples.DESCRIBE_DB_INSTANCES);
    const [lb] = await COLLECTORS.elbv2.collect({ ...context(), region: 'us-west-2' });
    expect(failuresOf(lb!)).to.deep.equal({ 'aws.elbv2.http-listener-without-redirect': 1 });
    const [db] = await COLLECTORS.rds.collect(context());
    expect(db!.tags).to.deep.equal({ team: 'orders' });
    expect(Object.keys(failuresOf(db!)).sort()).to.deep.equal(['aws.rds.instance-publicly-accessible', 'aws.rds.storage-unencrypted']);
  });

  it('KMS: rotation is asked only of customer managed symmetric keys; a customer key without rotation fails', async () => {
    const keys = [samples.DESCRIBE_KEY_AWS_MANAGED, samples.DESCRIBE_KEY_RSA, samples.DESCRIBE_KEY_CUSTOMER_SYMMETRIC].map((k) => documented<{ KeyMetadata: { KeyId: string } }>(k));
    kms.on(ListKeysCommand).resolves({ Keys: keys.map((k) => ({ KeyId: k.KeyMetadata.KeyId })), Truncated: false });
    for (const key of keys) kms.on(DescribeKeyCommand, { KeyId: key.KeyMetadata.KeyId }).resolves(documented(key));
    kms.on(GetKeyRotationStatusCommand).resolves({ KeyRotationEnabled: false });
    kms.on(ListResourceTagsCommand).resolves({ Tags: [], Truncated: false });
    const resources = await COLLECTORS.kms.collect({ ...context(), region: 'us-west-2' });
    expect(resources).to.have.length(3);
    expect(kms.commandCalls(GetKeyRotationStatusCommand).map((c) => c.args[0].input.KeyId)).to.deep.equal([keys[2]!.KeyMetadata.KeyId]);
    const failing = resources.filter((r) => Object.keys(failuresOf(r)).includes('aws.kms.key-rotation-off'));
    expect(failing.map((r) => (r.config as { KeyId: string }).KeyId)).to.deep.equal([keys[2]!.KeyMetadata.KeyId]);
  });

  it('Lambda: the corpus function with a public resource policy and an unauthenticated URL; no policy is stored as null', async () => {
    const corpus = loadCorpus<{ Configuration: FunctionConfiguration }>('aws/api-lambda-GetFunction-zip.awscli-example.json').Configuration;
    const region = corpus.FunctionArn!.split(':')[3]!;
    const quiet = { ...corpus, FunctionName: 'quiet-fn', FunctionArn: corpus.FunctionArn!.replace(corpus.FunctionName!, 'quiet-fn') };
    lambda.on(ListFunctionsCommand, {}).resolves({ Functions: [corpus], NextMarker: 'm2' });
    lambda.on(ListFunctionsCommand, { Marker: 'm2' }).resolves({ Functions: [quiet] });
    lambda.on(GetPolicyCommand, { FunctionName: corpus.FunctionArn }).resolves({ Policy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'lambda:InvokeFunction', Resource: corpus.FunctionArn }] }) });
    lambda.on(GetPolicyCommand, { FunctionName: quiet.FunctionArn }).rejects(new ResourceNotFoundException({ message: 'The resource you requested does not exist.', $metadata: {} }));
    lambda.on(ListFunctionUrlConfigsCommand, { FunctionName: corpus.FunctionArn }).resolves({ FunctionUrlConfigs: [{ FunctionUrl: 'https://abc.lambda-url.us-west-2.on.aws/', FunctionArn: corpus.FunctionArn, AuthType: 'NONE', CreationTime: '2025-01-01T00:00:00Z', LastModifiedTime: '2025-01-01T00:00:00Z' }] });
    lambda.on(ListFunctionUrlConfigsCommand, { FunctionName: quiet.FunctionArn }).resolves({ FunctionUrlConfigs: [] });
    lambda.on(ListTagsCommand).resolves({ Tags: { ShipscanStatus: 'COMPLETED' } });
    const resources = await COLLECTORS.lambda.collect({ ...context(), region });
    expect(lambda.commandCalls(ListFunctionsCommand)).to.have.length(2);
    const [exposed, calm] = resources;
    expect(Object.keys(failuresOf(exposed!))).to.include.members(['aws.lambda.resource-policy-public', 'aws.lambda.function-url-no-auth']);
    expect((calm!.config as { Policy: unknown }).Policy).to.equal(null);
    for (const rule of ['aws.lambda.resource-policy-public', 'aws.lambda.function-url-no-auth']) expect(Object.keys(failuresOf(calm!))).to.not.include(rule);
    expect(exposed!.tags).to.deep.equal({ ShipscanStatus: 'COMPLETED' });
  });

  it('an error other than AccessDenied fails the collection (the shard is retried), it is not stored as a gap', async () => {
    iam.on(ListUsersCommand).rejects(Object.assign(new Error('We encountered an internal error.'), { name: 'ServiceFailure', $fault: 'server', $metadata: {} }));
    let caught: unknown;
    try {
      await COLLECTORS.iam.collect(context());
    } catch (error) {
      caught = error;
    }
    expect((caught as Error | undefined)?.name).to.equal('ServiceFailure');
  });
});

describe('inventory collectors under throttling (local fake, the SDK adaptive retry)', function () {
  this.timeout(60_000);
  const REGION = 'us-east-1';

  function throttledFake(throttleAttempts: number): FakeAws {
    const fake = new FakeAws({ pageSize: 3, throttle: ({ attempt }) => attempt <= throttleAttempts });
    const account = emptyAccount(ACCOUNT, [REGION]);
    for (let i = 0; i < 7; i++) account.regions.get(REGION)!.securityGroups.set(`sg-${String(i).padStart(17, '0')}`, { name: `group-${i}`, vpcId: 'vpc-1', ingress: [], egress: [] });
    fake.accounts.set(ACCOUNT, account);
    return fake;
  }

  it('every page is retried after ThrottlingException and the collection completes', async () => {
    const fake = throttledFake(1);
    const ctx: CollectorContext = { ...context(fake.clientFactory({ maxAttempts: 4 })), region: REGION };
    const resources = await COLLECTORS.ec2.collect(ctx);
    expect(resources.filter((r) => r.type === RESOURCE_TYPES.securityGroup)).to.have.length(7);
    // 3 pages of groups + 1 of instances, each throttled once.
    expect(fake.log.throttled).to.equal(4);
    expect(fake.log.calls.get('ec2:DescribeSecurityGroups')).to.equal(3);
  });

  it('throttling past the attempts fails the collection with ThrottlingException', async () => {
    const fake = throttledFake(10);
    const ctx: CollectorContext = { ...context(fake.clientFactory({ maxAttempts: 2 })), region: REGION };
    let caught: unknown;
    try {
      await COLLECTORS.ec2.collect(ctx);
    } catch (error) {
      caught = error;
    }
    expect((caught as Error | undefined)?.name).to.equal('ThrottlingException');
    expect(fake.log.throttled).to.be.at.least(2);
  });
});
