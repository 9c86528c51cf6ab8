import { call, derive, failed, sample, type Json } from './records';

/**
 * A corpus-derived mix of security events: for every detector, a call it flags, a benign variant and a
 * failed call, plus events no detector wants (what a broader rule or a replayed trail file also brings).
 * The bench measures throughput over it and the property test starts its generated events from it.
 */

const ADMIN = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });
const TRUST_ALL = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: '*' }, Action: 'sts:AssumeRole' }] });
const TRUST_SERVICE = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const LB = 'arn:aws:elasticloadbalancing:us-east-1:143434273843:loadbalancer/app/web/50dc6c495c0c9188';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:143434273843:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2';

function signIn(base: 'createBucketRoot' | 'bucketPolicy', result: 'Success' | 'Failure', mfa: 'Yes' | 'No'): Json {
  return derive(base, (record, input) => {
    input['detail-type'] = 'AWS Console Sign In via CloudTrail';
    input.source = 'aws.signin';
    Object.assign(record, { eventSource: 'signin.amazonaws.com', eventName: 'ConsoleLogin', requestParameters: null, responseElements: { ConsoleLogin: result }, additionalEventData: { MFAUsed: mfa } });
  });
}

const via = (source: string, eventName: string, req: Json | null, resp: Json | null = null) => call('stopLogging', `${source}.amazonaws.com`, eventName, req, resp);

export interface MixEntry {
  name: string;
  input: Json;
}

