import { call, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

/** The stratus StopLogging record (account 143434273843, region apiso-centralnorth-2r) as another call. */
const rds = (eventName: string, requestParameters: Json, responseElements: Json | null = null) => call('stopLogging', 'rds.amazonaws.com', eventName, requestParameters, responseElements);
const elb = (eventName: string, requestParameters: Json, responseElements: Json | null = null) => call('stopLogging', 'elasticloadbalancing.amazonaws.com', eventName, requestParameters, responseElements);

const DB = 'arn:aws:rds:apiso-centralnorth-2r:143434273843:db:production-db';
const CLUSTER = 'arn:aws:rds:apiso-centralnorth-2r:143434273843:cluster:aurora-cluster';
const LB = 'arn:aws:elasticloadbalancing:apiso-centralnorth-2r:143434273843:loadbalancer/app/web/50dc6c495c0c9188';
const LISTENER = 'arn:aws:elasticloadbalancing:apiso-centralnorth-2r:143434273843:listener/app/web/50dc6c495c0c9188/f2f7dc8efc522ab2';

const rdsCases: DetectorCase[] = [
  { name: 'ModifyDBInstance publiclyAccessible true is HIGH', input: () => rds('ModifyDBInstance', { dBInstanceIdentifier: 'production-db', publiclyAccessible: true, applyImmediately: true }), expect: [{ ruleId: 'aws.rds.publicly-accessible', outcome: 'fail', severity: 'HIGH', resourceId: DB }] },
  { name: 'the identifier is case-insensitive (RDS lower-cases it)', input: () => rds('ModifyDBInstance', { dBInstanceIdentifier: 'Production-DB', publiclyAccessible: true }), expect: [{ outcome: 'fail', resourceId: DB }] },
  { name: 'ModifyDBInstance publiclyAccessible false is the pass', input: () => rds('ModifyDBInstance', { dBInstanceIdentifier: 'production-db', publiclyAccessible: false }), expect: [{ outcome: 'pass', resourceId: DB }] },
  { name: 'ModifyDBInstance not touching publiclyAccessible gives nothing', input: () => rds('ModifyDBInstance', { dBInstanceIdentifier: 'production-db', allocatedStorage: 200 }), expect: [] },
  { name: 'a failed ModifyDBInstance gives nothing', input: () => failed(rds('ModifyDBInstance', { dBInstanceIdentifier: 'production-db', publiclyAccessible: true })), expect: [] },
  { name: "CreateDBInstance: the response's effective value wins (default VPC made it public)", input: () => rds('CreateDBInstance', { dBInstanceIdentifier: 'production-db', engine: 'postgres' }, { dBInstanceIdentifier: 'production-db', publiclyAccessible: true }), expect: [{ outcome: 'fail', resourceId: DB }] },
  { name: 'CreateDBInstance private gives no finding', input: () => rds('CreateDBInstance', { dBInstanceIdentifier: 'production-db', publiclyAccessible: false }, { publiclyAccessible: false }), expect: [{ outcome: 'pass' }] },
  { name: 'ModifyDBCluster publiclyAccessible true names the cluster', input: () => rds('ModifyDBCluster', { dBClusterIdentifier: 'aurora-cluster', publiclyAccessible: true }), expect: [{ outcome: 'fail', resourceId: CLUSTER }] },
  { name: 'DeleteDBInstance resolves', input: () => rds('DeleteDBInstance', { dBInstanceIdentifier: 'production-db' }), expect: [{ outcome: 'pass', resourceId: DB }] },
];

const elbCases: DetectorCase[] = [
  {
    name: 'CreateLoadBalancer internet-facing (v2) is LOW on the load balancer ARN',
    input: () => elb('CreateLoadBalancer', { name: 'web', type: 'application', scheme: 'internet-facing' }, { loadBalancers: [{ loadBalancerArn: LB, loadBalancerName: 'web', scheme: 'internet-facing', type: 'application', dNSName: 'web-1.elb.amazonaws.com' }] }),
    expect: [{ ruleId: 'aws.elb.internet-facing', outcome: 'fail', severity: 'LOW', resourceId: LB }],
  },
  { name: 'CreateLoadBalancer without a scheme defaults to internet-facing (classic)', input: () => elb('CreateLoadBalancer', { loadBalancerName: 'legacy', listeners: [] }), expect: [{ outcome: 'fail', resourceId: 'arn:aws:elasticloadbalancing:apiso-centralnorth-2r:143434273843:loadbalancer/legacy' }] },
  { name: 'CreateLoadBalancer internal gives nothing', input: () => elb('CreateLoadBalancer', { name: 'web', scheme: 'internal' }, { loadBalancers: [{ loadBalancerArn: LB, scheme: 'internal' }] }), expect: [] },
  { name: 'a failed CreateLoadBalancer gives nothing', input: () => failed(elb('CreateLoadBalancer', { name: 'web', scheme: 'internet-facing' })), expect: [] },
  { name: 'DeleteLoadBalancer resolves', input: () => elb('DeleteLoadBalancer', { loadBalancerArn: LB }), expect: [{ ruleId: 'aws.elb.internet-facing', outcome: 'pass', resourceId: LB }] },
  {
    name: 'CreateListener HTTP forwarding to targets is a finding',
    input: () => elb('CreateListener', { loadBalancerArn: LB, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'forward', targetGroupArn: 'arn:tg' }] }, { listeners: [{ listenerArn: LISTENER, loadBalancerArn: LB, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'forward', targetGroupArn: 'arn:tg' }] }] }),
    expect: [{ ruleId: 'aws.elb.listener-without-tls', outcome: 'fail', severity: 'MEDIUM', resourceId: LISTENER }],
  },
  {
    name: 'CreateListener HTTP redirecting to HTTPS is fine',
    input: () => elb('CreateListener', { loadBalancerArn: LB, protocol: 'HTTP', port: 80 }, { listeners: [{ listenerArn: LISTENER, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'redirect', redirectConfig: { protocol: 'HTTPS', port: '443', statusCode: 'HTTP_301' } }] }] }),
    expect: [{ outcome: 'pass' }],
  },
  { name: 'CreateListener HTTPS is fine', input: () => elb('CreateListener', { loadBalancerArn: LB, protocol: 'HTTPS', port: 443 }, { listeners: [{ listenerArn: LISTENER, protocol: 'HTTPS', port: 443 }] }), expect: [{ outcome: 'pass' }] },
  { name: 'TCP (a network load balancer) is not judged as plain HTTP', input: () => elb('CreateListener', { loadBalancerArn: LB, protocol: 'TCP', port: 5432 }, { listeners: [{ listenerArn: LISTENER, protocol: 'TCP', port: 5432 }] }), expect: [{ outcome: 'pass' }] },
  { name: 'a failed CreateListener gives nothing', input: () => failed(elb('CreateListener', { loadBalancerArn: LB, protocol: 'HTTP', port: 80 })), expect: [] },
  { name: 'ModifyListener to HTTP without a redirect (request only) is a finding', input: () => elb('ModifyListener', { listenerArn: LISTENER, protocol: 'HTTP', port: 80, defaultActions: [{ type: 'fixed-response' }] }), expect: [{ outcome: 'fail', resourceId: LISTENER }] },
  { name: 'ModifyListener changing only the certificate, no response: nothing to judge', input: () => elb('ModifyListener', { listenerArn: LISTENER, certificates: [{ certificateArn: 'arn:cert' }] }), expect: [] },
  { name: 'DeleteListener resolves', input: () => elb('DeleteListener', { listenerArn: LISTENER }), expect: [{ outcome: 'pass', resourceId: LISTENER }] },
];

describe('RDS and load balancer detectors', () => {
  describe('aws.rds.publicly-accessible', () => detectorTable(rdsCases));
  describe('aws.elb.internet-facing and aws.elb.listener-without-tls', () => detectorTable(elbCases));
});
