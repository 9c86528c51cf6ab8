/**
 * A local fake of the AWS APIs the inventory collectors call (shared/inventory/operations.ts), over an
 * in-memory model of accounts, regions and resources. Real SDK clients are used: the fake answers from a
 * middleware placed inside the SDK's retry loop (after serialisation and signing), so the collectors, the
 * paginators and adaptive retry run exactly as against AWS; only the network round trip is replaced. It
 * pages every list (small pages, so pagination is always exercised), can add latency per call and throttle
 * a share of calls (ThrottlingException), and counts calls by operation.
 *
 * The local stack (`npm start -- --inventory`), the end-to-end tests and the bench use it.
 */
import { SdkClientFactory, type ClientName, type InventoryClients } from '../../functions/aws/inventory/clients';

export interface FakePab {
  BlockPublicAcls: boolean;
  IgnorePublicAcls: boolean;
  BlockPublicPolicy: boolean;
  RestrictPublicBuckets: boolean;
}

export const PAB_ON: FakePab = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

export interface FakeBucket {
  region: string;
  created: Date;
  pab?: FakePab;
  policy?: string;
  encryption?: string;
  versioning?: 'Enabled' | 'Suspended';
  logging?: { TargetBucket: string; TargetPrefix: string };
  tags?: Record<string, string>;
  /** Detail calls answered with AccessDenied (a bucket policy that denies auditors). */
  deny?: string[];
}

export interface FakeKey {
  id: string;
  status: 'Active' | 'Inactive';
  created: Date;
  lastUsed?: Date;
}

export interface FakeUser {
  created: Date;
  path?: string;
  loginProfile?: Date;
  mfa: string[];
  keys: FakeKey[];
  tags?: Record<string, string>;
}

export interface FakePermission {
  IpProtocol: string;
  FromPort?: number;
  ToPort?: number;
  cidrs?: string[];
  cidrsV6?: string[];
}

export interface FakeSecurityGroup {
  name: string;
  vpcId: string;
  ingress: FakePermission[];
  egress: FakePermission[];
  tags?: Record<string, string>;
}

export interface FakeInstance {
  state: 'running' | 'stopped' | 'terminated';
  httpTokens: 'optional' | 'required';
  type: string;
  tags?: Record<string, string>;
}

export interface FakeFunction {
  runtime?: string;
  packageType?: 'Zip' | 'Image';
  policy?: string;
  urlAuthType?: 'NONE' | 'AWS_IAM';
  tags?: Record<string, string>;
}

export interface FakeDb {
  publiclyAccessible: boolean;
  storageEncrypted: boolean;
  engine: string;
  tags?: Record<string, string>;
}

export interface FakeListener {
  port: number;
  protocol: 'HTTP' | 'HTTPS';
  redirectToHttps?: boolean;
}

export interface FakeLoadBalancer {
  name: string;
  id: string;
  scheme: 'internet-facing' | 'internal';
  type: 'application' | 'network';
  listeners: FakeListener[];
  tags?: Record<string, string>;
}

export interface FakeTrail {
  multiRegion: boolean;
  logging: boolean;
  logFileValidation: boolean;
  bucket: string;
}

export interface FakeKmsKey {
  manager: 'AWS' | 'CUSTOMER';
  rotation: boolean;
  state: 'Enabled' | 'Disabled' | 'PendingDeletion';
  spec?: string;
  tags?: Record<string, string>;
}

export interface FakeRegion {
  securityGroups: Map<string, FakeSecurityGroup>;
  instances: Map<string, FakeInstance>;
  functions: Map<string, FakeFunction>;
  dbInstances: Map<string, FakeDb>;
  loadBalancers: Map<string, FakeLoadBalancer>;
  trails: Map<string, FakeTrail>;
  kmsKeys: Map<string, FakeKmsKey>;
}

