// The local sandbox's only way to the model: a Unix socket of the control plane, bound into every
// sandbox, that forwards `/model/*` requests to the model gateway and refuses everything else. The
// sandbox cannot reach the app's port itself (its network namespace has no route out), so the
// task API, the admin API and the webhook endpoint stay out of its reach; the gateway checks the
// run token as it does for E2B. Bodies stream both ways: the gateway streams server-sent events.
import http from "node:http";
import https from "node:https";
import type { Socket } from "node:net";
import { endToEndHeaders } from "../lib/hop-by-hop.ts";
import { listenOnSocket, type SocketServer } from "./unix-socket-server.ts";


function answer(res: http.ServerResponse, status: number, message: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify({ error: { type: "tasks_sandbox", message } }));
}

/** Serves the model gateway at `gatewayUrl` on the Unix socket `socketPath`. */
export async function startGatewaySocket(options: { socketPath: string; gatewayUrl: string }): Promise<SocketServer> {
  const base = new URL(options.gatewayUrl);
  const client = base.protocol === "https:" ? https : http;
  const basePath = base.pathname.replace(/\/+$/, "");

  const server = http.createServer((req, res) => {
    const target = req.url ?? "/";
    if (!target.startsWith("/model/")) {
      return answer(res, 404, `the sandbox reaches only the model gateway (/model/…), not ${req.method} ${target.split("?")[0]}`);
    }
    const upstream = client.request(
      { protocol: base.protocol, hostname: base.hostname, port: base.port, method: req.method, path: `${basePath}${target}`, headers: endToEndHeaders(req.headers) },
      (response) => {
        res.writeHead(response.statusCode ?? 502, endToEndHeaders(response.headers));
        response.pipe(res);
        response.on("error", () => res.destroy());
      },
    );
    upstream.on("error", (error) => answer(res, 502, `the model gateway could not be reached: ${error.message}`));
    // A client that goes away mid-stream stops the upstream call too.
    res.on("close", () => upstream.destroy());
    req.pipe(upstream);
  });
  server.on("upgrade", (_req, socket: Socket) => socket.end("HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n"));
  return listenOnSocket(server, options.socketPath);
}
