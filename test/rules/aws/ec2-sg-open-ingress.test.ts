import { call, derive, failed, type DetectorCase, type Json } from './support/records';
import { detectorTable } from './support/table';

const RULE = 'aws.ec2.sg-open-ingress';
const SG_STRATUS = 'arn:aws:ec2:us-northeast-1r:032092706103:security-group/sg-003dc7f1f1c686164';
const SG_BUDDY = 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0fbaac03a0ed37aab';

/** The stratus record with its single normalised rule (and the matching shorthand request) changed. */
function stratusRule(rule: { ipProtocol?: string; fromPort?: number; toPort?: number; cidrIpv4?: string; cidrIpv6?: string }): Json {
  return derive('sgShorthand', (record) => {
    const req = record.requestParameters as Json;
    const item = ((record.responseElements as Json).securityGroupRuleSet as { items: Json[] }).items[0]!;
    for (const [key, value] of Object.entries(rule)) {
      item[key] = value;
      if (key === 'cidrIpv4') req.cidrIp = value;
      else if (key !== 'cidrIpv6') req[key] = value;
    }
    if (rule.cidrIpv6) delete item.cidrIpv4;
  });
}

/** The stratus record as its request alone, without the normalised response (older records, replays). */
function requestOnly(change: (req: Json) => void = () => {}): Json {
  return derive('sgShorthand', (record) => {
    record.responseElements = { _return: true };
    change(record.requestParameters as Json);
  });
}

/** The cloud-buddy envelope's first ipPermissions item changed. */
function buddyPermission(change: (permission: Json) => void): Json {
  return derive('sgItemsEnvelope', (record) => {
    const items = ((record.requestParameters as Json).ipPermissions as { items: Json[] }).items;
    change(items[0]!);
  });
}

