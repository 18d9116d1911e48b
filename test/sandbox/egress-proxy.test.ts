// The egress proxy against real servers on 127.0.0.1: an HTTP "registry" and a TCP echo standing in
// for a TLS server behind CONNECT. Clients talk to the proxy over its Unix socket, as the sandbox's
// bridge will. Fake names (registry.test) resolve through the `resolve` option, and `connect` maps
// ports 443 and 80 to the test servers' ports, on the address it checked.
import { execFile } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type Server } from "node:http";
import { connect, createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEgressProxy, type EgressProxy, type EgressProxyOptions } from "../../src/sandbox/egress-proxy.ts";

const run = promisify(execFile);

const NAMES: Record<string, string[]> = {
  "registry.test": ["127.0.0.1"],
  "registry.npmjs.test": ["127.0.0.1"],
  "npmjs.test.evil": ["127.0.0.1"],
  "evilnpmjs.test": ["127.0.0.1"],
  "metadata.test": ["169.254.169.254"],
  "mixed.test": ["93.184.216.34", "127.0.0.1"],
  "down.test": ["127.0.0.3"],
};

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

let registry: Server;
let echo: TcpServer;
let ports: Record<number, number>;
let seen: Seen[];
let releaseStream: () => void;

beforeAll(async () => {
  registry = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url === "/stream") {
        // The second chunk waits until the client has the first: a proxy that buffered would hang here.
        res.writeHead(200, { "content-type": "text/plain", "x-registry": "yes" });
        res.write("first\n");
        new Promise<void>((resolve) => (releaseStream = resolve)).then(() => res.end("second\n"));
      } else {
        res.writeHead(201, { "content-type": "text/plain", connection: "keep-alive, x-secret-hop", "x-secret-hop": "1" });
        res.end(`got ${req.method} ${req.url} ${Buffer.concat(chunks).toString()}`);
      }
    });
  });
  echo = createTcpServer((socket) => socket.pipe(socket));
  await Promise.all([once(registry.listen(0, "127.0.0.1"), "listening"), once(echo.listen(0, "127.0.0.1"), "listening")]);
  ports = { 80: (registry.address() as AddressInfo).port, 443: (echo.address() as AddressInfo).port };
});

afterAll(async () => {
  registry.closeAllConnections();
  await Promise.all([new Promise((resolve) => registry.close(resolve)), new Promise((resolve) => echo.close(resolve))]);
});

let dir: string;
let socketPath: string;
let proxy: EgressProxy | undefined;
let resolved: string[];
let dialed: string[];
let logLines: string[];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "tasks-egress-"));
  socketPath = path.join(dir, "egress.sock");
  seen = [];
  resolved = [];
  dialed = [];
  logLines = [];
});

afterEach(async () => {
  await proxy?.close();
  proxy = undefined;
  await rm(dir, { recursive: true, force: true });
});

async function startProxy(allow: string[], options: Partial<EgressProxyOptions> = {}): Promise<void> {
  proxy = await startEgressProxy({
    socketPath,
    allow,
    log: pino({ level: "info" }, { write: (line: string) => void logLines.push(line) }),
    resolve: async (host) => {
      resolved.push(host);
      const addresses = NAMES[host];
      if (!addresses) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: "ENOTFOUND" });
      return addresses;
    },
    connect: ({ address, port }) => {
      dialed.push(`${address}:${port}`);
      return connect({ host: address, port: ports[port]! });
    },
    ...options,
  });
}

/** What the proxy sends back on one connection for `text`, until it closes (or, given `until`, until that arrives). */
async function exchange(text: string, until?: string): Promise<string> {
  const socket = connect({ path: socketPath });
  socket.on("error", () => undefined); // a dropped connection may fail the write; what was received is the answer
  socket.write(text);
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString();
    if (until !== undefined && received.endsWith(until)) socket.destroy();
  });
  await new Promise((resolve) => socket.once("close", resolve));
  return received;
}

const connectRequest = (authority: string): string => `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`;

/** A CONNECT that is answered 200: the socket is then the tunnel. */
async function openTunnel(authority: string): Promise<Socket> {
  const socket = connect({ path: socketPath });
  socket.write(connectRequest(authority));
  let received = "";
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (!received.includes("\r\n\r\n")) return;
      socket.off("data", onData);
      resolve();
    };
    socket.on("data", onData);
    socket.once("close", () => reject(new Error(`the proxy closed the connection: ${JSON.stringify(received)}`)));
  });
  expect(received).toBe("HTTP/1.1 200 Connection Established\r\n\r\n");
  return socket;
}

