import { arrayAt, isObject, objectAt, sameText, stringAt, textAt } from '../arm';
import { adminPortsOf } from '../network';
import { CONTAINER_GROUP } from '../resources';
import type { AzurePostureRule } from '../types';
import { propertiesMissing } from './common';

function portNumber(value: unknown): number | undefined {
  const n = typeof value === 'string' && /^[0-9]{1,5}$/.test(value.trim()) ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 65535 ? n : undefined;
}

/**
 * A container group with a public IP (`properties.ipAddress.type` Public) exposing a port: admin ports (22,
 * 3389, the allow-list's) are CRITICAL, other ports outside publicPorts HIGH. Only `ipAddress.ports` are
 * reachable from outside; a container's own `ports` list is what it listens on inside the group. One finding
 * per exposed port (`TCP/22`), so its severity never changes under the same subject.
 */
export const containerGroupPublicPort: AzurePostureRule = {
  id: 'azure.containerinstance.public-port',
  title: 'Container group exposes a non-public port on a public IP',
  severity: 'HIGH',
  cloud: 'azure',
  service: 'containerinstance',
  category: 'posture',
  risk: 'A container group with a public IP is reachable from the whole internet on every port it lists; SSH, RDP or an unauthenticated service port there is found by scanners within minutes.',
  remediation: {
    text: 'Expose only the ports the workload serves publicly, or deploy the group into a virtual network (private IP) behind Application Gateway; never expose remote administration ports.',
    url: 'https://learn.microsoft.com/azure/container-instances/container-instances-vnet',
  },
  resourceType: CONTAINER_GROUP.type,
  triggers: CONTAINER_GROUP.triggers,
  deleteOperationNames: CONTAINER_GROUP.deleteOperationNames,
  evaluate(resource, { allowLists }) {
    const skip = propertiesMissing(resource);
    if (skip) return skip;
    const ipAddress = objectAt(resource.properties!.ipAddress);
    // A private IP (virtual network) or no IP at all: nothing is exposed to the internet.
    if (!ipAddress || !sameText(stringAt(ipAddress.type), 'Public')) return { status: 'evaluated', failures: [] };
    const admin = adminPortsOf(allowLists);
    const seen = new Set<string>();
    const failures = arrayAt(ipAddress.ports).flatMap((entry) => {
      if (!isObject(entry)) return [];
      const port = portNumber(entry.port);
      if (port === undefined) return [];
      const protocol = (textAt(entry.protocol) ?? 'TCP').toUpperCase();
      const subject = `${protocol}/${port}`;
      if (seen.has(subject)) return [];
      seen.add(subject);
      const isAdmin = admin.includes(port);
      if (!isAdmin && allowLists.publicPorts.includes(port)) return [];
      return [
        {
          subject,
          severity: isAdmin ? ('CRITICAL' as const) : ('HIGH' as const),
          title: isAdmin ? `Container group exposes remote administration port ${subject} on a public IP` : `Container group exposes ${subject} on a public IP`,
          evidence: { ip: stringAt(ipAddress.ip) ?? null, fqdn: stringAt(ipAddress.fqdn) ?? null, port, protocol, adminPort: isAdmin, publicPorts: allowLists.publicPorts },
        },
      ];
    });
    return { status: 'evaluated', failures };
  },
};
