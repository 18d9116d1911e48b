// The local sandbox has no network of its own. Its setup commands (`npm ci`, `pip install`) reach
// package registries through this HTTP proxy, which the control plane runs on a Unix socket that is
// bridged into the sandbox as HTTP_PROXY/HTTPS_PROXY. It opens only what TASKS_EGRESS_ALLOW lists
// (the rules are in egress-policy.ts): HTTPS by CONNECT tunnels, plain HTTP by forwarding requests.
import { lookup } from "node:dns/promises";
import { createServer, request as httpRequest, STATUS_CODES, type IncomingMessage, type ServerResponse } from "node:http";
import { connect as netConnect, type Socket } from "node:net";
import { pipeline } from "node:stream";
import type { Logger } from "../lib/logger.ts";
import { connectionNamed, hopByHopHeaders } from "../lib/hop-by-hop.ts";
import { listenOnSocket } from "./unix-socket-server.ts";
import { createEgressPolicy, type EgressPolicy, type ResolveHost } from "./egress-policy.ts";

export interface EgressProxyOptions {
  readonly socketPath: string;
  /** TASKS_EGRESS_ALLOW as config.ts parsed it. */
  readonly allow: readonly string[];
  readonly log?: Logger;
  /** Host name to addresses; the system resolver (getaddrinfo, so /etc/hosts too) by default. */
  readonly resolve?: ResolveHost;
  /** Opens a TCP connection to an address the policy checked. */
  readonly connect?: (target: { readonly address: string; readonly port: number }) => Socket;
  /** A tunnel or request with no traffic either way for this long is cut. */
  readonly idleTimeoutMs?: number;
  /** Client connections at once (more are dropped), and upstream connections at once (more get 503). */
  readonly maxConnections?: number;
}

export interface EgressProxy {
  close(): Promise<void>;
}

interface Target {
  readonly host: string;
  readonly port: number;
  /** The Host header a forwarded request carries. */
  readonly authority: string;
}

const CONNECT_TIMEOUT_MS = 15_000;

export async function startEgressProxy(options: EgressProxyOptions): Promise<EgressProxy> {
  const policy = createEgressPolicy(options.allow, options.resolve ?? resolveWithSystem);
  const connect = options.connect ?? (({ address, port }) => netConnect({ host: address, port }));
  const idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;
  const maxConnections = options.maxConnections ?? 64;
  const log = options.log;
  const sockets = new Set<Socket>();
  const upstreams = new Set<Socket>();
  const track = (set: Set<Socket>, socket: Socket): void => {
    set.add(socket);
    socket.once("close", () => set.delete(socket));
  };

  /** The checked addresses in turn until one accepts; an error names the last failure. */
  async function openUpstream(target: Target, addresses: readonly string[]): Promise<Socket> {
    if (upstreams.size >= maxConnections) throw new ProxyRefusal(503, `the egress proxy already holds ${maxConnections} connections`);
    let lastError: unknown;
    for (const address of addresses) {
      const socket = connect({ address, port: target.port });
      track(upstreams, socket);
      track(sockets, socket);
      // Errors after connecting end the socket, and its close ends the other side; nothing to answer.
      socket.on("error", () => undefined);
      try {
        await connected(socket);
        return socket;
      } catch (error) {
        socket.destroy();
        lastError = error;
      }
    }
    log?.warn({ host: target.host, port: target.port, reason: describe(lastError) }, "egress proxy cannot reach an allowed host");
    throw new ProxyRefusal(502, `cannot connect to ${target.host}:${target.port}: ${describe(lastError)}`);
  }

  async function admit(target: Target): Promise<readonly string[]> {
    let decision: Awaited<ReturnType<EgressPolicy["decide"]>>;
    try {
      decision = await policy.decide(target.host, target.port);
    } catch (error) {
      log?.warn({ host: target.host, reason: describe(error) }, "egress proxy cannot resolve an allowed host");
      throw new ProxyRefusal(502, `cannot resolve ${target.host}: ${describe(error)}`);
    }
    if (!decision.allowed) {
      log?.info({ host: target.host, port: target.port }, `egress refused: ${decision.reason}`);
      throw new ProxyRefusal(403, `egress refused: ${decision.reason}`);
    }
    return decision.addresses;
  }

  async function tunnel(req: IncomingMessage, client: Socket, head: Buffer): Promise<void> {
    const target = parseAuthority(req.url ?? "");
    if (!target) throw new ProxyRefusal(400, "CONNECT needs a host:port target");
    const upstream = await openUpstream(target, await admit(target));
    if (client.destroyed) return void upstream.destroy();
    client.write("HTTP/1.1 200 Connection Established\r\n\r\n");
    if (head.length > 0) upstream.write(head);
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      from.pipe(to);
      from.setTimeout(idleTimeoutMs, () => from.destroy());
      from.once("close", () => to.destroy());
    }
  }

  async function forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = parseAbsoluteForm(req.url ?? "");
    if (!parsed) throw new ProxyRefusal(400, "send absolute-form http:// requests, or CONNECT for https");
    const upstream = await openUpstream(parsed.target, await admit(parsed.target));
    if (res.destroyed) return void upstream.destroy();
    const headers = forwardedHeaders(req.rawHeaders, parsed.target.authority, req.headers["content-length"] === undefined && req.headers["transfer-encoding"] !== undefined);
    const upstreamReq = httpRequest({ method: req.method, path: parsed.path, headers, createConnection: () => upstream });
    upstreamReq.setTimeout(idleTimeoutMs, () => upstreamReq.destroy(new Error("idle timeout")));
    res.once("close", () => upstreamReq.destroy());
    upstreamReq.on("error", (error) => {
      if (res.headersSent) res.destroy();
      else answer(res, 502, `upstream ${parsed.target.host} failed: ${describe(error)}`);
    });
    upstreamReq.once("response", (upstreamRes) => {
      res.writeHead(upstreamRes.statusCode ?? 502, upstreamRes.statusMessage, withoutHopByHop(upstreamRes.rawHeaders));
      pipeline(upstreamRes, res, () => undefined);
    });
    req.pipe(upstreamReq);
  }

  const fail = (socket: Socket | null, error: unknown): void => {
    log?.error({ err: error }, "egress proxy failed a request");
    socket?.destroy();
  };

  const server = createServer();
  server.maxConnections = maxConnections;
  server.setTimeout(idleTimeoutMs);
  server.on("connection", (socket: Socket) => track(sockets, socket));
  server.on("drop", () => log?.warn({ maxConnections }, "egress proxy is full: dropped a connection"));
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    forward(req, res).catch((error: unknown) => (error instanceof ProxyRefusal ? answer(res, error.status, error.message) : fail(res.socket, error)));
  });
  server.on("connect", (req: IncomingMessage, client: Socket, head: Buffer) => {
    client.on("error", () => client.destroy());
    tunnel(req, client, head).catch((error: unknown) => (error instanceof ProxyRefusal ? answerRaw(client, error.status, error.message) : fail(client, error)));
  });
  server.on("upgrade", (_req: IncomingMessage, client: Socket) => answerRaw(client, 400, "the egress proxy does not forward protocol upgrades"));

  const listening = await listenOnSocket(server, options.socketPath);

  return {
    async close() {
      for (const socket of [...sockets, ...upstreams]) socket.destroy();
      await listening.close();
    },
  };
}

class ProxyRefusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function resolveWithSystem(host: string): Promise<string[]> {
  return (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);
}

function connected(socket: Socket): Promise<void> {
  return new Promise((resolve, reject) => {
    const onTimeout = (): void => void socket.destroy(new Error("connect timed out"));
    socket.setTimeout(CONNECT_TIMEOUT_MS, onTimeout);
    socket.once("error", reject);
    socket.once("connect", () => {
      socket.setTimeout(0);
      socket.off("timeout", onTimeout);
      socket.off("error", reject);
      resolve();
    });
  });
}

/** `host:port` as CONNECT gives it; the WHATWG URL parser canonicalises the host (`0x7f.1` is 127.0.0.1). */
function parseAuthority(authority: string): Target | undefined {
  if (!/^(?:\[[0-9a-f:.]+\]|[^\s:/?#@[\]\\]+):\d{1,5}$/i.test(authority)) return undefined;
  return targetOf(authority);
}

function parseAbsoluteForm(requestTarget: string): { target: Target; path: string } | undefined {
  const match = /^http:\/\/([^/?#@\s]+)([/?][^#\s]*)?$/i.exec(requestTarget);
  const target = match ? targetOf(match[1]!) : undefined;
  if (!match || !target) return undefined;
  const path = match[2] ?? "/";
  return { target, path: path.startsWith("?") ? `/${path}` : path };
}

function targetOf(authority: string): Target | undefined {
  let url: URL;
  try {
    url = new URL(`http://${authority}`);
  } catch {
    return undefined;
  }
  if (url.hostname === "") return undefined;
  return { host: url.hostname.replace(/^\[(.*)\]$/, "$1"), port: url.port === "" ? 80 : Number(url.port), authority: url.host };
}

/** Raw headers (case and repeats kept) without the hop-by-hop ones; the proxy's credentials are not the upstream's. */
function withoutHopByHop(rawHeaders: readonly string[]): string[] {
  const connection: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) if (rawHeaders[i]!.toLowerCase() === "connection") connection.push(rawHeaders[i + 1]!);
  const named = connectionNamed(connection);
  const kept: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    if (!hopByHopHeaders.has(name) && !named.has(name)) kept.push(rawHeaders[i]!, rawHeaders[i + 1]!);
  }
  return kept;
}

function forwardedHeaders(rawHeaders: readonly string[], authority: string, chunked: boolean): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = { host: authority };
  const kept = withoutHopByHop(rawHeaders);
  for (let i = 0; i < kept.length; i += 2) {
    const name = kept[i]!.toLowerCase();
    const existing = headers[name];
    headers[name] = existing === undefined ? kept[i + 1]! : [...[existing].flat(), kept[i + 1]!];
  }
  // The body arrives de-chunked; without a length it has to be chunked again on the way out.
  if (chunked) headers["transfer-encoding"] = "chunked";
  return headers;
}

function answer(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "text/plain; charset=utf-8", connection: "close" }).end(`${message}\n`);
}

function answerRaw(socket: Socket, status: number, message: string): void {
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

function describe(error: unknown): string {
  return error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error);
}