export interface FakeAccount {
  id: string;
  buckets: Map<string, FakeBucket>;
  accountPab?: FakePab;
  users: Map<string, FakeUser>;
  passwordPolicy?: { MinimumPasswordLength: number; RequireSymbols: boolean; RequireNumbers: boolean; RequireUppercaseCharacters: boolean; RequireLowercaseCharacters: boolean; PasswordReusePrevention?: number };
  rootMfa: boolean;
  rootKeys: boolean;
  regions: Map<string, FakeRegion>;
}

export class FakeAwsError extends Error {
  readonly $metadata = {};
  readonly $fault: 'client' | 'server' = 'client';
  constructor(
    readonly errorName: string,
    message: string,
  ) {
    super(message);
    this.name = errorName;
  }
}

export function emptyRegion(): FakeRegion {
  return { securityGroups: new Map(), instances: new Map(), functions: new Map(), dbInstances: new Map(), loadBalancers: new Map(), trails: new Map(), kmsKeys: new Map() };
}

export function emptyAccount(id: string, regions: readonly string[]): FakeAccount {
  return { id, buckets: new Map(), users: new Map(), rootMfa: true, rootKeys: false, regions: new Map(regions.map((r) => [r, emptyRegion()])) };
}

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;

function tagList(tags: Record<string, string> | undefined): { Key: string; Value: string }[] {
  return Object.entries(tags ?? {}).map(([Key, Value]) => ({ Key, Value }));
}

function permissions(list: FakePermission[]): Output[] {
  return list.map((p) => ({
    IpProtocol: p.IpProtocol,
    ...(p.FromPort !== undefined ? { FromPort: p.FromPort, ToPort: p.ToPort } : {}),
    IpRanges: (p.cidrs ?? []).map((CidrIp) => ({ CidrIp })),
    Ipv6Ranges: (p.cidrsV6 ?? []).map((CidrIpv6) => ({ CidrIpv6 })),
    PrefixListIds: [],
    UserIdGroupPairs: [],
  }));
}

export interface FakeOptions {
  /** Items per page of every list (default 5: pagination is always exercised). */
  pageSize?: number;
  /** Latency of each call in ms, drawn uniformly from [min, max]. */
  latencyMs?: [number, number];
  /** Answers ThrottlingException to the calls this returns true for. */
  throttle?: (call: { client: ClientName; command: string; account: string; region: string; attempt: number }) => boolean;
  /** Seeded random source (latency), for repeatable runs. */
  random?: () => number;
}

/** Calls answered, by `<client>:<command>`; throttled ones counted apart. */
export interface FakeCallLog {
  calls: Map<string, number>;
  throttled: number;
  total(): number;
}

export class FakeAws {
  readonly accounts = new Map<string, FakeAccount>();
  readonly log: FakeCallLog;
  private readonly attempts = new Map<string, number>();

  constructor(private readonly options: FakeOptions = {}) {
    const calls = new Map<string, number>();
    this.log = { calls, throttled: 0, total: () => [...calls.values()].reduce((a, b) => a + b, 0) };
  }

  account(id: string): FakeAccount {
    const found = this.accounts.get(id);
    if (!found) throw new Error(`the fake has no account ${id}`);
    return found;
  }

  region(account: string, region: string): FakeRegion {
    const found = this.account(account).regions.get(region);
    if (!found) throw new FakeAwsError('UnrecognizedClientException', `region ${region} is not enabled in ${account}`);
    return found;
  }

  /**
   * A client factory whose clients the fake answers. `credentialsFor` is consulted as in production (the
   * spoke's assumed role), so the account a call is for is the account the client was made for.
   */
  clientFactory(options: { maxAttempts?: number } = {}): SdkClientFactory {
    return new SdkClientFactory({
      credentialsFor: () => undefined,
      extra: { credentials: { accessKeyId: 'AKIDLOCALFAKE', secretAccessKey: 'local-fake-secret' } },
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
      decorate: (client, name, account) => this.attach(client, name, account),
    });
  }

