// Which addresses fetch tools may connect to. Pure decisions on strings, so a corpus of tricky
// inputs can be tested without sending a packet. Refused: anything that is not plain public
// unicast — loopback, private, carrier-grade NAT, link-local (cloud metadata lives at
// 169.254.169.254 and fd00:ec2::254), multicast, reserved and documentation ranges, 0.0.0.0,
// and every IPv6 form that embeds an IPv4 address (mapped, compatible, NAT64, 6to4, Teredo).
// Operators can exempt hosts or ranges (an internal mirror) with an allowlist.

export type IpFamily = 4 | 6;

export interface ParsedIp {
  family: IpFamily;
  // Canonical text: dotted quad, or RFC 5952-ish lowercase IPv6.
  address: string;
  // Big-endian value: 32 bits for IPv4, 128 for IPv6.
  value: bigint;
}

interface Range {
  family: IpFamily;
  base: bigint;
  bits: number;
  reason: string;
}

function range(cidr: string, reason: string): Range {
  const parsed = parseCidr(cidr);
  if (!parsed) throw new Error(`bad built-in range ${cidr}`);
  return { ...parsed, reason };
}

const DENIED: Range[] = [
  range('0.0.0.0/8', '"this network" (0.0.0.0/8)'),
  range('10.0.0.0/8', 'a private address (10.0.0.0/8)'),
  range('100.64.0.0/10', 'a carrier-grade NAT address (100.64.0.0/10)'),
  range('127.0.0.0/8', 'a loopback address'),
  range('169.254.0.0/16', 'a link-local address (cloud metadata lives here)'),
  range('172.16.0.0/12', 'a private address (172.16.0.0/12)'),
  range('192.0.0.0/24', 'an IETF protocol address (192.0.0.0/24)'),
  range('192.0.2.0/24', 'a documentation address'),
  range('192.88.99.0/24', 'a 6to4 relay address'),
  range('192.168.0.0/16', 'a private address (192.168.0.0/16)'),
  range('198.18.0.0/15', 'a benchmarking address'),
  range('198.51.100.0/24', 'a documentation address'),
  range('203.0.113.0/24', 'a documentation address'),
  range('224.0.0.0/4', 'a multicast address'),
  range('240.0.0.0/4', 'a reserved or broadcast address'),
  range('::/128', 'the unspecified IPv6 address'),
  range('::1/128', 'the IPv6 loopback address'),
  range('::ffff:0:0/96', 'an IPv4-mapped IPv6 address'),
  range('::/96', 'an IPv4-compatible IPv6 address'),
  range('64:ff9b::/96', 'a NAT64 address (embeds IPv4)'),
  range('64:ff9b:1::/48', 'a NAT64 address (embeds IPv4)'),
  range('100::/64', 'an IPv6 discard address'),
  range('2001::/32', 'a Teredo address (embeds IPv4)'),
  range('2001::/23', 'an IETF special-purpose IPv6 address'),
  range('2001:db8::/32', 'an IPv6 documentation address'),
  range('2002::/16', 'a 6to4 address (embeds IPv4)'),
  range('3fff::/20', 'an IPv6 documentation address'),
  range('fc00::/7', 'an IPv6 unique-local (private) address'),
  range('fe80::/10', 'an IPv6 link-local address'),
  range('fec0::/10', 'an IPv6 site-local address'),
  range('ff00::/8', 'an IPv6 multicast address'),
];
// Outside global unicast (2000::/3) nothing in IPv6 is assigned for public use.
const GLOBAL_UNICAST_V6 = range('2000::/3', '');

