import { call, derive, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

const BUCKET = 'arn:aws:s3:::jcazure2-dummy-bucket5';
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const AUTHENTICATED = 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers';

/** The corpus PutBucketPolicy envelope with its single statement changed. */
function statement(change: (s: Json) => void): Json {
  return derive('bucketPolicy', (record) => {
    const policy = (record.requestParameters as Json).bucketPolicy as { Statement: Json[] };
    change(policy.Statement[0]!);
  });
}

/** The corpus PutBucketPolicy envelope (real caller and bucket) turned into another S3 bucket call. */
function s3(eventName: string, requestParameters: Json): Json {
  return call('bucketPolicy', 's3.amazonaws.com', eventName, { bucketName: 'jcazure2-dummy-bucket5', ...requestParameters });
}

const pab = (flags: Partial<Record<'BlockPublicAcls' | 'IgnorePublicAcls' | 'BlockPublicPolicy' | 'RestrictPublicBuckets', boolean>>) =>
  s3('PutBucketPublicAccessBlock', { PublicAccessBlockConfiguration: { xmlns: 'http://s3.amazonaws.com/doc/2006-03-01/', ...flags }, publicAccessBlock: [''] });
const ALL_ON = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };

const grantBody = (grants: Json[] | Json) => ({ AccessControlPolicy: { Owner: { ID: 'abc' }, AccessControlList: { Grant: grants } } });

const policyCases: DetectorCase[] = [
  { name: 'corpus: Principal "*" s3:List* without condition is public (HIGH)', input: () => derive('bucketPolicy', () => {}), expect: [{ ruleId: 'aws.s3.bucket-public-policy', outcome: 'fail', subject: 'bucket-policy', severity: 'HIGH', resourceId: BUCKET }] },
  { name: 'failed PutBucketPolicy gives nothing', input: () => failed(derive('bucketPolicy', () => {})), expect: [] },
  { name: 'Principal {"AWS": "*"} is public too', input: () => statement((s) => (s.Principal = { AWS: '*' })), expect: [{ outcome: 'fail', subject: 'bucket-policy' }] },
  { name: 'Principal {"AWS": ["arn...", "*"]} is public too', input: () => statement((s) => (s.Principal = { AWS: ['arn:aws:iam::012345678901:root', '*'] })), expect: [{ outcome: 'fail' }] },
  { name: 'public s3:PutObject is CRITICAL', input: () => statement((s) => (s.Action = ['s3:GetObject', 's3:PutObject'])), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'public s3:* is CRITICAL', input: () => statement((s) => (s.Action = 's3:*')), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'limited by aws:SourceVpce: a pass, no finding', input: () => statement((s) => (s.Condition = { StringEquals: { 'aws:SourceVpce': 'vpce-e75c8f8e' } })), expect: [{ outcome: 'pass', subject: 'bucket-policy' }] },
  { name: 'limited by aws:PrincipalOrgID: no finding', input: () => statement((s) => (s.Condition = { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } })), expect: [{ outcome: 'pass' }] },
  { name: 'limited by aws:SourceArn (ArnLike): no finding', input: () => statement((s) => (s.Condition = { ArnLike: { 'aws:SourceArn': 'arn:aws:cloudfront::012345678901:distribution/E1' } })), expect: [{ outcome: 'pass' }] },
  { name: 'limited by aws:SourceAccount: no finding', input: () => statement((s) => (s.Condition = { StringEquals: { 'aws:SourceAccount': '012345678901' } })), expect: [{ outcome: 'pass' }] },
  { name: 'limited by a narrow aws:SourceIp: no finding', input: () => statement((s) => (s.Condition = { IpAddress: { 'aws:SourceIp': ['203.0.113.0/24'] } })), expect: [{ outcome: 'pass' }] },
  { name: 'aws:SourceIp 0.0.0.0/0 limits nothing', input: () => statement((s) => (s.Condition = { IpAddress: { 'aws:SourceIp': '0.0.0.0/0' } })), expect: [{ outcome: 'fail' }] },
  { name: 'StringNotEquals aws:SourceVpce limits nothing (allows every other endpoint and the internet)', input: () => statement((s) => (s.Condition = { StringNotEquals: { 'aws:SourceVpce': 'vpce-1' } })), expect: [{ outcome: 'fail' }] },
  { name: 'StringEqualsIfExists limits nothing (the key is absent off the endpoint)', input: () => statement((s) => (s.Condition = { StringEqualsIfExists: { 'aws:SourceVpce': 'vpce-1' } })), expect: [{ outcome: 'fail' }] },
  { name: 'a condition key that does not narrow the caller (s3:prefix) limits nothing', input: () => statement((s) => (s.Condition = { StringLike: { 's3:prefix': 'public/' } })), expect: [{ outcome: 'fail' }] },
  { name: 'a named account principal is not public: pass', input: () => statement((s) => (s.Principal = { AWS: 'arn:aws:iam::111122223333:root' })), expect: [{ outcome: 'pass' }] },
  { name: 'a Deny for "*" is not public: pass', input: () => statement((s) => (s.Effect = 'Deny')), expect: [{ outcome: 'pass' }] },
  { name: 'Allow with NotPrincipal is everyone but a few: public', input: () => statement((s) => { delete s.Principal; s.NotPrincipal = { AWS: 'arn:aws:iam::012345678901:root' }; }), expect: [{ outcome: 'fail' }] },
  { name: 'a policy given as a JSON string is read too', input: () => derive('bucketPolicy', (r) => ((r.requestParameters as Json).bucketPolicy = JSON.stringify((r.requestParameters as Json).bucketPolicy))), expect: [{ outcome: 'fail' }] },
  { name: 'DeleteBucketPolicy resolves', input: () => s3('DeleteBucketPolicy', {}), expect: [{ outcome: 'pass', subject: 'bucket-policy', resourceId: BUCKET }] },
];

