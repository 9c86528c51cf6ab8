import type { Observation } from '../../../shared/findings/lifecycle';

/** An observation of an open SSH port, with overrides: the shape every findings test starts from. */
export function observation(overrides: Partial<Observation> = {}): Observation {
  return {
    ruleId: 'aws.ec2.open-ingress',
    category: 'activity',
    severity: 'CRITICAL',
    title: 'Security group open to the internet on tcp/22',
    cloud: 'aws',
    scope: { account: '123456789012', region: 'us-east-1' },
    resource: { type: 'AWS::EC2::SecurityGroup', id: 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc', name: 'sg-0abc' },
    subject: 'tcp/22 from 0.0.0.0/0',
    outcome: 'fail',
    observedAt: '2026-12-01T10:00:00.000Z',
    evidence: { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0' },
    remediation: { text: 'Remove the rule or narrow its source range.', url: 'https://docs.aws.amazon.com/vpc/latest/userguide/security-group-rules.html' },
    source: { trigger: 'event', eventId: 'e-1', eventName: 'AuthorizeSecurityGroupIngress', actor: 'arn:aws:iam::123456789012:user/alice', sourceIp: '198.51.100.7' },
    ...overrides,
  };
}

export function at(minutes: number): string {
  return new Date(Date.parse('2026-12-01T10:00:00.000Z') + minutes * 60_000).toISOString();
}