// inet_aton's forms, which URL parsers and resolvers accept: 1–4 parts, each decimal, 0x-hex or
// 0-octal, the last one filling the remaining bytes (127.1, 2130706433, 0x7f.0.0.1, 0177.0.0.1).
export function parseIpv4(text: string): ParsedIp | undefined {
  if (!/^[0-9a-fA-FxX.]+$/.test(text) || text.endsWith('.') || text.startsWith('.')) return undefined;
  const parts = text.split('.');
  if (parts.length > 4) return undefined;
  const numbers: bigint[] = [];
  for (const part of parts) {
    let n: bigint;
    if (/^0[xX][0-9a-fA-F]*$/.test(part)) n = part.length === 2 ? 0n : BigInt(part);
    else if (/^0[0-7]+$/.test(part)) n = BigInt(`0o${part.slice(1)}`);
    else if (/^(0|[1-9][0-9]*)$/.test(part)) n = BigInt(part);
    else return undefined;
    numbers.push(n);
  }
  const last = numbers.pop() ?? 0n;
  if (numbers.some((n) => n > 255n)) return undefined;
  const lastBits = BigInt(8 * (4 - numbers.length));
  if (last >= 1n << lastBits) return undefined;
  let value = 0n;
  for (const n of numbers) value = (value << 8n) | n;
  value = (value << lastBits) | last;
  return { family: 4, value, address: v4Text(value) };
}

function v4Text(value: bigint): string {
  return [24n, 16n, 8n, 0n].map((shift) => String((value >> shift) & 255n)).join('.');
}

export function parseIpv6(input: string): ParsedIp | undefined {
  let text = input.startsWith('[') && input.endsWith(']') ? input.slice(1, -1) : input;
  // A zone (fe80::1%eth0) names an interface: link-local anyway; parse the address part.
  const zone = text.indexOf('%');
  if (zone !== -1) text = text.slice(0, zone);
  if (!/^[0-9a-fA-F:.]+$/.test(text) || !text.includes(':')) return undefined;
  let tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  const lastPart = text.slice(lastColon + 1);
  if (lastPart.includes('.')) {
    if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(lastPart)) return undefined;
    const [a = 0, b = 0, c = 0, d = 0] = lastPart.split('.').map(Number);
    if ([a, b, c, d].some((o) => o > 255)) return undefined;
    tail = [(a << 8) | b, (c << 8) | d];
    // Keep what precedes the dotted quad; a lone trailing colon goes, `::` stays.
    text = text.slice(0, lastColon + 1);
    if (!text.endsWith('::')) text = text.slice(0, -1);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string) => (s === '' ? [] : s.split(':'));
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if ([...head, ...rest].some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  const explicit = head.length + rest.length + tail.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head.map(hex), ...new Array<number>(8 - explicit).fill(0), ...rest.map(hex), ...tail];
  } else {
    if (explicit !== 8) return undefined;
    groups = [...head.map(hex), ...tail];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  return { family: 6, value, address: v6Text(groups) };
}

function hex(group: string): number {
  return parseInt(group, 16);
}

function v6Text(groups: number[]): string {
  // Compress the longest run of zero groups (two or more).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const text = groups.map((g) => g.toString(16));
  if (bestStart === -1) return text.join(':');
  return `${text.slice(0, bestStart).join(':')}::${text.slice(bestStart + bestLen).join(':')}`;
}

export function parseIp(text: string): ParsedIp | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

function parseCidr(text: string): { family: IpFamily; base: bigint; bits: number } | undefined {
  const [addr, bitsText] = text.split('/');
  const ip = parseIp(addr ?? '');
  if (!ip) return undefined;
  const width = ip.family === 4 ? 32 : 128;
  const bits = bitsText === undefined ? width : Number(bitsText);
  if (!Number.isInteger(bits) || bits < 0 || bits > width) return undefined;
  return { family: ip.family, base: mask(ip.value, bits, width), bits };
}

function mask(value: bigint, bits: number, width: number): bigint {
  if (bits === 0) return 0n;
  const hostBits = BigInt(width - bits);
  return (value >> hostBits) << hostBits;
}

function inRange(ip: ParsedIp, r: { family: IpFamily; base: bigint; bits: number }): boolean {
  return ip.family === r.family && mask(ip.value, r.bits, ip.family === 4 ? 32 : 128) === r.base;
}

export interface AddressDecision {
  allowed: boolean;
  reason: string;
}

