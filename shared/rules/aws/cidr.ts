/**
 * CIDR arithmetic for the network rules: is a source range "the internet", is it inside a trusted range.
 * Addresses are BigInts so IPv4 and IPv6 share one code path; only security-group and policy events get
 * here, so the cost does not matter for throughput.
 */

export interface Cidr {
  version: 4 | 6;
  /** The network address (host bits cleared). */
  network: bigint;
  prefix: number;
}

const V4_BITS = 32;
const V6_BITS = 128;

const V4_ADDRESS = /^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$/;

function parseV4(text: string): bigint | undefined {
  const match = V4_ADDRESS.exec(text);
  if (!match) return undefined;
  let value = 0;
  for (let i = 1; i <= 4; i++) {
    const octet = Number(match[i]);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return BigInt(value);
}

function parseV6(text: string): bigint | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (half: string): number[] | undefined => {
    if (half === '') return [];
    const out: number[] = [];
    const parts = half.split(':');
    for (let i = 0; i < parts.length; i++) {
      const part = parts[i]!;
      // An embedded IPv4 address (::ffff:192.0.2.1) fills the last two groups.
      if (i === parts.length - 1 && part.includes('.')) {
        const v4 = parseV4(part);
        if (v4 === undefined) return undefined;
        out.push(Number(v4 >> 16n), Number(v4 & 0xffffn));
        continue;
      }
      if (!/^[0-9a-fA-F]{1,4}$/.test(part)) return undefined;
      out.push(parseInt(part, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  let value = 0n;
  for (const group of all) value = (value << 16n) | BigInt(group);
  return value;
}

/** Network masks by prefix length, computed once per family. */
const MASKS: Record<number, bigint[]> = {
  [V4_BITS]: Array.from({ length: V4_BITS + 1 }, (_, prefix) => ((1n << BigInt(V4_BITS)) - 1n) ^ ((1n << BigInt(V4_BITS - prefix)) - 1n)),
  [V6_BITS]: Array.from({ length: V6_BITS + 1 }, (_, prefix) => ((1n << BigInt(V6_BITS)) - 1n) ^ ((1n << BigInt(V6_BITS - prefix)) - 1n)),
};

function mask(bits: number, prefix: number): bigint {
  return MASKS[bits]![prefix]!;
}

/** Parses `a.b.c.d/n` or an IPv6 CIDR; a bare address is a single host. Host bits are cleared. */
export function parseCidr(text: string): Cidr | undefined {
  const trimmed = text.trim();
  const slash = trimmed.indexOf('/');
  const address = slash < 0 ? trimmed : trimmed.slice(0, slash);
  const prefixText = slash < 0 ? undefined : trimmed.slice(slash + 1);
  if (prefixText !== undefined && !/^[0-9]{1,3}$/.test(prefixText)) return undefined;
  const v4 = address.includes(':') ? undefined : parseV4(address);
  if (v4 !== undefined) {
    const prefix = prefixText === undefined ? V4_BITS : Number(prefixText);
    if (prefix > V4_BITS) return undefined;
    return { version: 4, network: v4 & mask(V4_BITS, prefix), prefix };
  }
  const v6 = address.includes(':') ? parseV6(address) : undefined;
  if (v6 === undefined) return undefined;
  const prefix = prefixText === undefined ? V6_BITS : Number(prefixText);
  if (prefix > V6_BITS) return undefined;
  return { version: 6, network: v6 & mask(V6_BITS, prefix), prefix };
}

/** Whether `outer` covers every address of `inner`. */
export function contains(outer: Cidr, inner: Cidr): boolean {
  if (outer.version !== inner.version || outer.prefix > inner.prefix) return false;
  const bits = outer.version === 4 ? V4_BITS : V6_BITS;
  return (inner.network & mask(bits, outer.prefix)) === outer.network;
}

/** The canonical text: dotted IPv4, RFC 5952 IPv6 (lower case, longest zero run compressed). */
export function formatCidr(cidr: Cidr): string {
  if (cidr.version === 4) {
    const n = cidr.network;
    return `${[24n, 16n, 8n, 0n].map((shift) => String((n >> shift) & 0xffn)).join('.')}/${cidr.prefix}`;
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((cidr.network >> BigInt(112 - 16 * i)) & 0xffffn));
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength && j - i >= 2) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  const text =
    bestStart < 0 ? hex.join(':') : `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
  return `${text}/${cidr.prefix}`;
}

/**
 * Address space that is not the internet: RFC 1918 private ranges, loopback, link-local, carrier-grade NAT
 * (RFC 6598), IPv6 unique-local (fc00::/7), link-local and loopback. A rule open to these is not exposed.
 */
const NOT_INTERNET: readonly Cidr[] = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', 'fc00::/7', 'fe80::/10', '::1/128'].map(
  (text) => parseCidr(text)!,
);

/**
 * How wide a public range must be to count as "open to the internet". /0 is the whole internet; the split
 * halves (0.0.0.0/1 + 128.0.0.0/1) and other huge public blocks are the usual ways around a check that
 * only looks for /0, so anything at least as wide as a /8 (IPv4) or a /16 (IPv6) counts too. Narrower public
 * ranges are someone's deliberate choice of addresses, not the internet.
 */
export const BROAD_PREFIX = { 4: 8, 6: 16 } as const;

export type Exposure = 'world' | 'broad';

export function isPrivate(cidr: Cidr): boolean {
  return NOT_INTERNET.some((range) => contains(range, cidr));
}

/** `world` for /0, `broad` for a wide public range, undefined when the range is narrow or not the internet. */
export function exposureOf(cidr: Cidr): Exposure | undefined {
  if (cidr.prefix === 0) return 'world';
  if (cidr.prefix > BROAD_PREFIX[cidr.version]) return undefined;
  return isPrivate(cidr) ? undefined : 'broad';
}

/** Parsed allow-list ranges, per allow-list array (config is parsed once; events are many). */
const trustedRanges = new WeakMap<readonly string[], Cidr[]>();

/** Whether one of the trusted ranges covers the whole of `cidr`. */
export function isTrusted(cidr: Cidr, trusted: readonly string[]): boolean {
  if (trusted.length === 0) return false;
  let ranges = trustedRanges.get(trusted);
  if (!ranges) {
    ranges = trusted.map((text) => parseCidr(text)).filter((range): range is Cidr => range !== undefined);
    trustedRanges.set(trusted, ranges);
  }
  return ranges.some((range) => contains(range, cidr));
}
