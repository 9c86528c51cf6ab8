import type { AllowLists } from '../allow-lists';
import type { ActivityDetector, AwsEventContext, CloudTrailRecord, Detection } from '../types';
import { exposureOf, formatCidr, isTrusted, parseCidr, type Cidr, type Exposure } from './cidr';
import { arn, bool, fail, field, int, obj, objects, pass, request, resource, response, str, type Json } from './record';

/**
 * Security-group ingress opened to the internet (seed 002's security_group_handler). One detection per
 * (protocol, port range, source range): the subject `<proto>/<from>-<to> from <cidr>` is what a later
 * RevokeSecurityGroupIngress of the same rule resolves.
 */

interface IngressRule {
  protocol: string;
  from: number;
  to: number;
  /** Canonical text, and the parsed range it was made from. */
  cidr: string;
  range: Cidr;
  groupId?: string;
  ruleId?: string;
}

const ALL_PORTS = { from: 0, to: 65535 };
const PROTOCOL_NAMES: Record<string, string> = { '-1': 'all', '6': 'tcp', '17': 'udp', '1': 'icmp', '58': 'icmpv6' };

/** `-1`/`all`, `tcp`/`6`, `udp`/`17`: the protocols ports mean something for; others (ICMP, ESP...) have none. */
function protocolName(value: unknown): string | undefined {
  const text = str(value) ?? (typeof value === 'number' ? String(value) : undefined);
  if (text === undefined) return undefined;
  const lower = text.toLowerCase();
  return PROTOCOL_NAMES[lower] ?? lower;
}

function rule(protocolValue: unknown, fromValue: unknown, toValue: unknown, cidrValue: unknown, extra: Pick<IngressRule, 'groupId' | 'ruleId'> = {}): IngressRule | undefined {
  const protocol = protocolName(protocolValue);
  const cidrText = str(cidrValue);
  if (protocol === undefined || cidrText === undefined) return undefined;
  const parsed = parseCidr(cidrText);
  if (!parsed) return undefined;
  const fromPort = int(fromValue);
  const toPort = int(toValue);
  // All protocols means all ports, whatever the ports say; tcp/udp with -1 (or none) mean the same.
  const whole = protocol === 'all' || fromPort === undefined || fromPort < 0 || toPort === undefined || toPort < 0;
  const low = whole ? ALL_PORTS.from : Math.min(fromPort, toPort);
  const high = whole ? ALL_PORTS.to : Math.max(fromPort, toPort);
  const clamp = (port: number) => Math.min(ALL_PORTS.to, Math.max(ALL_PORTS.from, port));
  return { protocol, from: clamp(low), to: clamp(high), cidr: formatCidr(parsed), range: parsed, ...extra };
}

/** The normalised rules of a successful call (`responseElements.securityGroupRuleSet`), ingress only. */
function fromRuleSet(set: unknown): IngressRule[] {
  const out: IngressRule[] = [];
  for (const item of objects(set)) {
    if (bool(item.isEgress) === true) continue;
    const found = rule(item.ipProtocol, item.fromPort, item.toPort, item.cidrIpv4 ?? item.cidrIpv6, { groupId: str(item.groupId), ruleId: str(item.securityGroupRuleId) });
    if (found) out.push(found);
  }
  return out;
}

/** Both request shapes: `ipPermissions.items[]` with ip(v6)Ranges, and the CLI shorthand's top-level fields. */
function fromRequest(req: Json): IngressRule[] {
  const out: IngressRule[] = [];
  for (const permission of objects(req.ipPermissions)) {
    for (const range of objects(permission.ipRanges)) {
      const found = rule(permission.ipProtocol, permission.fromPort, permission.toPort, range.cidrIp);
      if (found) out.push(found);
    }
    for (const range of objects(permission.ipv6Ranges)) {
      const found = rule(permission.ipProtocol, permission.fromPort, permission.toPort, range.cidrIpv6);
      if (found) out.push(found);
    }
  }
  const shorthand = rule(req.ipProtocol, req.fromPort, req.toPort, req.cidrIp);
  if (shorthand) out.push(shorthand);
  return out;
}

/**
 * ModifySecurityGroupRules: `ModifySecurityGroupRulesRequest.{GroupId, SecurityGroupRule: {SecurityGroupRuleId,
 * SecurityGroupRule: {CidrIpv4, FromPort, ToPort, IpProtocol}}}`; several rules are read as a list of those.
 */
function fromModify(req: Json): { groupId?: string; rules: IngressRule[] } {
  const body = obj(req.ModifySecurityGroupRulesRequest) ?? req;
  const rules: IngressRule[] = [];
  for (const entry of objects(field(body, 'SecurityGroupRule', 'SecurityGroupRules'))) {
    const spec = obj(entry.SecurityGroupRule) ?? entry;
    const found = rule(spec.IpProtocol, spec.FromPort, spec.ToPort, spec.CidrIpv4 ?? spec.CidrIpv6, { ruleId: str(entry.SecurityGroupRuleId) });
    if (found) rules.push(found);
  }
  return { groupId: str(body.GroupId), rules };
}

export function subjectOf(r: Pick<IngressRule, 'protocol' | 'from' | 'to' | 'cidr'>): string {
  return `${r.protocol}/${r.from}-${r.to} from ${r.cidr}`;
}