  private attach<T extends InventoryClients[ClientName]>(client: T, name: ClientName, account: string): T {
    const region = String((client.config as { region?: unknown }).region ?? '');
    // The SDK resolves region lazily (a provider); the factory always passes a plain string.
    const stack = client.middlewareStack as unknown as {
      add(middleware: (next: unknown, context: { commandName?: string }) => (args: { input: Input }) => Promise<unknown>, options: { step: 'finalizeRequest'; priority: 'low'; name: string }): void;
    };
    stack.add(
      (_next, context) => async (args) => {
        const command = (context.commandName ?? 'Unknown').replace(/Command$/, '');
        const resolvedRegion = typeof (client.config as { region?: unknown }).region === 'function' ? await (client.config.region as () => Promise<string>)() : region;
        await this.delay();
        const key = `${name}:${command}:${account}:${resolvedRegion}:${JSON.stringify(args.input)}`;
        const attempt = (this.attempts.get(key) ?? 0) + 1;
        this.attempts.set(key, attempt);
        if (this.options.throttle?.({ client: name, command, account, region: resolvedRegion, attempt })) {
          this.log.throttled += 1;
          throw new FakeAwsError('ThrottlingException', 'Rate exceeded');
        }
        this.attempts.delete(key);
        const id = `${name}:${command}`;
        this.log.calls.set(id, (this.log.calls.get(id) ?? 0) + 1);
        const output = this.answer(name, command, account, resolvedRegion, args.input);
        return { output: { $metadata: { httpStatusCode: 200 }, ...output }, response: { statusCode: 200, headers: {} } };
      },
      { step: 'finalizeRequest', priority: 'low', name: 'shipscanFakeAws' },
    );
    return client;
  }

  private async delay(): Promise<void> {
    const range = this.options.latencyMs;
    if (!range) return;
    const random = this.options.random ?? Math.random;
    const ms = range[0] + random() * (range[1] - range[0]);
    await new Promise((resolve) => setTimeout(resolve, ms));
  }

  private page<T>(items: readonly T[], token: unknown, size = this.options.pageSize ?? 5): { items: T[]; next?: string } {
    const start = typeof token === 'string' && /^[0-9]+$/.test(token) ? Number(token) : 0;
    const slice = items.slice(start, start + size);
    return { items: slice, ...(start + size < items.length ? { next: String(start + size) } : {}) };
  }

  /** The answer of one call, or a FakeAwsError as AWS would answer. */
  answer(client: ClientName, command: string, accountId: string, region: string, input: Input): Output {
    const account = this.account(accountId);
    const handler = (HANDLERS[client] as Record<string, Handler | undefined>)[command];
    if (!handler) throw new FakeAwsError('UnknownOperationException', `the fake does not answer ${client} ${command}`);
    return handler.call(this, { account, region, input });
  }

  /** Exposed to the handlers below. */
  paged<T>(items: readonly T[], token: unknown): { items: T[]; next?: string } {
    return this.page(items, token);
  }
}

type Handler = (this: FakeAws, call: { account: FakeAccount; region: string; input: Input }) => Output;

function bucketOf(account: FakeAccount, input: Input): FakeBucket {
  const bucket = account.buckets.get(String(input.Bucket));
  if (!bucket) throw new FakeAwsError('NoSuchBucket', `The specified bucket does not exist: ${String(input.Bucket)}`);
  return bucket;
}

function denied(bucket: FakeBucket, operation: string): void {
  if (bucket.deny?.includes(operation)) throw new FakeAwsError('AccessDenied', 'Access Denied');
}

function arnOf(account: FakeAccount, region: string, service: string, resource: string): string {
  return `arn:aws:${service}:${region}:${account.id}:${resource}`;
}

function lastSegment(value: unknown, separator: string): string {
  const text = String(value);
  return text.slice(text.lastIndexOf(separator) + 1);
}

