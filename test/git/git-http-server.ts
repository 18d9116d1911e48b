// A real git remote for tests: bare repositories served by `git http-backend` (CGI) behind a tiny
// node HTTP server on 127.0.0.1. Pushes (and, when asked, fetches) need `Authorization: Basic`
// with the right installation token, so a passing push proves the token travelled in the header.
import { spawn } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  service: "upload-pack" | "receive-pack";
  /** What the Authorization header held: the right token, a wrong one, or nothing. */
  auth: "valid" | "invalid" | "none";
}

export interface GitHttpServer {
  url: string;
  requests: SeenRequest[];
  /** When true, fetches and clones need the token too (pushes always do). */
  requireAuthForFetch: boolean;
  close(): Promise<void>;
}

export async function startGitHttpServer(options: { projectRoot: string; token: string }): Promise<GitHttpServer> {
  const expected = Buffer.from(`x-access-token:${options.token}`).toString("base64");
  const requests: SeenRequest[] = [];
  const state = { requireAuthForFetch: false };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const service = url.searchParams.get("service") === "git-receive-pack" || url.pathname.endsWith("/git-receive-pack") ? "receive-pack" : "upload-pack";
    const match = /^basic\s+(\S+)$/i.exec(req.headers.authorization ?? "");
    const auth = match ? (match[1] === expected ? "valid" : "invalid") : "none";
    requests.push({ method: req.method ?? "GET", path: url.pathname, service, auth });

    const needsAuth = service === "receive-pack" || state.requireAuthForFetch;
    if (needsAuth && auth !== "valid") {
      req.resume();
      res.writeHead(401, { "www-authenticate": 'Basic realm="tasks-test"', "content-type": "text/plain" });
      res.end("authentication required\n");
      return;
    }

    const env: Record<string, string> = {
      PATH: process.env["PATH"] ?? "/usr/bin:/bin",
      GIT_PROJECT_ROOT: options.projectRoot,
      GIT_HTTP_EXPORT_ALL: "1",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: "/dev/null",
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? "GET",
      CONTENT_TYPE: req.headers["content-type"] ?? "",
      REMOTE_ADDR: "127.0.0.1",
    };
    if (req.headers["content-length"]) env["CONTENT_LENGTH"] = req.headers["content-length"];
    if (req.headers["content-encoding"]) env["HTTP_CONTENT_ENCODING"] = req.headers["content-encoding"];
    if (req.headers["git-protocol"]) env["GIT_PROTOCOL"] = String(req.headers["git-protocol"]);
    // http-backend enables receive-pack only for an authenticated user.
    if (auth === "valid") env["REMOTE_USER"] = "x-access-token";

    const cgi = spawn("git", ["http-backend"], { env, stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    cgi.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    cgi.stderr.resume();
    req.pipe(cgi.stdin);
    cgi.on("close", () => {
      const raw = Buffer.concat(out);
      let split = raw.indexOf("\r\n\r\n");
      let gap = 4;
      if (split < 0) {
        split = raw.indexOf("\n\n");
        gap = 2;
      }
      const headerText = raw.subarray(0, Math.max(split, 0)).toString("latin1");
      const headers: Record<string, string> = {};
      let status = 200;
      for (const line of headerText.split(/\r?\n/)) {
        const colon = line.indexOf(":");
        if (colon < 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === "status") status = Number.parseInt(value, 10);
        else headers[name] = value;
      }
      res.writeHead(status, headers);
      res.end(split < 0 ? raw : raw.subarray(split + gap));
    });
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    get requireAuthForFetch() {
      return state.requireAuthForFetch;
    },
    set requireAuthForFetch(value: boolean) {
      state.requireAuthForFetch = value;
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