async function echoThrough(tunnel: Socket, text: string): Promise<string> {
  let received = "";
  const done = new Promise<void>((resolve) => {
    const onData = (chunk: Buffer): void => {
      received += chunk.toString();
      if (received.length < text.length) return;
      tunnel.off("data", onData);
      resolve();
    };
    tunnel.on("data", onData);
  });
  tunnel.write(text);
  await done;
  return received;
}

interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

async function httpThroughProxy(url: string, options: { method?: string; body?: string; headers?: Record<string, string>; onData?: (soFar: string) => void } = {}): Promise<Reply> {
  const req = request({ socketPath, agent: false, method: options.method ?? "GET", path: url, headers: { host: new URL(url).host, ...options.headers } });
  req.end(options.body);
  const [res] = (await once(req, "response")) as [IncomingMessage];
  let body = "";
  for await (const chunk of res) {
    body += (chunk as Buffer).toString();
    options.onData?.(body);
  }
  return { status: res.statusCode!, headers: res.headers, body };
}

const statusOf = (response: string): number => Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1]);

describe("an allowed host", () => {
  it("gets a CONNECT tunnel that carries bytes both ways, dialled on the address that was checked", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const tunnel = await openTunnel("registry.test:443");
    expect(await echoThrough(tunnel, "hello through the tunnel")).toBe("hello through the tunnel");
    expect(await echoThrough(tunnel, "and again")).toBe("and again");
    tunnel.destroy();
    expect(resolved).toEqual(["registry.test"]);
    expect(dialed).toEqual(["127.0.0.1:443"]);
  });

  it("keeps bytes a client sends right behind its CONNECT, before the answer", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const response = await exchange(`${connectRequest("registry.test:443")}early bytes`, "early bytes");
    expect(response).toBe("HTTP/1.1 200 Connection Established\r\n\r\nearly bytes");
  });

  it("gets plain HTTP requests forwarded, the response streamed as it comes", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const reply = await httpThroughProxy("http://registry.test/stream", { onData: (soFar) => soFar === "first\n" && releaseStream() });
    expect(reply).toMatchObject({ status: 200, body: "first\nsecond\n" });
    expect(reply.headers["x-registry"]).toBe("yes");
    expect(seen).toMatchObject([{ method: "GET", url: "/stream", headers: { host: "registry.test" } }]);
    expect(dialed).toEqual(["127.0.0.1:80"]);
  });

  it("forwards a request body and the query, but neither the proxy's credentials nor hop-by-hop headers", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const reply = await httpThroughProxy("http://registry.test/-/upload?tag=next", {
      method: "PUT",
      body: "tarball bytes",
      headers: { "proxy-authorization": "Basic c2VjcmV0", "x-keep": "kept", connection: "x-drop", "x-drop": "dropped" },
    });
    expect(reply).toMatchObject({ status: 201, body: "got PUT /-/upload?tag=next tarball bytes" });
    expect(reply.headers["x-secret-hop"]).toBeUndefined();
    expect(seen[0]!.headers).toMatchObject({ host: "registry.test", "x-keep": "kept" });
    expect(seen[0]!.headers["proxy-authorization"]).toBeUndefined();
    expect(seen[0]!.headers["x-drop"]).toBeUndefined();
  });

  it("includes its subdomains, and nothing that merely ends in the same letters", async () => {
    await startProxy(["npmjs.test", "127.0.0.1"]);
    const tunnel = await openTunnel("registry.npmjs.test:443");
    expect(await echoThrough(tunnel, "sub")).toBe("sub");
    tunnel.destroy();
    expect((await httpThroughProxy("http://registry.npmjs.test/pkg")).status).toBe(201);
    for (const host of ["npmjs.test.evil", "evilnpmjs.test"]) {
      expect(statusOf(await exchange(connectRequest(`${host}:443`)))).toBe(403);
    }
  });
});

