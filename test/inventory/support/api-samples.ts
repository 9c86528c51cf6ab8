/**
 * API answers as the public documentation shows them: the "Output" blocks of the AWS CLI examples
 * (github.com/aws/aws-cli, awscli/examples/<service>/<operation>.rst), which print the API response as JSON,
 * transcribed with their values; the corpus adds Lambda's GetFunction (loaded through test/support/corpus).
 * Where no example exists the answer is built from the API reference's response elements and says so.
 * Timestamps are Date objects, as the SDK deserialises them.
 */

const date = (text: string) => new Date(text);

/** iam/get-account-summary.rst (root has no MFA in this example). */
export const GET_ACCOUNT_SUMMARY = {
  SummaryMap: {
    AccessKeysPerUserQuota: 2,
    AssumeRolePolicySizeQuota: 2048,
    UsersQuota: 5000,
    GroupsPerUserQuota: 10,
    Users: 27,
    Roles: 7,
    MFADevices: 3,
    InstanceProfilesQuota: 100,
    AccountMFAEnabled: 0,
    ServerCertificates: 0,
    UserPolicySizeQuota: 2048,
    RolePolicySizeQuota: 10240,
    MFADevicesInUse: 1,
    GroupsQuota: 100,
    Groups: 24,
    InstanceProfiles: 6,
    GroupPolicySizeQuota: 5120,
    SigningCertificatesPerUserQuota: 2,
    ServerCertificatesQuota: 10,
    RolesQuota: 250,
  },
};

/** iam/get-account-password-policy.rst ("If no password policy is defined ... NoSuchEntity"). */
export const GET_ACCOUNT_PASSWORD_POLICY = {
  PasswordPolicy: {
    AllowUsersToChangePassword: false,
    RequireLowercaseCharacters: false,
    RequireUppercaseCharacters: false,
    MinimumPasswordLength: 8,
    RequireNumbers: true,
    RequireSymbols: true,
  },
};

/** iam/list-access-keys.rst (user Bob: one active, one inactive key). */
export const LIST_ACCESS_KEYS = {
  AccessKeyMetadata: [
    { UserName: 'Bob', Status: 'Active', CreateDate: date('2013-06-04T18:17:34Z'), AccessKeyId: 'AKIAIOSFODNN7EXAMPLE' },
    { UserName: 'Bob', Status: 'Inactive', CreateDate: date('2013-06-06T20:42:26Z'), AccessKeyId: 'AKIAI44QH8DHBEXAMPLE' },
  ],
};

/** iam/get-access-key-last-used.rst. */
export const GET_ACCESS_KEY_LAST_USED = {
  UserName: 'Bob',
  AccessKeyLastUsed: { Region: 'us-east-1', ServiceName: 'iam', LastUsedDate: date('2015-06-16T22:45:00Z') },
};

/** iam/list-mfa-devices.rst (the example spells EnableDate as "EnablDate"; the API's name is used here). */
export const LIST_MFA_DEVICES = {
  MFADevices: [{ UserName: 'Bob', SerialNumber: 'arn:aws:iam::123456789012:mfa/BobsMFADevice', EnableDate: date('2015-06-16T22:36:37Z') }],
};

/** iam/get-login-profile.rst ("returns a NoSuchEntity error if no password is defined"). */
export const GET_LOGIN_PROFILE = { LoginProfile: { UserName: 'Bob', CreateDate: date('2012-09-21T23:03:39Z') } };

/** ListUsers: the response elements of the IAM API reference (Users[] of User, IsTruncated, Marker). */
export const LIST_USERS_BOB = {
  Users: [{ UserName: 'Bob', UserId: 'AIDA1111111111EXAMPLE', Arn: 'arn:aws:iam::123456789012:user/division_abc/Bob', Path: '/division_abc/', CreateDate: date('2012-09-05T19:38:48Z') }],
  IsTruncated: false,
};