const HANDLERS: { [K in ClientName]: Record<string, Handler> } = {
  s3: {
    ListBuckets({ account, input }) {
      const { items, next } = this.paged([...account.buckets.entries()], input.ContinuationToken);
      return { Buckets: items.map(([Name, b]) => ({ Name, CreationDate: b.created, BucketRegion: b.region })), ...(next ? { ContinuationToken: next } : {}), Owner: { ID: account.id } };
    },
    GetBucketLocation({ account, input }) {
      const b = bucketOf(account, input);
      return { LocationConstraint: b.region === 'us-east-1' ? undefined : b.region };
    },
    GetPublicAccessBlock({ account, input }) {
      const b = bucketOf(account, input);
      denied(b, 'GetBucketPublicAccessBlock');
      if (!b.pab) throw new FakeAwsError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found');
      return { PublicAccessBlockConfiguration: { ...b.pab } };
    },
    GetBucketPolicy({ account, input }) {
      const b = bucketOf(account, input);
      denied(b, 'GetBucketPolicy');
      if (!b.policy) throw new FakeAwsError('NoSuchBucketPolicy', 'The bucket policy does not exist');
      return { Policy: b.policy };
    },
    GetBucketEncryption({ account, input }) {
      const b = bucketOf(account, input);
      if (!b.encryption) throw new FakeAwsError('ServerSideEncryptionConfigurationNotFoundError', 'The server side encryption configuration was not found');
      return { ServerSideEncryptionConfiguration: { Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: b.encryption }, BucketKeyEnabled: b.encryption === 'aws:kms' }] } };
    },
    GetBucketVersioning({ account, input }) {
      const b = bucketOf(account, input);
      return b.versioning ? { Status: b.versioning } : {};
    },
    GetBucketLogging({ account, input }) {
      const b = bucketOf(account, input);
      return b.logging ? { LoggingEnabled: { ...b.logging } } : {};
    },
    GetBucketTagging({ account, input }) {
      const b = bucketOf(account, input);
      if (!b.tags || Object.keys(b.tags).length === 0) throw new FakeAwsError('NoSuchTagSet', 'The TagSet does not exist');
      return { TagSet: tagList(b.tags) };
    },
  },
  s3control: {
    GetPublicAccessBlock({ account }) {
      if (!account.accountPab) throw new FakeAwsError('NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found');
      return { PublicAccessBlockConfiguration: { ...account.accountPab } };
    },
  },
  ec2: {
    DescribeSecurityGroups({ account, region, input }) {
      const groups = [...this.region(account.id, region).securityGroups.entries()];
      const wanted = input.GroupIds as string[] | undefined;
      if (wanted) {
        const found = groups.filter(([id]) => wanted.includes(id));
        if (found.length < wanted.length) throw new FakeAwsError('InvalidGroup.NotFound', `The security group '${wanted.join(',')}' does not exist`);
        return { SecurityGroups: found.map(([id, g]) => groupOutput(account, region, id, g)) };
      }
      const { items, next } = this.paged(groups, input.NextToken);
      return { SecurityGroups: items.map(([id, g]) => groupOutput(account, region, id, g)), ...(next ? { NextToken: next } : {}) };
    },
    DescribeInstances({ account, region, input }) {
      const instances = [...this.region(account.id, region).instances.entries()];
      const wanted = input.InstanceIds as string[] | undefined;
      if (wanted) {
        const found = instances.filter(([id]) => wanted.includes(id));
        if (found.length < wanted.length) throw new FakeAwsError('InvalidInstanceID.NotFound', `The instance ID '${wanted.join(',')}' does not exist`);
        return { Reservations: [{ Instances: found.map(([id, i]) => instanceOutput(id, i)) }] };
      }
      const { items, next } = this.paged(instances, input.NextToken);
      return { Reservations: items.map(([id, i]) => ({ ReservationId: `r-${id.slice(2)}`, Instances: [instanceOutput(id, i)] })), ...(next ? { NextToken: next } : {}) };
    },
  },
  iam: {
    ListUsers({ account, input }) {
      const { items, next } = this.paged([...account.users.entries()], input.Marker);
      return { Users: items.map(([name, u]) => userOutput(account, name, u)), IsTruncated: next !== undefined, ...(next ? { Marker: next } : {}) };
    },
    GetUser({ account, input }) {
      const name = String(input.UserName);
      const user = account.users.get(name);
      if (!user) throw new FakeAwsError('NoSuchEntityException', `The user with name ${name} cannot be found.`);
      return { User: userOutput(account, name, user) };
    },
    GetLoginProfile({ account, input }) {
      const user = userOf(account, input);
      if (!user.loginProfile) throw new FakeAwsError('NoSuchEntityException', `Login Profile for User ${String(input.UserName)} cannot be found.`);
      return { LoginProfile: { UserName: input.UserName, CreateDate: user.loginProfile, PasswordResetRequired: false } };
    },
    ListMFADevices({ account, input }) {
      const user = userOf(account, input);
      const { items, next } = this.paged(user.mfa, input.Marker);
      return { MFADevices: items.map((serial) => ({ UserName: input.UserName, SerialNumber: serial, EnableDate: user.created })), IsTruncated: next !== undefined, ...(next ? { Marker: next } : {}) };
    },
    ListAccessKeys({ account, input }) {
      const user = userOf(account, input);
      const { items, next } = this.paged(user.keys, input.Marker);
      return { AccessKeyMetadata: items.map((k) => ({ UserName: input.UserName, AccessKeyId: k.id, Status: k.status, CreateDate: k.created })), IsTruncated: next !== undefined, ...(next ? { Marker: next } : {}) };
    },
    GetAccessKeyLastUsed({ account, input }) {
      for (const [name, user] of account.users) {
        const key = user.keys.find((k) => k.id === input.AccessKeyId);
        if (key) return { UserName: name, AccessKeyLastUsed: key.lastUsed ? { LastUsedDate: key.lastUsed, ServiceName: 's3', Region: 'us-east-1' } : { ServiceName: 'N/A', Region: 'N/A' } };
      }
      throw new FakeAwsError('NoSuchEntityException', `The Access Key with id ${String(input.AccessKeyId)} cannot be found`);
    },
    ListUserTags({ account, input }) {
      const user = userOf(account, input);
      const { items, next } = this.paged(tagList(user.tags), input.Marker);
      return { Tags: items, IsTruncated: next !== undefined, ...(next ? { Marker: next } : {}) };
    },
    GetAccountPasswordPolicy({ account }) {
      if (!account.passwordPolicy) throw new FakeAwsError('NoSuchEntityException', `The Password Policy with domain name ${account.id} cannot be found.`);
      return { PasswordPolicy: { ...account.passwordPolicy, AllowUsersToChangePassword: true, ExpirePasswords: false } };
    },
    GetAccountSummary({ account }) {
      return { SummaryMap: { AccountMFAEnabled: account.rootMfa ? 1 : 0, AccountAccessKeysPresent: account.rootKeys ? 1 : 0, Users: account.users.size, UsersQuota: 5000 } };
    },
  },
  lambda: {
    ListFunctions({ account, region, input }) {
      const { items, next } = this.paged([...this.region(account.id, region).functions.entries()], input.Marker);
      return { Functions: items.map(([name, f]) => functionOutput(account, region, name, f)), ...(next ? { NextMarker: next } : {}) };
    },
    GetFunctionConfiguration({ account, region, input }) {
      const [name, f] = functionOf(this, account, region, input.FunctionName);
      return functionOutput(account, region, name, f);
    },
    GetPolicy({ account, region, input }) {
      const [, f] = functionOf(this, account, region, input.FunctionName);
      if (!f.policy) throw new FakeAwsError('ResourceNotFoundException', 'The resource you requested does not exist.');
      return { Policy: f.policy, RevisionId: 'fake-revision' };
    },
    ListFunctionUrlConfigs({ account, region, input }) {
      const [name, f] = functionOf(this, account, region, input.FunctionName);
      return {
        FunctionUrlConfigs: f.urlAuthType
          ? [{ FunctionUrl: `https://${name}.lambda-url.${region}.on.aws/`, FunctionArn: arnOf(account, region, 'lambda', `function:${name}`), AuthType: f.urlAuthType, CreationTime: '2025-01-01T00:00:00Z', LastModifiedTime: '2025-01-01T00:00:00Z' }]
          : [],
      };
    },
    ListTags({ account, region, input }) {
      const [, f] = functionOf(this, account, region, input.Resource);
      return { Tags: { ...(f.tags ?? {}) } };
    },
  },
  rds: {
    DescribeDBInstances({ account, region, input }) {
      const dbs = [...this.region(account.id, region).dbInstances.entries()];
      if (input.DBInstanceIdentifier) {
        const found = dbs.find(([id]) => id === input.DBInstanceIdentifier);
        if (!found) throw new FakeAwsError('DBInstanceNotFoundFault', `DBInstance ${String(input.DBInstanceIdentifier)} not found.`);
        return { DBInstances: [dbOutput(account, region, ...found)] };
      }
      const { items, next } = this.paged(dbs, input.Marker);
      return { DBInstances: items.map(([id, db]) => dbOutput(account, region, id, db)), ...(next ? { Marker: next } : {}) };
    },
  },
  elbv2: {
    DescribeLoadBalancers({ account, region, input }) {
      const lbs = [...this.region(account.id, region).loadBalancers.values()];
      const wanted = input.LoadBalancerArns as string[] | undefined;
      if (wanted) {
        const found = lbs.filter((lb) => wanted.includes(lbArn(account, region, lb)));
        if (found.length < wanted.length) throw new FakeAwsError('LoadBalancerNotFoundException', 'One or more load balancers not found');
        return { LoadBalancers: found.map((lb) => lbOutput(account, region, lb)) };
      }
      const { items, next } = this.paged(lbs, input.Marker);
      return { LoadBalancers: items.map((lb) => lbOutput(account, region, lb)), ...(next ? { NextMarker: next } : {}) };
    },
    DescribeListeners({ account, region, input }) {
      const lb = [...this.region(account.id, region).loadBalancers.values()].find((l) => lbArn(account, region, l) === input.LoadBalancerArn);
      if (!lb) throw new FakeAwsError('LoadBalancerNotFoundException', 'Load balancer not found');
      const { items, next } = this.paged(lb.listeners, input.Marker);
      return {
        Listeners: items.map((l) => ({
          ListenerArn: `${lbArn(account, region, lb).replace(':loadbalancer/', ':listener/')}/${String(l.port).padStart(16, '0')}`,
          LoadBalancerArn: lbArn(account, region, lb),
          Port: l.port,
          Protocol: l.protocol,
          DefaultActions: l.redirectToHttps ? [{ Type: 'redirect', Order: 1, RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } }] : [{ Type: 'forward', Order: 1, TargetGroupArn: arnOf(account, region, 'elasticloadbalancing', 'targetgroup/app/0123456789abcdef') }],
        })),
        ...(next ? { NextMarker: next } : {}),
      };
    },
    DescribeTags({ account, region, input }) {
      const lbs = [...this.region(account.id, region).loadBalancers.values()];
      const arns = (input.ResourceArns as string[] | undefined) ?? [];
      if (arns.length > 20) throw new FakeAwsError('ValidationError', 'at most 20 resources');
      return { TagDescriptions: arns.map((arn) => ({ ResourceArn: arn, Tags: tagList(lbs.find((lb) => lbArn(account, region, lb) === arn)?.tags) })) };
    },
  },
  cloudtrail: {
    DescribeTrails({ account, region, input }) {
      const all: Output[] = [];
      for (const [home, r] of account.regions) {
        for (const [name, t] of r.trails) if (home === region || (t.multiRegion && input.includeShadowTrails !== false)) all.push(trailOutput(account, home, name, t));
      }
      const names = input.trailNameList as string[] | undefined;
      return { trailList: names ? all.filter((t) => names.includes(String(t.TrailARN)) || names.includes(String(t.Name))) : all };
    },
    GetTrailStatus({ account, input }) {
      const t = trailOf(account, input.Name);
      return { IsLogging: t.logging, LatestDeliveryTime: new Date('2026-01-01T00:00:00Z') };
    },
    GetEventSelectors({ account, input }) {
      trailOf(account, input.TrailName);
      return { TrailARN: input.TrailName, EventSelectors: [{ ReadWriteType: 'All', IncludeManagementEvents: true, DataResources: [] }] };
    },
  },
  kms: {
    ListKeys({ account, region, input }) {
      const { items, next } = this.paged([...this.region(account.id, region).kmsKeys.keys()], input.Marker);
      return { Keys: items.map((id) => ({ KeyId: id, KeyArn: arnOf(account, region, 'kms', `key/${id}`) })), Truncated: next !== undefined, ...(next ? { NextMarker: next } : {}) };
    },
    DescribeKey({ account, region, input }) {
      const [id, k] = kmsKeyOf(this, account, region, input.KeyId);
      return {
        KeyMetadata: {
          AWSAccountId: account.id,
          KeyId: id,
          Arn: arnOf(account, region, 'kms', `key/${id}`),
          CreationDate: new Date('2024-01-01T00:00:00Z'),
          Enabled: k.state === 'Enabled',
          KeyUsage: 'ENCRYPT_DECRYPT',
          KeyState: k.state,
          Origin: 'AWS_KMS',
          KeyManager: k.manager,
          KeySpec: k.spec ?? 'SYMMETRIC_DEFAULT',
          MultiRegion: false,
        },
      };
    },
    GetKeyRotationStatus({ account, region, input }) {
      const [, k] = kmsKeyOf(this, account, region, input.KeyId);
      return { KeyRotationEnabled: k.rotation };
    },
    ListResourceTags({ account, region, input }) {
      const [, k] = kmsKeyOf(this, account, region, input.KeyId);
      return { Tags: Object.entries(k.tags ?? {}).map(([TagKey, TagValue]) => ({ TagKey, TagValue })), Truncated: false };
    },
  },
};

