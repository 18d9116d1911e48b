// Which destinations the egress proxy opens, from the operator's TASKS_EGRESS_ALLOW.
//
// - A host-name entry allows that host and every subdomain of it: `npmjs.org` allows
//   `registry.npmjs.org`; `registry.npmjs.org` allows only itself (and its subdomains).
// - An IPv4 address or CIDR entry allows a request whose host is a literal IP inside it.
// - Whatever the entry, every address a destination resolves to is checked: loopback, private,
//   link-local (cloud metadata), unspecified, multicast and reserved addresses, IPv4 or IPv6,
//   are refused unless an IP entry lying inside that internal range names them. Listing
//   `10.0.0.0/8` or `127.0.0.1` opts in to those; `0.0.0.0/0` does not open the metadata service.
// - Any port of an allowed host, as E2B's allow-list does: the operator names hosts they trust
//   (an internal registry may serve on 8081), and internal addresses still need an IP entry.
// The proxy connects to the addresses returned here, never resolving the name a second time, so a
// DNS answer that changes between the check and the connection (rebinding) cannot slip past.
import { internalRangeOf, parseIp, parseRange, rangeContains, rangeWithin, unwrapIPv4, type IpRange } from "./ip-ranges.ts";

export type EgressDecision = { readonly allowed: true; readonly addresses: readonly string[] } | { readonly allowed: false; readonly reason: string };

export type ResolveHost = (host: string) => Promise<string[]>;

export interface EgressPolicy {
  /** `host` as a URL's hostname gives it: lowercase, IPv6 without brackets. Rejects when resolving fails. */
  decide(host: string, port: number): Promise<EgressDecision>;
}

export function createEgressPolicy(allow: readonly string[], resolve: ResolveHost): EgressPolicy {
  const ranges: IpRange[] = [];
  const names: string[] = [];
  for (const entry of allow) {
    const range = parseRange(entry);
    if (range) ranges.push(range);
    else names.push(entry.toLowerCase().replace(/\.$/, ""));
  }
  const notListed = (what: string): EgressDecision => ({ allowed: false, reason: `${what} is not in TASKS_EGRESS_ALLOW` });

  /** An internal address passes only when an entry inside its internal range covers it. */
  function refusesAddress(host: string, address: string): EgressDecision | undefined {
    const parsed = parseIp(address);
    if (!parsed) throw new Error(`resolving ${host} gave ${JSON.stringify(address)}, which is not an IP address`);
    const internal = internalRangeOf(parsed);
    if (!internal) return undefined;
    const judged = unwrapIPv4(parsed);
    if (ranges.some((range) => rangeWithin(range, internal) && rangeContains(range, judged))) return undefined;
    const subject = address === host ? `${host} is` : `${host} resolves to ${address},`;
    return { allowed: false, reason: `${subject} a ${internal.kind} address not listed in TASKS_EGRESS_ALLOW` };
  }

  return {
    async decide(host, port) {
      if (!Number.isInteger(port) || port < 1 || port > 65_535) return { allowed: false, reason: `port ${port} of ${host} is not a port` };
      const literal = parseIp(host);
      let addresses: string[];
      if (literal) {
        const judged = unwrapIPv4(literal);
        if (!ranges.some((range) => rangeContains(range, judged))) return notListed(host);
        addresses = [host];
      } else {
        const name = host.replace(/\.$/, "");
        if (!names.some((entry) => name === entry || name.endsWith(`.${entry}`))) return notListed(host);
        addresses = [...new Set(await resolve(name))];
        if (addresses.length === 0) throw new Error(`${name} resolves to no address`);
      }
      for (const address of addresses) {
        const refusal = refusesAddress(host, address);
        if (refusal) return refusal;
      }
      return { allowed: true, addresses };
    },
  };
}