/** ec2/describe-security-groups.rst, the EC2-VPC example (SSH from 203.0.113.0/24, all traffic from itself). */
export const DESCRIBE_SECURITY_GROUPS_VPC = {
  SecurityGroups: [
    {
      IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: '0.0.0.0/0' }], UserIdGroupPairs: [], PrefixListIds: [] }],
      Description: 'My security group',
      Tags: [{ Value: 'SG1', Key: 'Name' }],
      IpPermissions: [
        { IpProtocol: '-1', IpRanges: [], UserIdGroupPairs: [{ UserId: '123456789012', GroupId: 'sg-903004f8' }], PrefixListIds: [] },
        { PrefixListIds: [], FromPort: 22, IpRanges: [{ CidrIp: '203.0.113.0/24' }], ToPort: 22, IpProtocol: 'tcp', UserIdGroupPairs: [] },
      ],
      GroupName: 'MySecurityGroup',
      VpcId: 'vpc-1a2b3c4d',
      OwnerId: '123456789012',
      GroupId: 'sg-903004f8',
    },
  ],
};

/**
 * DescribeInstances: the MetadataOptions block as the EC2 API reference describes InstanceMetadataOptionsResponse
 * (State, HttpTokens, HttpPutResponseHopLimit, HttpEndpoint) in a reservation.
 */
export function describeInstances(instances: { id: string; tokens: 'optional' | 'required'; state?: string }[]) {
  return {
    Reservations: [
      {
        ReservationId: 'r-0f504e968c8d0a14f',
        OwnerId: '123456789012',
        Instances: instances.map((i) => ({
          InstanceId: i.id,
          InstanceType: 't2.micro',
          ImageId: 'ami-088ff0e3bde7b3fdf',
          LaunchTime: date('2020-06-15T07:08:04Z'),
          State: { Code: 16, Name: i.state ?? 'running' },
          MetadataOptions: { State: 'applied', HttpTokens: i.tokens, HttpPutResponseHopLimit: 1, HttpEndpoint: 'enabled' },
        })),
      },
    ],
  };
}

/** cloudtrail/describe-trails.rst (two single-region trails without log file validation). */
export const DESCRIBE_TRAILS = {
  trailList: [
    {
      IncludeGlobalServiceEvents: true,
      Name: 'Trail1',
      TrailARN: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/Trail1',
      LogFileValidationEnabled: false,
      IsMultiRegionTrail: false,
      S3BucketName: 'my-bucket',
      CloudWatchLogsRoleArn: 'arn:aws:iam::123456789012:role/CloudTrail_CloudWatchLogs_Role',
      CloudWatchLogsLogGroupArn: 'arn:aws:logs:us-east-1:123456789012:log-group:CloudTrail:*',
      SnsTopicName: 'my-topic',
      HomeRegion: 'us-east-1',
    },
    {
      IncludeGlobalServiceEvents: true,
      Name: 'Trail2',
      S3KeyPrefix: 'my-prefix',
      TrailARN: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/Trail2',
      LogFileValidationEnabled: false,
      IsMultiRegionTrail: false,
      S3BucketName: 'my-bucket',
      KmsKeyId: 'arn:aws:kms:us-east-1:123456789012:key/4c5ae5ac-3c13-421e-8335-c7868ef6a769',
      HomeRegion: 'us-east-1',
    },
  ],
};

/** cloudtrail/get-trail-status.rst (epoch numbers deserialised to dates by the SDK). */
export const GET_TRAIL_STATUS = {
  LatestNotificationTime: date('2016-01-28T23:02:24.869Z'),
  LatestDeliveryTime: date('2016-01-28T23:02:24.869Z'),
  TimeLoggingStarted: '2015-11-06T18:36:38Z',
  IsLogging: true,
  StartLoggingTime: date('2015-11-06T18:36:38.695Z'),
  StopLoggingTime: date('2015-11-06T18:36:36.933Z'),
};

/** cloudtrail/get-event-selectors.rst. */
export const GET_EVENT_SELECTORS = {
  EventSelectors: [{ IncludeManagementEvents: true, DataResources: [], ReadWriteType: 'All' }],
  TrailARN: 'arn:aws:cloudtrail:us-east-1:123456789012:trail/Trail1',
};

/** kms/describe-key.rst: the AWS managed key for S3, and a customer managed RSA signing key. */
export const DESCRIBE_KEY_AWS_MANAGED = {
  KeyMetadata: {
    AWSAccountId: '111122223333',
    KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    Arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    CreationDate: date('2019-08-23T00:06:23.394Z'),
    Enabled: true,
    Description: 'Default KMS key that protects my S3 objects when no other key is defined',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'AWS',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: false,
  },
};