describe("refusals", () => {
  it("answer 403 naming an unlisted host, for CONNECT and plain HTTP, and log the host without the query", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const tunnel = await exchange(connectRequest("elsewhere.test:443"));
    expect(tunnel).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(tunnel).toMatch(/\r\n\r\negress refused: elsewhere\.test is not in TASKS_EGRESS_ALLOW\n$/);
    const plain = await httpThroughProxy("http://elsewhere.test/pkg?token=s3cret-query");
    expect(plain).toMatchObject({ status: 403, body: "egress refused: elsewhere.test is not in TASKS_EGRESS_ALLOW\n" });
    expect(plain.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(resolved).toEqual([]);
    expect(dialed).toEqual([]);
    expect(logLines).toHaveLength(2);
    for (const line of logLines) expect(JSON.parse(line)).toMatchObject({ level: 30, host: "elsewhere.test" });
    expect(logLines.join("")).not.toContain("s3cret-query");
  });

  it("refuse a listed name that resolves to loopback unless that address is listed itself", async () => {
    await startProxy(["registry.test", "mixed.test", "0.0.0.0/0"]);
    const tunnel = await exchange(connectRequest("registry.test:443"));
    expect(statusOf(tunnel)).toBe(403);
    expect(tunnel).toContain("registry.test resolves to 127.0.0.1, a loopback address not listed in TASKS_EGRESS_ALLOW");
    expect((await httpThroughProxy("http://registry.test/pkg")).status).toBe(403);
    // One internal address among public ones is enough to refuse.
    expect(await exchange(connectRequest("mixed.test:443"))).toContain("mixed.test resolves to 127.0.0.1, a loopback address");
    expect(dialed).toEqual([]);
  });

  it("refuse the cloud metadata address, literal or resolved, even under 0.0.0.0/0", async () => {
    await startProxy(["metadata.test", "0.0.0.0/0"]);
    expect(await exchange(connectRequest("169.254.169.254:80"))).toContain("169.254.169.254 is a link-local address not listed in TASKS_EGRESS_ALLOW");
    expect((await httpThroughProxy("http://169.254.169.254/latest/meta-data/")).status).toBe(403);
    expect(await exchange(connectRequest("metadata.test:443"))).toContain("metadata.test resolves to 169.254.169.254, a link-local address");
    expect(dialed).toEqual([]);
  });

  it("apply to what the system resolver answers when no resolver is given", async () => {
    proxy = await startEgressProxy({ socketPath, allow: ["localhost"] });
    expect(await exchange(connectRequest("localhost:443"))).toMatch(/egress refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
  });

  it.each([
    ["::1", "loopback"],
    ["fc00::1", "private"],
    ["fe80::1", "link-local"],
    ["::", "unspecified"],
    ["ff02::1", "multicast"],
    ["::ffff:10.0.0.1", "private"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["64:ff9b::7f00:1", "loopback"],
  ])("refuse a name resolving to the IPv6 address %s (%s)", async (address, kind) => {
    await startProxy(["sneaky.test", "0.0.0.0/0"], { resolve: async () => [address] });
    expect(await exchange(connectRequest("sneaky.test:443"))).toContain(`sneaky.test resolves to ${address}, a ${kind} address`);
    expect(dialed).toEqual([]);
  });

  it("refuse a literal IP that no IP entry covers, however it is spelled, and never match it against names", async () => {
    await startProxy(["registry.test", "0.0.1"]);
    for (const authority of ["127.0.0.1:443", "2130706433:443", "0x7f.1:443", "[::ffff:127.0.0.1]:443", "[::1]:443"]) {
      const response = await exchange(connectRequest(authority));
      expect(statusOf(response), authority).toBe(403);
      expect(response).toMatch(/egress refused: (127\.0\.0\.1|::ffff:7f00:1|::1) is not in TASKS_EGRESS_ALLOW\n$/);
    }
    expect((await httpThroughProxy("http://127.0.0.1/pkg")).status).toBe(403);
    expect(dialed).toEqual([]);
  });

  it("opens any port of a listed host, and refuses the same ports of hosts not listed", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    for (const authority of ["other.test:8443", "10.0.0.5:5432"]) {
      expect(statusOf(await exchange(connectRequest(authority))), authority).toBe(403);
    }
    expect(dialed).toEqual([]);
    ports[8443] = ports[443]!;
    const tunnel = await openTunnel("registry.test:8443");
    expect(await echoThrough(tunnel, "on another port")).toBe("on another port");
    tunnel.destroy();
    expect(dialed).toEqual(["127.0.0.1:8443"]);
  });
});

describe("an IP or CIDR entry", () => {
  it("admits literal IPs inside it, internal ones too when the entry lies within that internal range", async () => {
    await startProxy(["127.0.0.0/8"]);
    const tunnel = await openTunnel("127.0.0.1:443");
    expect(await echoThrough(tunnel, "by address")).toBe("by address");
    tunnel.destroy();
    expect((await httpThroughProxy("http://127.0.0.1/pkg")).status).toBe(201);
    expect(seen[0]!.headers.host).toBe("127.0.0.1");
    expect(statusOf(await exchange(connectRequest("10.1.2.3:443")))).toBe(403);
    expect(statusOf(await exchange(connectRequest("registry.test:443")))).toBe(403);
    expect(dialed).toEqual(["127.0.0.1:443", "127.0.0.1:80"]);
  });
});

describe("errors", () => {
  it("answer 400 to requests that are not proxy requests", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    expect(statusOf(await exchange("NONSENSE\r\n\r\n"))).toBe(400);
    expect(statusOf(await exchange("GET /pkg HTTP/1.1\r\nHost: registry.test\r\n\r\n"))).toBe(400);
    expect(statusOf(await exchange("GET https://registry.test/pkg HTTP/1.1\r\nHost: registry.test\r\n\r\n"))).toBe(400);
    expect(statusOf(await exchange("GET http://user@registry.test/pkg HTTP/1.1\r\nHost: registry.test\r\n\r\n"))).toBe(400);
    for (const authority of ["registry.test", "user@registry.test:443", "registry.test:443/path", ":443"]) {
      expect(statusOf(await exchange(connectRequest(authority))), authority).toBe(400);
    }
    expect(dialed).toEqual([]);
  });

  it("answer 502 when an allowed host does not accept the connection, or does not resolve", async () => {
    await startProxy(["down.test", "127.0.0.3", "gone.test"]);
    const tunnel = await exchange(connectRequest("down.test:443"));
    expect(statusOf(tunnel)).toBe(502);
    expect(tunnel).toContain("cannot connect to down.test:443: ECONNREFUSED");
    expect((await httpThroughProxy("http://down.test/pkg")).status).toBe(502);
    expect(await exchange(connectRequest("gone.test:443"))).toContain("cannot resolve gone.test: ENOTFOUND");
    expect(dialed).toEqual(["127.0.0.3:443", "127.0.0.3:80"]);
  });
});

