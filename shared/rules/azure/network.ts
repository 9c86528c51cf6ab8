import type { AllowLists } from '../allow-lists';

/** Port and source arithmetic shared by the NSG and container group rules. */

export interface PortRange {
  from: number;
  to: number;
}

const ALL_PORTS: PortRange = { from: 0, to: 65535 };

function port(text: string): number | undefined {
  if (!/^[0-9]{1,5}$/.test(text)) return undefined;
  const n = Number(text);
  return n <= 65535 ? n : undefined;
}

/** `*`, `22`, `20-25` (as NSG destinationPortRange(s) spell them); undefined for anything else. */
export function parsePortRange(spec: string): PortRange | undefined {
  const text = spec.trim();
  if (text === '*') return ALL_PORTS;
  const dash = text.indexOf('-');
  if (dash === -1) {
    const single = port(text);
    return single === undefined ? undefined : { from: single, to: single };
  }
  const from = port(text.slice(0, dash).trim());
  const to = port(text.slice(dash + 1).trim());
  return from === undefined || to === undefined || from > to ? undefined : { from, to };
}

export function formatRange(range: PortRange): string {
  if (range.from === 0 && range.to === 65535) return '*';
  return range.from === range.to ? String(range.from) : `${range.from}-${range.to}`;
}

/** Remote administration ports: 22 and 3389 always, plus the allow-list's (WinRM by default). */
export function adminPortsOf(allowLists: AllowLists): number[] {
  return [...new Set([22, 3389, ...allowLists.adminPorts])].sort((a, b) => a - b);
}

/** The admin ports inside any of the ranges. */
export function adminPortsIn(ranges: readonly PortRange[], adminPorts: readonly number[]): number[] {
  return adminPorts.filter((p) => ranges.some((r) => p >= r.from && p <= r.to));
}

/**
 * Whether the ranges reach a port that is neither expected on the internet (publicPorts) nor an admin port
 * (those are the CRITICAL rule's), i.e. whether some port in them is open without a reason on file.
 */
export function reachesUnexpectedPort(ranges: readonly PortRange[], allowLists: AllowLists): boolean {
  const known = new Set([...allowLists.publicPorts, ...adminPortsOf(allowLists)]);
  return ranges.some((r) => {
    let knownInside = 0;
    for (const p of known) if (p >= r.from && p <= r.to) knownInside += 1;
    return knownInside < r.to - r.from + 1;
  });
}

/** The ports of a range outside publicPorts and admin ports, at most `limit` of them (for evidence). */
export function unexpectedPortsIn(ranges: readonly PortRange[], allowLists: AllowLists, limit = 10): string[] {
  const known = new Set([...allowLists.publicPorts, ...adminPortsOf(allowLists)]);
  const out: string[] = [];
  for (const r of ranges) {
    if (r.to - r.from + 1 > limit) {
      out.push(formatRange(r));
    } else {
      for (let p = r.from; p <= r.to; p++) if (!known.has(p)) out.push(String(p));
    }
    if (out.length >= limit) break;
  }
  return out.slice(0, limit);
}

function normaliseCidr(cidr: string): string {
  return cidr.trim().toLowerCase();
}

/**
 * Whether an NSG source prefix means "anyone on the internet": `*` (any), the `Internet` service tag, or any
 * `/0` range (`0.0.0.0/0`, `::/0`, and `x.y.z.w/0`, which ARM accepts and which also covers everything). A
 * source listed in trustedCidrs is never world-open. Service tags other than Internet (`VirtualNetwork`,
 * `AzureLoadBalancer`...) and ordinary CIDRs, private or public, are not "the internet" for these rules.
 */
export function isWorldSource(prefix: string, allowLists: AllowLists): boolean {
  const text = normaliseCidr(prefix);
  if (allowLists.trustedCidrs.some((c) => normaliseCidr(c) === text)) return false;
  if (text === '*' || text === 'internet' || text === 'any') return true;
  return /^[0-9a-f:.]+\/0$/.test(text);
}