const aclCases: DetectorCase[] = [
  { name: 'x-amz-acl ["public-read"] (array form) is public read: HIGH', input: () => s3('PutBucketAcl', { 'x-amz-acl': ['public-read'], acl: [''] }), expect: [{ ruleId: 'aws.s3.bucket-public-acl', outcome: 'fail', subject: 'bucket-acl', severity: 'HIGH', resourceId: BUCKET }] },
  { name: 'x-amz-acl public-read-write is CRITICAL', input: () => s3('PutBucketAcl', { 'x-amz-acl': ['public-read-write'] }), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'x-amz-acl authenticated-read (every AWS account) is public', input: () => s3('PutBucketAcl', { 'x-amz-acl': 'authenticated-read' }), expect: [{ outcome: 'fail', severity: 'HIGH' }] },
  { name: 'x-amz-acl private resolves', input: () => s3('PutBucketAcl', { 'x-amz-acl': ['private'] }), expect: [{ outcome: 'pass', subject: 'bucket-acl' }] },
  { name: 'failed PutBucketAcl gives nothing', input: () => failed(s3('PutBucketAcl', { 'x-amz-acl': ['public-read'] })), expect: [] },
  { name: 'grant header to AllUsers (read) is public', input: () => s3('PutBucketAcl', { 'x-amz-grant-read': [`uri="${ALL_USERS}"`] }), expect: [{ outcome: 'fail', severity: 'HIGH' }] },
  { name: 'grant header full-control to AuthenticatedUsers is CRITICAL', input: () => s3('PutBucketAcl', { 'x-amz-grant-full-control': [`id="abc", uri="${AUTHENTICATED}"`] }), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'grant body with an AllUsers READ grant is public', input: () => s3('PutBucketAcl', grantBody([{ Grantee: { 'xsi:type': 'CanonicalUser', ID: 'abc' }, Permission: 'FULL_CONTROL' }, { Grantee: { 'xsi:type': 'Group', URI: ALL_USERS }, Permission: 'READ' }])), expect: [{ outcome: 'fail', severity: 'HIGH' }] },
  { name: 'grant body with a single (object) AllUsers WRITE grant is CRITICAL', input: () => s3('PutBucketAcl', grantBody({ Grantee: { URI: ALL_USERS }, Permission: 'WRITE' })), expect: [{ outcome: 'fail', severity: 'CRITICAL' }] },
  { name: 'grant body with only the owner resolves', input: () => s3('PutBucketAcl', grantBody([{ Grantee: { 'xsi:type': 'CanonicalUser', ID: 'abc' }, Permission: 'FULL_CONTROL' }])), expect: [{ outcome: 'pass' }] },
  { name: 'a PutBucketAcl in no known shape says nothing', input: () => s3('PutBucketAcl', { acl: [''] }), expect: [] },
];