export const DESCRIBE_KEY_RSA = {
  KeyMetadata: {
    AWSAccountId: '111122223333',
    KeyId: '1234abcd-12ab-34cd-56ef-1234567890ab',
    Arn: 'arn:aws:kms:us-west-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab',
    CreationDate: date('2021-01-29T16:37:28.915Z'),
    Enabled: false,
    Description: '',
    KeyUsage: 'SIGN_VERIFY',
    KeyState: 'Disabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'RSA_2048',
    KeySpec: 'RSA_2048',
    MultiRegion: false,
  },
};

/** The multi-Region primary key of kms/describe-key.rst (customer managed, symmetric). */
export const DESCRIBE_KEY_CUSTOMER_SYMMETRIC = {
  KeyMetadata: {
    AWSAccountId: '111122223333',
    KeyId: 'mrk-1234abcd12ab34cd56ef1234567890ab',
    Arn: 'arn:aws:kms:ap-northeast-1:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab',
    CreationDate: date('2022-06-28T21:09:15.849Z'),
    Enabled: true,
    Description: '',
    KeyUsage: 'ENCRYPT_DECRYPT',
    KeyState: 'Enabled',
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
    KeySpec: 'SYMMETRIC_DEFAULT',
    EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    MultiRegion: true,
  },
};

/** elbv2/describe-load-balancers.rst. */
export const DESCRIBE_LOAD_BALANCERS = {
  LoadBalancers: [
    {
      VpcId: 'vpc-3ac0fb5f',
      LoadBalancerArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/50dc6c495c0c9188',
      State: { Code: 'active' },
      DNSName: 'my-load-balancer-424835706.us-west-2.elb.amazonaws.com',
      SecurityGroups: ['sg-5943793c'],
      LoadBalancerName: 'my-load-balancer',
      CreatedTime: date('2016-03-25T21:26:12.920Z'),
      Scheme: 'internet-facing',
      Type: 'application',
      CanonicalHostedZoneId: 'Z2P70J7EXAMPLE',
      AvailabilityZones: [
        { SubnetId: 'subnet-8360a9e7', ZoneName: 'us-west-2a' },
        { SubnetId: 'subnet-b7d581c0', ZoneName: 'us-west-2b' },
      ],
    },
  ],
};

/** elbv2/describe-listeners.rst, the listeners of that load balancer (HTTPS 443 and HTTP 80, both forwarding). */
export const DESCRIBE_LISTENERS = {
  Listeners: [
    {
      Port: 443,
      Protocol: 'HTTPS',
      DefaultActions: [{ TargetGroupArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067', Type: 'forward' }],
      SslPolicy: 'ELBSecurityPolicy-2015-05',
      Certificates: [{ CertificateArn: 'arn:aws:iam::123456789012:server-certificate/my-server-cert' }],
      LoadBalancerArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/50dc6c495c0c9188',
      ListenerArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/0467ef3c8400ae65',
    },
    {
      Port: 80,
      Protocol: 'HTTP',
      DefaultActions: [{ TargetGroupArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/my-targets/73e2d6bc24d8a067', Type: 'forward' }],
      LoadBalancerArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:loadbalancer/app/my-load-balancer/50dc6c495c0c9188',
      ListenerArn: 'arn:aws:elasticloadbalancing:us-west-2:123456789012:listener/app/my-load-balancer/50dc6c495c0c9188/f2f7dc8efc522ab2',
    },
  ],
};

/**
 * DescribeDBInstances: the CLI example prints no output, so the instance is built from the RDS API
 * reference's DBInstance elements the collector reads.
 */
export const DESCRIBE_DB_INSTANCES = {
  DBInstances: [
    {
      DBInstanceIdentifier: 'database-1',
      DBInstanceArn: 'arn:aws:rds:us-east-1:123456789012:db:database-1',
      Engine: 'mysql',
      DBInstanceStatus: 'available',
      PubliclyAccessible: true,
      StorageEncrypted: false,
      TagList: [{ Key: 'team', Value: 'orders' }],
    },
  ],
};
