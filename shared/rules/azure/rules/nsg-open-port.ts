import { reachesUnexpectedPort, unexpectedPortsIn } from '../network';
import { NETWORK_SECURITY_GROUP } from '../resources';
import type { AzurePostureRule } from '../types';
import { nsgNotApplicable, openInboundRules } from './nsg-common';

/**
 * An NSG security rule that lets the internet reach a port nobody said should be public: outside the
 * allow-list's publicPorts (80 and 443 by default). Admin ports are the CRITICAL rule's; a rule open on `*`
 * fails both, since it exposes both kinds.
 */
export const nsgOpenPort: AzurePostureRule = {
  id: 'azure.network.nsg-open-port',
  title: 'Network security group allows a non-public port from the internet',
  severity: 'HIGH',
  cloud: 'azure',
  service: 'network',
  category: 'posture',
  risk: 'Databases, caches, management consoles and debug endpoints reachable from anywhere are scanned and attacked continuously; a port open to the internet without a reason is attack surface nobody watches.',
  remediation: {
    text: 'Restrict the rule to the sources that need it (or a service tag such as VirtualNetwork), or to the public ports the workload serves; put internet-facing services behind Application Gateway or Front Door.',
    url: 'https://learn.microsoft.com/azure/virtual-network/network-security-groups-overview',
  },
  resourceType: NETWORK_SECURITY_GROUP.type,
  triggers: NETWORK_SECURITY_GROUP.triggers,
  deleteOperationNames: NETWORK_SECURITY_GROUP.deleteOperationNames,
  evaluate(resource, { allowLists }) {
    const skip = nsgNotApplicable(resource);
    if (skip) return skip;
    const failures = openInboundRules(resource, allowLists).flatMap((rule) => {
      if (!reachesUnexpectedPort(rule.ranges, allowLists)) return [];
      const ports = unexpectedPortsIn(rule.ranges, allowLists);
      return [
        {
          subject: rule.name,
          title: `NSG rule ${rule.name} allows port ${ports.join(', ')} from the internet`,
          evidence: {
            securityRule: rule.name,
            priority: rule.priority,
            protocol: rule.protocol,
            sources: rule.worldSources,
            destinationPorts: rule.portSpecs,
            unexpectedPorts: ports,
            publicPorts: allowLists.publicPorts,
          },
        },
      ];
    });
    return { status: 'evaluated', failures };
  },
};