const cases: DetectorCase[] = [
  // Corpus records as published.
  { name: 'corpus (stratus): tcp/22 from x.x.x.x/0 is the world on an admin port: CRITICAL', input: () => derive('sgShorthand', () => {}), expect: [{ ruleId: RULE, outcome: 'fail', subject: 'tcp/22-22 from 0.0.0.0/0', severity: 'CRITICAL', resourceId: SG_STRATUS }] },
  { name: 'corpus (cloud-buddy envelope): tcp/22 from ::/0 in ipPermissions.items: CRITICAL', input: () => derive('sgItemsEnvelope', () => {}), expect: [{ outcome: 'fail', subject: 'tcp/22-22 from ::/0', severity: 'CRITICAL', resourceId: SG_BUDDY }] },
  // Failed calls.
  { name: 'failed call (errorCode) gives nothing', input: () => failed(derive('sgShorthand', () => {})), expect: [] },
  { name: 'failed call in the envelope form gives nothing', input: () => failed(derive('sgItemsEnvelope', () => {}), 'InvalidPermission.Duplicate'), expect: [] },
  // Ports.
  { name: 'allowed public port 443 gives nothing', input: () => stratusRule({ fromPort: 443, toPort: 443 }), expect: [] },
  { name: 'port 443 is a finding when the allow-list is emptied', input: () => stratusRule({ fromPort: 443, toPort: 443 }), allow: { publicPorts: [] }, expect: [{ outcome: 'fail', subject: 'tcp/443-443 from 0.0.0.0/0', severity: 'HIGH' }] },
  { name: 'a non-admin port outside the allow-list is HIGH', input: () => stratusRule({ fromPort: 5432, toPort: 5432 }), expect: [{ outcome: 'fail', subject: 'tcp/5432-5432 from 0.0.0.0/0', severity: 'HIGH' }] },
  { name: 'a range that includes an admin port (3389) is CRITICAL', input: () => stratusRule({ fromPort: 3000, toPort: 4000 }), expect: [{ outcome: 'fail', subject: 'tcp/3000-4000 from 0.0.0.0/0', severity: 'CRITICAL' }] },
  { name: 'a range made only of an allowed port (80-80) gives nothing', input: () => stratusRule({ fromPort: 80, toPort: 80 }), expect: [] },
  { name: 'a range spanning 80-443 opens more than the allowed two', input: () => stratusRule({ fromPort: 80, toPort: 443 }), expect: [{ outcome: 'fail', subject: 'tcp/80-443 from 0.0.0.0/0', severity: 'HIGH' }] },
  { name: 'protocol -1 is all ports (ports of -1 ignored): CRITICAL', input: () => stratusRule({ ipProtocol: '-1', fromPort: -1, toPort: -1 }), expect: [{ outcome: 'fail', subject: 'all/0-65535 from 0.0.0.0/0', severity: 'CRITICAL' }] },
  { name: 'protocol -1 with ports 443-443 still means every port', input: () => stratusRule({ ipProtocol: '-1', fromPort: 443, toPort: 443 }), expect: [{ outcome: 'fail', subject: 'all/0-65535 from 0.0.0.0/0', severity: 'CRITICAL' }] },
  { name: 'numeric protocol 6 is tcp', input: () => stratusRule({ ipProtocol: '6', fromPort: 8080, toPort: 8080 }), expect: [{ outcome: 'fail', subject: 'tcp/8080-8080 from 0.0.0.0/0', severity: 'HIGH' }] },
  { name: 'udp is judged like tcp', input: () => stratusRule({ ipProtocol: 'udp', fromPort: 53, toPort: 53 }), expect: [{ outcome: 'fail', subject: 'udp/53-53 from 0.0.0.0/0' }] },
  { name: 'ICMP has no ports to judge: nothing', input: () => stratusRule({ ipProtocol: 'icmp', fromPort: 8, toPort: -1 }), expect: [] },
  // Source ranges.
  { name: 'private 10.0.0.0/8 is not the internet', input: () => stratusRule({ cidrIpv4: '10.0.0.0/8' }), expect: [] },
  { name: 'private 172.16.0.0/12 is not the internet', input: () => stratusRule({ cidrIpv4: '172.16.0.0/12' }), expect: [] },
  { name: 'private 192.168.0.0/16 is not the internet', input: () => stratusRule({ cidrIpv4: '192.168.0.0/16' }), expect: [] },
  { name: 'IPv6 unique-local fc00::/7 is not the internet', input: () => stratusRule({ cidrIpv6: 'fc00::/7' }), expect: [] },
  { name: 'a single public address is a deliberate choice, not the internet', input: () => stratusRule({ cidrIpv4: '203.0.113.10/32' }), expect: [] },
  { name: 'half the internet (0.0.0.0/1) counts as the internet', input: () => stratusRule({ cidrIpv4: '0.0.0.0/1' }), expect: [{ outcome: 'fail', subject: 'tcp/22-22 from 0.0.0.0/1', severity: 'CRITICAL' }] },
  { name: 'a trusted range covering the source gives nothing', input: () => stratusRule({ cidrIpv4: '0.0.0.0/1' }), allow: { trustedCidrs: ['0.0.0.0/0'] }, expect: [] },
  { name: 'a trusted range narrower than the source does not cover it', input: () => stratusRule({ cidrIpv4: '0.0.0.0/0' }), allow: { trustedCidrs: ['198.51.100.0/24'] }, expect: [{ outcome: 'fail', subject: 'tcp/22-22 from 0.0.0.0/0' }] },
  { name: 'an egress rule in the response is not ingress', input: () => derive('sgShorthand', (r) => (((r.responseElements as Json).securityGroupRuleSet as { items: Json[] }).items[0]!.isEgress = true)), expect: [] },
  // Request shapes.
  { name: 'shorthand request without the normalised response is read too', input: () => requestOnly(), expect: [{ outcome: 'fail', subject: 'tcp/22-22 from 0.0.0.0/0', severity: 'CRITICAL' }] },
  { name: 'shorthand request with a private source gives nothing', input: () => requestOnly((req) => (req.cidrIp = '10.1.0.0/16')), expect: [] },
  {
    name: 'ipPermissions.items with an IPv4 range and an IPv6 range: one finding each',
    input: () => buddyPermission((p) => (p.ipRanges = { items: [{ cidrIp: '0.0.0.0/0' }] })),
    expect: [
      { outcome: 'fail', subject: 'tcp/22-22 from 0.0.0.0/0' },
      { outcome: 'fail', subject: 'tcp/22-22 from ::/0' },
    ],
  },
  { name: 'ipPermissions.items on an allowed port gives nothing', input: () => buddyPermission((p) => Object.assign(p, { fromPort: 443, toPort: 443 })), expect: [] },
  // ModifySecurityGroupRules.
  {
    name: 'ModifySecurityGroupRules to 0.0.0.0/0 on 3389 is CRITICAL',
    input: () =>
      call('sgShorthand', 'ec2.amazonaws.com', 'ModifySecurityGroupRules', {
        ModifySecurityGroupRulesRequest: { GroupId: 'sg-003dc7f1f1c686164', SecurityGroupRule: { SecurityGroupRuleId: 'sgr-09b3e3d2ca1edf2a2', SecurityGroupRule: { CidrIpv4: '0.0.0.0/0', FromPort: 3389, ToPort: 3389, IpProtocol: 'tcp' } } },
      }, { ModifySecurityGroupRulesResponse: { return: true } }),
    expect: [{ outcome: 'fail', subject: 'tcp/3389-3389 from 0.0.0.0/0', severity: 'CRITICAL', resourceId: SG_STRATUS }],
  },
  {
    name: 'ModifySecurityGroupRules with several rules (list form) judges each',
    input: () =>
      call('sgShorthand', 'ec2.amazonaws.com', 'ModifySecurityGroupRules', {
        ModifySecurityGroupRulesRequest: {
          GroupId: 'sg-003dc7f1f1c686164',
          SecurityGroupRule: [
            { SecurityGroupRuleId: 'sgr-1', SecurityGroupRule: { CidrIpv4: '10.0.0.0/8', FromPort: 22, ToPort: 22, IpProtocol: 'tcp' } },
            { SecurityGroupRuleId: 'sgr-2', SecurityGroupRule: { CidrIpv4: '0.0.0.0/0', FromPort: '9200', ToPort: '9200', IpProtocol: 'tcp' } },
          ],
        },
      }),
    expect: [{ outcome: 'fail', subject: 'tcp/9200-9200 from 0.0.0.0/0', severity: 'HIGH' }],
  },
  { name: 'ModifySecurityGroupRules to a private range gives nothing', input: () => call('sgShorthand', 'ec2.amazonaws.com', 'ModifySecurityGroupRules', { ModifySecurityGroupRulesRequest: { GroupId: 'sg-1', SecurityGroupRule: { SecurityGroupRule: { CidrIpv4: '192.168.1.0/24', FromPort: 22, ToPort: 22, IpProtocol: 'tcp' } } } }), expect: [] },
  // RevokeSecurityGroupIngress resolves the same subject.
  {
    name: 'RevokeSecurityGroupIngress (shorthand) is a pass on the same subject',
    input: () => derive('sgShorthand', (r) => Object.assign(r, { eventName: 'RevokeSecurityGroupIngress', responseElements: { _return: true } })),
    expect: [{ outcome: 'pass', subject: 'tcp/22-22 from 0.0.0.0/0', resourceId: SG_STRATUS }],
  },
  {
    name: 'RevokeSecurityGroupIngress (ipPermissions.items, IPv6) is a pass on the same subject',
    input: () => derive('sgItemsEnvelope', (r) => (r.eventName = 'RevokeSecurityGroupIngress')),
    expect: [{ outcome: 'pass', subject: 'tcp/22-22 from ::/0', resourceId: SG_BUDDY }],
  },
  { name: 'a failed revoke resolves nothing', input: () => failed(derive('sgShorthand', (r) => (r.eventName = 'RevokeSecurityGroupIngress'))), expect: [] },
  { name: 'a record naming no security group gives nothing', input: () => requestOnly((req) => delete req.groupId), expect: [] },
];

describe('aws.ec2.sg-open-ingress (security group ingress from the internet)', () => {
  detectorTable(cases);
});
