// Headers that describe one connection, not the message (RFC 9110 §7.6.1): every proxy of the
// app (the model gateway, the sandbox's socket to it, the egress proxy) drops them, and the ones
// the Connection header names, before passing a message on.
import type { IncomingHttpHeaders } from "node:http";

export const hopByHopHeaders: ReadonlySet<string> = new Set([
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
  "expect",
  "host",
]);

/** The lowercase names `Connection: a, b` marks as hop-by-hop. */
export function connectionNamed(value: string | string[] | undefined): Set<string> {
  const values = Array.isArray(value) ? value : [value ?? ""];
  return new Set(values.flatMap((v) => v.split(",")).map((name) => name.trim().toLowerCase()).filter(Boolean));
}

/** The headers a proxy passes on: no hop-by-hop header, none the Connection header names, none of `also`. */
export function endToEndHeaders(headers: IncomingHttpHeaders, also: ReadonlySet<string> = new Set()): Record<string, string | string[]> {
  const named = connectionNamed(headers["connection"]);
  const kept: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || hopByHopHeaders.has(name) || named.has(name) || also.has(name)) continue;
    kept[name] = value;
  }
  return kept;
}