/** Whether the range holds a port the allow-list does not let the world reach. */
function exposesDisallowedPort(r: IngressRule, allow: AllowLists): boolean {
  const allowedInside = new Set(allow.publicPorts.filter((p) => p >= r.from && p <= r.to)).size;
  return r.to - r.from + 1 > allowedInside;
}

function adminPortsIn(r: IngressRule, allow: AllowLists): number[] {
  return [...new Set(allow.adminPorts.filter((p) => p >= r.from && p <= r.to))].sort((a, b) => a - b);
}

/** Whether an ingress rule is a finding: ports mean something, the source is the internet, not trusted, not allowed. */
export function judgeIngress(r: IngressRule, allow: AllowLists): { exposure: Exposure; adminPorts: number[] } | undefined {
  if (r.protocol !== 'all' && r.protocol !== 'tcp' && r.protocol !== 'udp') return undefined;
  const exposure = exposureOf(r.range);
  if (!exposure || isTrusted(r.range, allow.trustedCidrs)) return undefined;
  if (!exposesDisallowedPort(r, allow)) return undefined;
  return { exposure, adminPorts: adminPortsIn(r, allow) };
}

function securityGroup(ctx: AwsEventContext, groupId: string) {
  return resource('AWS::EC2::SecurityGroup', arn(ctx, 'ec2', `security-group/${groupId}`), groupId);
}

function unique(rules: IngressRule[]): IngressRule[] {
  const seen = new Set<string>();
  return rules.filter((r) => {
    const key = subjectOf(r);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function authorizeOrModify(record: CloudTrailRecord, ctx: AwsEventContext): Detection[] {
  const req = request(record);
  const resp = response(record);
  let groupId: string | undefined;
  let rules: IngressRule[];
  let modified = false;
  if (record.eventName === 'ModifySecurityGroupRules') {
    ({ groupId, rules } = fromModify(req));
    modified = true;
  } else {
    // The response lists what was actually added, normalised to one range per rule: prefer it when it is there.
    const normalised = fromRuleSet(resp.securityGroupRuleSet);
    rules = objects(resp.securityGroupRuleSet).length > 0 ? normalised : fromRequest(req);
    groupId = str(req.groupId) ?? normalised.find((r) => r.groupId)?.groupId ?? str(req.groupName);
  }
  if (!groupId) return [];
  const out: Detection[] = [];
  for (const r of unique(rules)) {
    const verdict = judgeIngress(r, ctx.allowLists);
    if (!verdict) continue;
    const critical = verdict.adminPorts.length > 0;
    const what = r.protocol === 'all' ? 'all traffic' : `${r.protocol} ${r.from === r.to ? r.from : `${r.from}-${r.to}`}`;
    out.push(
      fail(
        securityGroup(ctx, r.groupId ?? groupId),
        subjectOf(r),
        {
          ipProtocol: r.protocol,
          fromPort: r.from,
          toPort: r.to,
          cidr: r.cidr,
          exposure: verdict.exposure,
          ...(critical ? { adminPorts: verdict.adminPorts } : {}),
          ...(r.ruleId ? { securityGroupRuleId: r.ruleId } : {}),
          // ModifySecurityGroupRules names the rule, not its direction.
          ...(modified ? { direction: 'not recorded (ModifySecurityGroupRules)' } : {}),
        },
        {
          title: `Security group ${r.groupId ?? groupId} open to the internet on ${what} from ${r.cidr}`,
          severity: critical ? 'CRITICAL' : 'HIGH',
        },
      ),
    );
  }
  return out;
}

/**
 * RevokeSecurityGroupIngress resolves the same subject. Every revoked range is reported as a pass (a pass on
 * a subject that never failed writes nothing), so a rule flagged under an older allow-list still resolves.
 * `revokedSecurityGroupRuleSet` is read when present, by analogy with the Authorize response (unverified).
 */
function revoke(record: CloudTrailRecord, ctx: AwsEventContext): Detection[] {
  const req = request(record);
  const resp = response(record);
  const revoked = fromRuleSet(resp.revokedSecurityGroupRuleSet);
  const rules = unique([...fromRequest(req), ...revoked]);
  const groupId = str(req.groupId) ?? revoked.find((r) => r.groupId)?.groupId ?? str(req.groupName);
  if (!groupId) return [];
  return rules.map((r) => pass(securityGroup(ctx, r.groupId ?? groupId), subjectOf(r), 'ingress rule revoked'));
}

export const sgOpenIngress: ActivityDetector = {
  id: 'aws.ec2.sg-open-ingress',
  title: 'Security group open to the internet',
  severity: 'HIGH',
  cloud: 'aws',
  category: 'activity',
  service: 'ec2',
  risk: 'Anyone on the internet can reach the ports this rule opens; remote administration ports (SSH, RDP, WinRM) are brute-forced within minutes of being exposed.',
  remediation: {
    text: 'Revoke the rule, or narrow its source to the addresses that need access (a VPN or bastion range, a load balancer security group). Ports meant to be public belong in the allow-list.',
    url: 'https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html',
  },
  eventSource: 'ec2.amazonaws.com',
  eventNames: ['AuthorizeSecurityGroupIngress', 'ModifySecurityGroupRules', 'RevokeSecurityGroupIngress'],
  match(record, ctx) {
    return record.eventName === 'RevokeSecurityGroupIngress' ? revoke(record, ctx) : authorizeOrModify(record, ctx);
  },
};

/** The rule normaliser and judge, shared with the posture rule that reads DescribeSecurityGroups (posture/rules). */
export { rule as ingressRule, type IngressRule };
