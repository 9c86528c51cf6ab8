import { decide, type Observation } from '../../../shared/findings/lifecycle';
import type { FindingNotice } from '../../../shared/findings/notifier';
import { observation } from '../../findings/support/observations';

/** Values an attacker controls (a resource name, a tag, an event field) that must reach no message unescaped. */
export const HOSTILE = {
  name: `sg-0abc"><script>alert('x')</script>`,
  evidenceValue: `</pre><img src=x onerror="alert(1)"> & 'quoted' "double"`,
  actor: `arn:aws:iam::123456789012:user/<b>mallory</b>`,
} as const;

export function openedNotice(overrides: Partial<Observation> = {}): FindingNotice {
  const decision = decide(undefined, observation(overrides), undefined);
  if (decision.kind !== 'open') throw new Error(`expected an open decision, got ${decision.kind}`);
  return { transition: 'open', finding: decision.finding };
}

export function resolvedNotice(reason = 'rule removed', overrides: Partial<Observation> = {}): FindingNotice {
  const opened = openedNotice(overrides).finding;
  const decision = decide(opened, observation({ ...overrides, outcome: 'pass', observedAt: '2026-12-01T11:00:00.000Z', resolvedReason: reason }), undefined);
  if (decision.kind !== 'resolve') throw new Error(`expected a resolve decision, got ${decision.kind}`);
  return { transition: 'resolve', finding: decision.finding, previous: opened };
}

export function reopenedNotice(overrides: Partial<Observation> = {}): FindingNotice {
  const resolved = resolvedNotice('fixed', overrides).finding;
  const decision = decide(resolved, observation({ ...overrides, observedAt: '2026-12-01T12:00:00.000Z' }), undefined);
  if (decision.kind !== 'reopen') throw new Error(`expected a reopen decision, got ${decision.kind}`);
  return { transition: 'reopen', finding: decision.finding, previous: resolved };
}

/** The open-SSH notice with attacker-controlled name, actor and evidence. */
export function hostileNotice(): FindingNotice {
  return openedNotice({
    resource: { type: 'AWS::EC2::SecurityGroup', id: 'arn:aws:ec2:us-east-1:123456789012:security-group/sg-0abc', name: HOSTILE.name },
    evidence: { ipProtocol: 'tcp', fromPort: 22, toPort: 22, cidr: '0.0.0.0/0', description: HOSTILE.evidenceValue },
    source: { trigger: 'event', eventId: 'e-1', eventName: 'AuthorizeSecurityGroupIngress', actor: HOSTILE.actor, sourceIp: '198.51.100.7' },
  });
}

export function azureNotice(): FindingNotice {
  return openedNotice({
    ruleId: 'azure.network.nsg-open-admin-port',
    category: 'posture',
    severity: 'HIGH',
    title: 'NSG rule open to the internet on tcp/3389',
    cloud: 'azure',
    scope: { subscription: '0b1f6471-1bf0-4dda-aec3-cb9272f09590', region: 'westeurope' },
    resource: { type: 'microsoft.network/networksecuritygroups', id: '/subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590/resourceGroups/rg/providers/Microsoft.Network/networkSecurityGroups/web-nsg', name: 'web-nsg' },
    source: { trigger: 'event', eventId: 'corr-1', eventName: 'Microsoft.Network/networkSecurityGroups/securityRules/write', actor: 'alice@contoso.com', sourceIp: '203.0.113.9' },
  });
}