const blockCases: DetectorCase[] = [
  { name: 'DeleteBucketPublicAccessBlock is a finding (MEDIUM)', input: () => s3('DeleteBucketPublicAccessBlock', { publicAccessBlock: [''] }), expect: [{ ruleId: 'aws.s3.bucket-public-access-block-off', outcome: 'fail', subject: 'public-access-block', severity: 'MEDIUM', resourceId: BUCKET }] },
  { name: 'a Put with one flag false weakens it', input: () => pab({ ...ALL_ON, BlockPublicPolicy: false }), expect: [{ outcome: 'fail', subject: 'public-access-block' }] },
  { name: 'a Put that leaves flags out sets them false: weakened', input: () => pab({ BlockPublicAcls: true }), expect: [{ outcome: 'fail' }] },
  { name: 'a Put with all four flags true resolves', input: () => pab(ALL_ON), expect: [{ outcome: 'pass', subject: 'public-access-block' }] },
  { name: 'failed DeleteBucketPublicAccessBlock gives nothing', input: () => failed(s3('DeleteBucketPublicAccessBlock', {})), expect: [] },
  { name: 'a Put without a configuration says nothing', input: () => s3('PutBucketPublicAccessBlock', { publicAccessBlock: [''] }), expect: [] },
  {
    name: 'account level: DeleteAccountPublicAccessBlock is HIGH on the account',
    input: () => call('bucketPolicy', 's3.amazonaws.com', 'DeleteAccountPublicAccessBlock', { accountId: '012345678901' }),
    expect: [{ ruleId: 'aws.s3.account-public-access-block-off', outcome: 'fail', severity: 'HIGH', resourceId: '012345678901' }],
  },
  {
    name: 'account level: PutAccountPublicAccessBlock with RestrictPublicBuckets false weakens it',
    input: () => call('bucketPolicy', 's3.amazonaws.com', 'PutAccountPublicAccessBlock', { accountId: '012345678901', PublicAccessBlockConfiguration: { ...ALL_ON, RestrictPublicBuckets: false } }),
    expect: [{ ruleId: 'aws.s3.account-public-access-block-off', outcome: 'fail' }],
  },
  { name: 'account level: all flags on resolves', input: () => call('bucketPolicy', 's3.amazonaws.com', 'PutAccountPublicAccessBlock', { PublicAccessBlockConfiguration: ALL_ON }), expect: [{ ruleId: 'aws.s3.account-public-access-block-off', outcome: 'pass' }] },
  { name: 'account level: a failed call gives nothing', input: () => failed(call('bucketPolicy', 's3.amazonaws.com', 'DeleteAccountPublicAccessBlock', {})), expect: [] },
];

describe('S3 public exposure detectors', () => {
  describe('aws.s3.bucket-public-policy', () => detectorTable(policyCases));
  describe('aws.s3.bucket-public-acl', () => detectorTable(aclCases));
  describe('aws.s3.*-public-access-block-off', () => detectorTable(blockCases));
});