export function securityEventMix(): MixEntry[] {
  const entries: [string, Json][] = [
    // Corpus records as published.
    ['sg shorthand (corpus)', sample('sgShorthand')],
    ['sg items envelope (corpus)', sample('sgItemsEnvelope')],
    ['access key for another user (corpus)', sample('accessKey')],
    ['stop logging (corpus)', sample('stopLogging')],
    ['lambda add permission * (corpus)', sample('addPermission')],
    ['bucket policy * (corpus)', sample('bucketPolicy')],
    ['create bucket by root (corpus, no detector)', sample('createBucketRoot')],
    ['create bucket by role (corpus, no detector)', sample('createBucketAssumedRole')],
    ['create bucket (AWS docs, no detector)', sample('createBucketDocs')],
    // Benign and failed variants of the corpus records.
    ['sg allowed port', derive('sgShorthand', (r) => { const item = ((r.responseElements as Json).securityGroupRuleSet as { items: Json[] }).items[0]!; item.fromPort = 443; item.toPort = 443; })],
    ['sg private range', derive('sgShorthand', (r) => { const item = ((r.responseElements as Json).securityGroupRuleSet as { items: Json[] }).items[0]!; item.cidrIpv4 = '10.0.0.0/8'; })],
    ['sg failed', failed(sample('sgShorthand'))],
    ['sg revoke', derive('sgShorthand', (r) => Object.assign(r, { eventName: 'RevokeSecurityGroupIngress', responseElements: { _return: true } }))],
    ['access key failed', failed(sample('accessKey'))],
    ['start logging', derive('stopLogging', (r) => (r.eventName = 'StartLogging'))],
    ['stop logging failed', failed(sample('stopLogging'))],
    ['bucket policy limited by vpce', derive('bucketPolicy', (r) => (((r.requestParameters as Json).bucketPolicy as { Statement: Json[] }).Statement[0]!.Condition = { StringEquals: { 'aws:SourceVpce': 'vpce-e75c8f8e' } }))],
    ['bucket policy failed', failed(sample('bucketPolicy'))],
    ['lambda permission limited by source arn', derive('addPermission', (r) => ((r.requestParameters as Json).sourceArn = 'arn:aws:s3:::bucket'))],
    ['lambda permission failed', failed(sample('addPermission'))],
    // Other detectors, on the corpus callers.
    ['bucket acl public-read', call('bucketPolicy', 's3.amazonaws.com', 'PutBucketAcl', { bucketName: 'b', 'x-amz-acl': ['public-read'] })],
    ['bucket acl private', call('bucketPolicy', 's3.amazonaws.com', 'PutBucketAcl', { bucketName: 'b', 'x-amz-acl': ['private'] })],
    ['public access block deleted', call('bucketPolicy', 's3.amazonaws.com', 'DeleteBucketPublicAccessBlock', { bucketName: 'b' })],
    ['account public access block on', call('bucketPolicy', 's3.amazonaws.com', 'PutAccountPublicAccessBlock', { PublicAccessBlockConfiguration: { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true } })],
    ['create user', call('accessKey', 'iam.amazonaws.com', 'CreateUser', { userName: 'intruder' })],
    ['login profile for another user', call('accessKey', 'iam.amazonaws.com', 'CreateLoginProfile', { userName: 'victim' })],
    ['admin inline policy', call('accessKey', 'iam.amazonaws.com', 'PutUserPolicy', { userName: 'victim', policyName: 'all', policyDocument: ADMIN })],
    ['attach read-only policy', call('accessKey', 'iam.amazonaws.com', 'AttachRolePolicy', { roleName: 'ci', policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' })],
    ['trust everyone', call('accessKey', 'iam.amazonaws.com', 'UpdateAssumeRolePolicy', { roleName: 'app', policyDocument: TRUST_ALL })],
    ['create role for a service', call('accessKey', 'iam.amazonaws.com', 'CreateRole', { roleName: 'fn', assumeRolePolicyDocument: TRUST_SERVICE }, { role: { roleName: 'fn', assumeRolePolicyDocument: encodeURIComponent(TRUST_SERVICE) } })],
    ['root access key', call('createBucketRoot', 'iam.amazonaws.com', 'CreateAccessKey', null, { accessKey: { accessKeyId: 'AKIAROOT', status: 'Active' } })],
    ['event selectors without management events', via('cloudtrail', 'PutEventSelectors', { trailName: 't', eventSelectors: [{ readWriteType: 'All', includeManagementEvents: false }] })],
    ['update trail single region', via('cloudtrail', 'UpdateTrail', { name: 't', isMultiRegionTrail: false })],
    ['delete trail', via('cloudtrail', 'DeleteTrail', { name: 't' })],
    ['root sign-in', signIn('createBucketRoot', 'Success', 'Yes')],
    ['root sign-in failed', signIn('createBucketRoot', 'Failure', 'No')],
    ['user sign-in without MFA', signIn('bucketPolicy', 'Success', 'No')],
    ['user sign-in with MFA', signIn('bucketPolicy', 'Success', 'Yes')],
    ['rds made public', via('rds', 'ModifyDBInstance', { dBInstanceIdentifier: 'db', publiclyAccessible: true })],
    ['rds made private', via('rds', 'ModifyDBInstance', { dBInstanceIdentifier: 'db', publiclyAccessible: false })],
    ['internet-facing load balancer', via('elasticloadbalancing', 'CreateLoadBalancer', { name: 'web', scheme: 'internet-facing' }, { loadBalancers: [{ loadBalancerArn: LB, scheme: 'internet-facing', type: 'application' }] })],
    ['http listener', via('elasticloadbalancing', 'CreateListener', { loadBalancerArn: LB, protocol: 'HTTP', port: 80 }, { listeners: [{ listenerArn: LISTENER, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'forward' }] }] })],
    ['http redirect listener', via('elasticloadbalancing', 'CreateListener', { loadBalancerArn: LB, protocol: 'HTTP', port: 80 }, { listeners: [{ listenerArn: LISTENER, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS' } }] }] })],
    ['function url none', call('addPermission', 'lambda.amazonaws.com', 'CreateFunctionUrlConfig20211031', { functionName: 'f', authType: 'NONE' })],
    ['function url iam', call('addPermission', 'lambda.amazonaws.com', 'UpdateFunctionUrlConfig20211031', { functionName: 'f', authType: 'AWS_IAM' })],
    ['kms deletion', via('kms', 'ScheduleKeyDeletion', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab', pendingWindowInDays: 7 })],
    ['kms disable failed', failed(via('kms', 'DisableKey', { keyId: '1234abcd-12ab-34cd-56ef-1234567890ab' }))],
    ['guardduty deleted', via('guardduty', 'DeleteDetector', { detectorId: 'abc' })],
    ['security hub disabled', via('securityhub', 'DisableSecurityHub', null)],
    ['config recorder stopped', via('config', 'StopConfigurationRecorder', { configurationRecorderName: 'default' })],
    ['config delivery channel deleted', via('config', 'DeleteDeliveryChannel', { deliveryChannelName: 'default' })],
    ['flow logs deleted', via('ec2', 'DeleteFlowLogs', { DeleteFlowLogsRequest: { FlowLogId: { content: 'fl-0e17aa62a21d4bbfe', tag: 1 } } }, { DeleteFlowLogsResponse: { unsuccessful: '' } })],
    // Deployments the scanner's own rule also sees: no security detector wants them.
    ['lambda update code (corpus, no detector)', sample('updateFunctionCode')],
  ];
  return entries.map(([name, input]) => ({ name, input }));
}
