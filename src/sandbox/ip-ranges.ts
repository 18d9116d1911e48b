// Address arithmetic for the egress proxy. Internal addresses are refused unless the operator
// listed them: through the proxy, a sandbox could otherwise reach the cloud's metadata service
// (169.254.169.254, 100.100.100.200) for credentials, or services that trust the control plane's
// own network (PostgreSQL on 127.0.0.1, a VPC's 10.x hosts).
import { isIPv4, isIPv6 } from "node:net";

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface IpRange extends IpAddress {
  readonly prefix: number;
}

export interface InternalRange extends IpRange {
  readonly kind: string;
}

const bits = (family: 4 | 6): number => (family === 4 ? 32 : 128);

function parseIPv4(text: string): bigint {
  return text.split(".").reduce((value, octet) => (value << 8n) | BigInt(Number(octet)), 0n);
}

function parseIPv6(text: string): bigint {
  let address = text.split("%")[0]!; // a zone (fe80::1%eth0) names an interface, not part of the address
  const lastColon = address.lastIndexOf(":");
  const tail = address.slice(lastColon + 1);
  if (tail.includes(".")) {
    const v4 = parseIPv4(tail);
    address = `${address.slice(0, lastColon + 1)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head = "", rest] = address.split("::");
  const before = head === "" ? [] : head.split(":");
  const after = rest === undefined || rest === "" ? [] : rest.split(":");
  const groups = rest === undefined ? before : [...before, ...Array<string>(8 - before.length - after.length).fill("0"), ...after];
  return groups.reduce((value, group) => (value << 16n) | BigInt(parseInt(group, 16)), 0n);
}

/** An IP literal as a number, or undefined when the text is not one (a host name). */
export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: parseIPv4(text) };
  if (isIPv6(text)) return { family: 6, value: parseIPv6(text) };
  return undefined;
}

/** `a.b.c.d` or `a.b.c.d/n` (TASKS_EGRESS_ALLOW's IP entries) as a range, its host bits cleared. */
export function parseRange(text: string): IpRange | undefined {
  const [address = "", prefixText] = text.split("/");
  const parsed = parseIp(address);
  if (!parsed) return undefined;
  const prefix = prefixText === undefined ? bits(parsed.family) : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits(parsed.family)) return undefined;
  const shift = BigInt(bits(parsed.family) - prefix);
  return { family: parsed.family, value: (parsed.value >> shift) << shift, prefix };
}

export function rangeContains(range: IpRange, address: IpAddress): boolean {
  if (range.family !== address.family) return false;
  const shift = BigInt(bits(range.family) - range.prefix);
  return address.value >> shift === range.value >> shift;
}

/** Whether every address of `inner` lies in `outer`. */
export function rangeWithin(inner: IpRange, outer: IpRange): boolean {
  return inner.prefix >= outer.prefix && rangeContains(outer, inner);
}

const ipv4Mapped = parseRange("::ffff:0.0.0.0/96")!;
const nat64 = parseRange("64:ff9b::/96")!;

/**
 * An IPv6 address that carries an IPv4 one (`::ffff:127.0.0.1`, NAT64's `64:ff9b::7f00:1`) as
 * that IPv4 address: the connection ends up there, so it is judged (and listed) as IPv4.
 */
export function unwrapIPv4(address: IpAddress): IpAddress {
  if (address.family === 6 && (rangeContains(ipv4Mapped, address) || rangeContains(nat64, address))) {
    return { family: 4, value: address.value & 0xffffffffn };
  }
  return address;
}

const internal: InternalRange[] = (
  [
    ["0.0.0.0/8", "unspecified"],
    ["10.0.0.0/8", "private"],
    ["100.64.0.0/10", "shared (carrier-grade NAT)"], // also Alibaba Cloud's metadata service
    ["127.0.0.0/8", "loopback"],
    ["169.254.0.0/16", "link-local"], // cloud metadata services: 169.254.169.254
    ["172.16.0.0/12", "private"],
    ["192.0.0.0/24", "reserved"],
    // Not the documentation and benchmarking ranges (192.0.2/24, 198.51.100/24, 203.0.113/24,
    // 198.18/15): nothing internal lives there, and some networks resolve public registries into
    // them through an intercepting proxy (this project's CI machines do: registry.npmjs.org).
    ["192.168.0.0/16", "private"],
    ["224.0.0.0/4", "multicast"],
    ["240.0.0.0/4", "reserved"], // includes the broadcast address
    ["::/128", "unspecified"],
    ["::1/128", "loopback"],
    ["::/96", "reserved"], // deprecated IPv4-compatible addresses
    ["100::/64", "reserved"],
    ["2001:db8::/32", "reserved"],
    ["fc00::/7", "private"],
    ["fe80::/10", "link-local"],
    ["fec0::/10", "private"], // deprecated site-local
    ["ff00::/8", "multicast"],
  ] as const
).map(([range, kind]) => ({ ...parseRange(range)!, kind }));

/** The internal range an address falls in (the first, most specific listed), or undefined for a public address. */
export function internalRangeOf(address: IpAddress): InternalRange | undefined {
  const judged = unwrapIPv4(address);
  return internal.find((range) => rangeContains(range, judged));
}
