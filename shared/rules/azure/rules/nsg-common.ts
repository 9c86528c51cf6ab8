import type { AllowLists } from '../../allow-lists';
import type { PostureEvaluation } from '../../types';
import { arrayAt, isObject, objectAt, sameText, stringAt, textAt, type ArmResource } from '../arm';
import { isWorldSource, parsePortRange, type PortRange } from '../network';

/**
 * The part of an NSG both NSG rules look at: its own security rules that allow inbound traffic from the
 * internet on a protocol with ports. `defaultSecurityRules` (AllowVnetInBound, AllowAzureLoadBalancerInBound,
 * DenyAllInBound and their outbound twins) are fixed by Azure, cannot be changed and open nothing to the
 * internet, so they are not read.
 */
export interface OpenInboundRule {
  /** The security rule's name: the finding's subject. */
  name: string;
  priority?: number;
  protocol: string;
  /** The sources that make it world-open (`*`, `Internet`, `0.0.0.0/0`...). */
  worldSources: string[];
  /** destinationPortRange(s) as written. */
  portSpecs: string[];
  ranges: PortRange[];
}

/** Protocols without ports (Icmp, Esp, Ah) cannot expose a service port. Absent means any (`*`). */
function carriesPorts(protocol: string): boolean {
  return ['*', 'tcp', 'udp'].includes(protocol.toLowerCase());
}

function strings(value: unknown): string[] {
  return arrayAt(value).flatMap((v) => (typeof v === 'string' && v.trim() !== '' ? [v.trim()] : []));
}

/** Properties of a security rule entry (`{ name, properties: {...} }`; Resource Graph flattening aside). */
function ruleProperties(entry: Record<string, unknown>): Record<string, unknown> {
  return objectAt(entry.properties) ?? entry;
}

export function openInboundRules(resource: ArmResource, allowLists: AllowLists): OpenInboundRule[] {
  const rules = arrayAt(resource.properties?.securityRules);
  const out: OpenInboundRule[] = [];
  rules.forEach((entry, index) => {
    if (!isObject(entry)) return;
    const p = ruleProperties(entry);
    if (!sameText(stringAt(p.access), 'Allow') || !sameText(stringAt(p.direction), 'Inbound')) return;
    const protocol = textAt(p.protocol) ?? '*';
    if (!carriesPorts(protocol)) return;
    const sources = [...strings(p.sourceAddressPrefixes), ...(textAt(p.sourceAddressPrefix) ? [textAt(p.sourceAddressPrefix)!] : [])];
    const worldSources = [...new Set(sources.filter((s) => isWorldSource(s, allowLists)))];
    if (worldSources.length === 0) return;
    const portSpecs = [...strings(p.destinationPortRanges), ...(textAt(p.destinationPortRange) ? [textAt(p.destinationPortRange)!] : [])];
    const ranges = portSpecs.flatMap((spec) => {
      const range = parsePortRange(spec);
      return range ? [range] : [];
    });
    if (ranges.length === 0) return;
    const name = textAt(entry.name) ?? textAt(stringAt(entry.id)?.split('/').pop()) ?? `securityRules[${index}]`;
    const priority = typeof p.priority === 'number' && Number.isFinite(p.priority) ? p.priority : undefined;
    out.push({ name, priority, protocol, worldSources, portSpecs, ranges });
  });
  return out;
}

/** The resource is an NSG the rule can read: `properties` present (a Resource Graph row may project less). */
export function nsgNotApplicable(resource: ArmResource): PostureEvaluation | undefined {
  if (!resource.properties) return { status: 'not-applicable', reason: 'the resource carries no properties' };
  const rules = resource.properties.securityRules;
  if (rules !== undefined && rules !== null && !Array.isArray(rules)) return { status: 'not-applicable', reason: 'properties.securityRules is not an array' };
  return undefined;
}
