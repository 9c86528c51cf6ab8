import { ingressRule, judgeIngress, subjectOf, type IngressRule } from '../../ec2-sg-open-ingress';
import type { AwsPostureRule } from '../types';
import { SECURITY_GROUP } from '../kinds';
import type { SecurityGroupShape } from '../shapes';
import { failing, failure, type Failure } from './common';

/**
 * DescribeSecurityGroups' inbound permissions judged with the AuthorizeSecurityGroupIngress detector's own
 * normaliser and judge (ec2-sg-open-ingress.ts): the same allow-lists, the same exposure (the world, or a
 * public range at least as wide as a /8), the same subject per (protocol, port range, source range).
 */
export const ec2SecurityGroupOpen: AwsPostureRule<SecurityGroupShape> = {
  id: 'aws.ec2.security-group-open-to-internet',
  title: 'Security group open to the internet',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'posture',
  service: 'ec2',
  risk: 'Anyone on the internet can reach the ports this group opens; remote administration ports (SSH, RDP, WinRM) are brute-forced within minutes of being exposed.',
  remediation: {
    text: 'Revoke the rule, or narrow its source to the addresses that need access (a VPN or bastion range, a load balancer security group). Ports meant to be public belong in the allow-list.',
    url: 'https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html',
  },
  resourceType: SECURITY_GROUP.type,
  triggers: SECURITY_GROUP.triggers,
  evaluate(config, ctx) {
    const failures: Failure[] = [];
    const seen = new Set<string>();
    for (const permission of config.IpPermissions ?? []) {
      const sources = [...(permission.IpRanges ?? []).map((r) => r.CidrIp), ...(permission.Ipv6Ranges ?? []).map((r) => r.CidrIpv6)];
      for (const source of sources) {
        const rule: IngressRule | undefined = ingressRule(permission.IpProtocol, permission.FromPort, permission.ToPort, source);
        if (!rule) continue;
        const subject = subjectOf(rule);
        if (seen.has(subject)) continue;
        seen.add(subject);
        const verdict = judgeIngress(rule, ctx.allowLists);
        if (!verdict) continue;
        const critical = verdict.adminPorts.length > 0;
        const what = rule.protocol === 'all' ? 'all traffic' : `${rule.protocol} ${rule.from === rule.to ? rule.from : `${rule.from}-${rule.to}`}`;
        failures.push(
          failure(
            subject,
            { ipProtocol: rule.protocol, fromPort: rule.from, toPort: rule.to, cidr: rule.cidr, exposure: verdict.exposure, ...(critical ? { adminPorts: verdict.adminPorts } : {}) },
            { title: `Security group ${config.GroupId} open to the internet on ${what} from ${rule.cidr}`, severity: critical ? 'CRITICAL' : 'HIGH' },
          ),
        );
      }
    }
    return failing(failures);
  },
};