describe("bounds and lifecycle", () => {
  it("listens on a socket only its owner (the sandbox's user maps to it) can connect to, replacing a stale one", async () => {
    await run("python3", ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", socketPath]);
    await startProxy(["registry.test", "127.0.0.1"]);
    expect((await stat(socketPath)).mode & 0o777).toBe(0o600);
    const tunnel = await openTunnel("registry.test:443");
    tunnel.destroy();
  });

  it("will not take over a live socket or replace a file that is not a socket", async () => {
    await startProxy(["registry.test"]);
    await expect(startEgressProxy({ socketPath, allow: [] })).rejects.toThrow(/another process is listening/);
    const file = path.join(dir, "not-a-socket");
    await writeFile(file, "keep me");
    await expect(startEgressProxy({ socketPath: file, allow: [] })).rejects.toThrow(/is not a socket/);
  });

  it("close() ends open tunnels and removes the socket", async () => {
    await startProxy(["registry.test", "127.0.0.1"]);
    const tunnel = await openTunnel("registry.test:443");
    const closed = once(tunnel, "close");
    await proxy!.close();
    proxy = undefined;
    await closed;
    await expect(stat(socketPath)).rejects.toThrow(/ENOENT/);
  });

  it("cuts a tunnel that stays idle", async () => {
    await startProxy(["registry.test", "127.0.0.1"], { idleTimeoutMs: 50 });
    const tunnel = await openTunnel("registry.test:443");
    await once(tunnel, "close");
  });

  it("drops connections beyond its cap while the ones it holds keep working", async () => {
    await startProxy(["registry.test", "127.0.0.1"], { maxConnections: 1 });
    const tunnel = await openTunnel("registry.test:443");
    expect(await exchange(connectRequest("registry.test:443"))).toBe("");
    expect(await echoThrough(tunnel, "still open")).toBe("still open");
    tunnel.destroy();
    expect(logLines.map((line) => JSON.parse(line).msg)).toContain("egress proxy is full: dropped a connection");
  });
});
