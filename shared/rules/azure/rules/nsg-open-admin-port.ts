import { adminPortsIn, adminPortsOf } from '../network';
import { NETWORK_SECURITY_GROUP } from '../resources';
import type { AzurePostureRule } from '../types';
import { nsgNotApplicable, openInboundRules } from './nsg-common';

/**
 * An NSG security rule that allows SSH, RDP or another remote administration port (22, 3389 and the
 * allow-list's adminPorts) in from the internet. One finding per security rule (its name is the subject),
 * so narrowing one rule resolves exactly its finding.
 */
export const nsgOpenAdminPort: AzurePostureRule = {
  id: 'azure.network.nsg-open-admin-port',
  title: 'Network security group allows a remote administration port from the internet',
  severity: 'CRITICAL',
  cloud: 'azure',
  service: 'network',
  category: 'posture',
  risk: 'SSH, RDP and WinRM reachable from anywhere are brute-forced and exploited within minutes of exposure; one weak credential or unpatched service gives an attacker a shell inside the virtual network.',
  remediation: {
    text: 'Remove the inbound Allow rule or restrict its source to known address ranges; reach machines through Azure Bastion or just-in-time VM access instead of an open admin port.',
    url: 'https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview',
  },
  resourceType: NETWORK_SECURITY_GROUP.type,
  triggers: NETWORK_SECURITY_GROUP.triggers,
  deleteOperationNames: NETWORK_SECURITY_GROUP.deleteOperationNames,
  evaluate(resource, { allowLists }) {
    const skip = nsgNotApplicable(resource);
    if (skip) return skip;
    const admin = adminPortsOf(allowLists);
    const failures = openInboundRules(resource, allowLists).flatMap((rule) => {
      const exposed = adminPortsIn(rule.ranges, admin);
      if (exposed.length === 0) return [];
      return [
        {
          subject: rule.name,
          title: `NSG rule ${rule.name} allows port ${exposed.join(', ')} from the internet`,
          evidence: {
            securityRule: rule.name,
            priority: rule.priority,
            protocol: rule.protocol,
            sources: rule.worldSources,
            destinationPorts: rule.portSpecs,
            adminPorts: exposed,
          },
        },
      ];
    });
    return { status: 'evaluated', failures };
  },
};