function groupOutput(account: FakeAccount, region: string, id: string, g: FakeSecurityGroup): Output {
  return {
    GroupId: id,
    GroupName: g.name,
    Description: `${g.name} group`,
    VpcId: g.vpcId,
    OwnerId: account.id,
    SecurityGroupArn: arnOf(account, region, 'ec2', `security-group/${id}`),
    IpPermissions: permissions(g.ingress),
    IpPermissionsEgress: permissions(g.egress),
    Tags: tagList(g.tags),
  };
}

function instanceOutput(id: string, i: FakeInstance): Output {
  return {
    InstanceId: id,
    InstanceType: i.type,
    ImageId: 'ami-0abcdef1234567890',
    LaunchTime: new Date('2025-06-01T00:00:00Z'),
    State: { Code: i.state === 'running' ? 16 : i.state === 'stopped' ? 80 : 48, Name: i.state },
    MetadataOptions: { State: 'applied', HttpTokens: i.httpTokens, HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
    Tags: tagList(i.tags),
  };
}

function userOf(account: FakeAccount, input: Input): FakeUser {
  const user = account.users.get(String(input.UserName));
  if (!user) throw new FakeAwsError('NoSuchEntityException', `The user with name ${String(input.UserName)} cannot be found.`);
  return user;
}

function userOutput(account: FakeAccount, name: string, u: FakeUser): Output {
  const path = u.path ?? '/';
  return { UserName: name, UserId: `AIDA${name.toUpperCase().replace(/[^A-Z0-9]/g, '').padEnd(17, 'X').slice(0, 17)}`, Arn: `arn:aws:iam::${account.id}:user${path}${name}`, Path: path, CreateDate: u.created };
}

function functionOf(fake: FakeAws, account: FakeAccount, region: string, value: unknown): [string, FakeFunction] {
  const name = lastSegment(value, ':');
  const f = fake.region(account.id, region).functions.get(name);
  if (!f) throw new FakeAwsError('ResourceNotFoundException', `Function not found: ${arnOf(account, region, 'lambda', `function:${name}`)}`);
  return [name, f];
}

function functionOutput(account: FakeAccount, region: string, name: string, f: FakeFunction): Output {
  return {
    FunctionName: name,
    FunctionArn: arnOf(account, region, 'lambda', `function:${name}`),
    ...(f.runtime ? { Runtime: f.runtime, Handler: 'index.handler' } : {}),
    PackageType: f.packageType ?? 'Zip',
    Role: `arn:aws:iam::${account.id}:role/${name}-role`,
    LastModified: '2025-06-01T00:00:00.000+0000',
    CodeSha256: 'w/2LuI41TjR+c4a8nRpbL3TvCofA8FVvLMGG0QbJmcY=',
    State: 'Active',
  };
}

function dbOutput(account: FakeAccount, region: string, id: string, db: FakeDb): Output {
  return {
    DBInstanceIdentifier: id,
    DBInstanceArn: arnOf(account, region, 'rds', `db:${id}`),
    Engine: db.engine,
    DBInstanceStatus: 'available',
    PubliclyAccessible: db.publiclyAccessible,
    StorageEncrypted: db.storageEncrypted,
    TagList: tagList(db.tags),
  };
}

function lbArn(account: FakeAccount, region: string, lb: FakeLoadBalancer): string {
  return arnOf(account, region, 'elasticloadbalancing', `loadbalancer/${lb.type === 'application' ? 'app' : 'net'}/${lb.name}/${lb.id}`);
}

function lbOutput(account: FakeAccount, region: string, lb: FakeLoadBalancer): Output {
  return {
    LoadBalancerArn: lbArn(account, region, lb),
    LoadBalancerName: lb.name,
    DNSName: `${lb.name}-${lb.id.slice(0, 9)}.${region}.elb.amazonaws.com`,
    Scheme: lb.scheme,
    Type: lb.type,
    State: { Code: 'active' },
    VpcId: 'vpc-3ac0fb5f',
  };
}

function trailOutput(account: FakeAccount, home: string, name: string, t: FakeTrail): Output {
  return {
    Name: name,
    TrailARN: arnOf(account, home, 'cloudtrail', `trail/${name}`),
    HomeRegion: home,
    IsMultiRegionTrail: t.multiRegion,
    IsOrganizationTrail: false,
    LogFileValidationEnabled: t.logFileValidation,
    S3BucketName: t.bucket,
    IncludeGlobalServiceEvents: true,
  };
}

function trailOf(account: FakeAccount, value: unknown): FakeTrail {
  const text = String(value);
  for (const [home, r] of account.regions) {
    for (const [name, t] of r.trails) if (text === name || text === arnOf(account, home, 'cloudtrail', `trail/${name}`)) return t;
  }
  throw new FakeAwsError('TrailNotFoundException', `Unknown trail: ${text}`);
}

function kmsKeyOf(fake: FakeAws, account: FakeAccount, region: string, value: unknown): [string, FakeKmsKey] {
  const id = lastSegment(value, '/');
  const k = fake.region(account.id, region).kmsKeys.get(id);
  if (!k) throw new FakeAwsError('NotFoundException', `Key '${arnOf(account, region, 'kms', `key/${id}`)}' does not exist`);
  return [id, k];
}