export interface UrlDecision {
  allowed: boolean;
  reason: string;
  // Set when the host is an IP literal: no DNS lookup happens.
  literal?: ParsedIp;
  // The host name matched the operator allowlist: its addresses are accepted as they resolve.
  hostAllowlisted?: boolean;
}

export class AddressPolicy {
  private readonly hosts = new Set<string>();
  private readonly hostSuffixes: string[] = [];
  private readonly ranges: Array<{ family: IpFamily; base: bigint; bits: number }> = [];

  // Entries: `example.internal`, `*.mirror.internal`, `10.1.2.3`, `10.0.0.0/8`, `fd00::/8`.
  constructor(allowlist: readonly string[] = []) {
    for (const raw of allowlist) {
      const entry = raw.trim().toLowerCase();
      if (!entry) continue;
      const cidr = parseCidr(entry);
      if (cidr) this.ranges.push(cidr);
      else if (entry.startsWith('*.')) this.hostSuffixes.push(entry.slice(1));
      else if (/^[a-z0-9.-]+$/.test(entry)) this.hosts.add(entry.replace(/\.$/, ''));
      else throw new Error(`TOOL_FETCH_ALLOWLIST entry "${raw}" is neither a host name nor an IP address or CIDR range`);
    }
  }

  isHostAllowlisted(host: string): boolean {
    const name = host.toLowerCase().replace(/\.$/, '');
    return this.hosts.has(name) || this.hostSuffixes.some((suffix) => name.endsWith(suffix));
  }

  checkAddress(text: string): AddressDecision {
    const ip = parseIp(text);
    if (!ip) return { allowed: false, reason: `"${text}" is not an IP address` };
    if (this.ranges.some((r) => inRange(ip, r))) return { allowed: true, reason: `${ip.address} is on the operator allowlist` };
    const denied = DENIED.find((r) => inRange(ip, r));
    if (denied) return { allowed: false, reason: `${ip.address} is ${denied.reason}` };
    if (ip.family === 6 && !inRange(ip, GLOBAL_UNICAST_V6)) return { allowed: false, reason: `${ip.address} is a reserved IPv6 address` };
    return { allowed: true, reason: `${ip.address} is a public address` };
  }

  // The URL itself, before any lookup: scheme, credentials, and a host that is an address.
  checkUrl(url: URL): UrlDecision {
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      return { allowed: false, reason: `only http and https URLs can be fetched, not ${url.protocol}` };
    if (url.username || url.password) return { allowed: false, reason: 'URLs with credentials are refused' };
    const host = url.hostname.replace(/^\[|\]$/g, '');
    if (!host) return { allowed: false, reason: 'the URL has no host' };
    const literal = parseIp(host);
    if (literal) {
      const decision = this.checkAddress(literal.address);
      return { ...decision, literal };
    }
    const name = host.toLowerCase().replace(/\.$/, '');
    if (this.isHostAllowlisted(name)) return { allowed: true, reason: `${name} is on the operator allowlist`, hostAllowlisted: true };
    // RFC 6761: these never leave the machine, whatever a resolver says.
    if (name === 'localhost' || name.endsWith('.localhost') || name === 'localhost.localdomain')
      return { allowed: false, reason: `${name} is the local machine` };
    return { allowed: true, reason: `${name} will be checked after it resolves` };
  }

  // Every address a name resolved to must be allowed: one private answer among public ones
  // (DNS rebinding) refuses the whole host.
  checkResolved(host: string, addresses: readonly string[], hostAllowlisted: boolean): AddressDecision {
    if (addresses.length === 0) return { allowed: false, reason: `${host} did not resolve to any address` };
    if (hostAllowlisted) return { allowed: true, reason: `${host} is on the operator allowlist` };
    for (const address of addresses) {
      const decision = this.checkAddress(address);
      if (!decision.allowed) return { allowed: false, reason: `${host} resolves to ${decision.reason.replace(/^\S+ is /, `${address}, `)}` };
    }
    return { allowed: true, reason: `${host} resolves to public addresses` };
  }
}
