// GitHub Enterprise's REST API (under /api/v3) as a real HTTP server on 127.0.0.1, for servers
// and workers running in child processes, where nock cannot reach. It answers what the label
// trigger asks (installation token, collaborator permission, 👀, the issue's comments) and what
// a run does on GitHub (check runs, pull requests, labels), keeps that state, and records every
// call. Anything outside /api/v3 goes to `gitRemote` when given, so one GHE_HOST serves both
// the API and git, as GitHub Enterprise does. While `holdComments` is set it never answers a
// comment request: a process killed then is caught in the middle of its handler.
import { createServer, request, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

type Json = Record<string, unknown>;

export interface FakeGitHubCall {
  method: string;
  /** Without /api/v3 and without the query. */
  path: string;
  body: Json;
  /** performance.now() when it arrived (a benchmark's clock, same process). */
  at?: number;
  /** The status it was answered with, once answered. */
  status?: number;
}

interface Comment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export interface FakeCheckRun {
  id: number;
  name: string;
  head_sha: string;
  external_id: string;
  status: string;
  conclusion: string | null;
  output: Json;
  history: { status: string; conclusion: string | null }[];
}

export interface FakePullRequest {
  number: number;
  head: string;
  base: string;
  title: string;
  body: string;
  draft: boolean;
  html_url: string;
}

export interface FakeGitHubOptions {
  /** The installation token it mints (default ghs_fake). */
  token?: string;
  /** Collaborator roles by login; anyone else has write. */
  roles?: Record<string, string>;
  /** Base URL of a git HTTP server that answers everything outside /api/v3. */
  gitRemote?: string;
  /**
   * GitHub's secondary rate limit: content-creating requests (POST/PATCH/PUT/DELETE other than
   * token mints) per rolling minute per installation, told apart by the token they carry. Beyond
   * it a request gets 403 "You have exceeded a secondary rate limit" with `retry-after` set to the
   * seconds until a slot frees, and is neither answered nor recorded in `calls`.
   */
  secondaryLimitPerMinute?: number;
}

export interface FakeGitHubServer {
  /** host:port, for GHE_HOST. */
  readonly host: string;
  readonly calls: FakeGitHubCall[];
  /** Comments by issue number. */
  readonly comments: Map<number, Comment[]>;
  readonly checkRuns: FakeCheckRun[];
  readonly pulls: FakePullRequest[];
  holdComments: boolean;
  /** Requests refused by `secondaryLimitPerMinute` (not in `calls`). */
  readonly refused: FakeGitHubCall[];
  callsTo(method: string, path: RegExp): FakeGitHubCall[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Json> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Json) : {};
}

function forward(req: IncomingMessage, res: ServerResponse, base: string): void {
  const target = new URL(req.url ?? "/", base);
  const upstream = request(target, { method: req.method, headers: { ...req.headers, host: target.host } }, (answer) => {
    res.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(res);
  });
  upstream.on("error", (error) => res.writeHead(502).end(String(error)));
  req.pipe(upstream);
}

export async function startFakeGitHub(options: FakeGitHubOptions = {}): Promise<FakeGitHubServer> {
  const calls: FakeGitHubCall[] = [];
  const comments = new Map<number, Comment[]>();
  const checkRuns: FakeCheckRun[] = [];
  const pulls: FakePullRequest[] = [];
  const held = new Set<ServerResponse>();
  const token = options.token ?? "ghs_fake";
  let nextId = 1000;
  const refused: FakeGitHubCall[] = [];
  /** When each accepted content-creating request was answered, by token (one per installation). */
  const writesByToken = new Map<string, number[]>();

  /** Seconds until the caller may write again, or 0 when this write is within the limit (and counted). */
  function secondaryRetryAfter(req: IncomingMessage, method: string, path: string): number {
    const limit = options.secondaryLimitPerMinute;
    if (limit === undefined || method === "GET" || method === "HEAD") return 0;
    if (/^\/app\/installations\/\d+\/access_tokens$/.test(path) || path === "/installation/token") return 0;
    const key = req.headers.authorization ?? "";
    const now = Date.now();
    const recent = (writesByToken.get(key) ?? []).filter((at) => at > now - 60_000);
    writesByToken.set(key, recent);
    if (recent.length < limit) {
      recent.push(now);
      return 0;
    }
    return Math.max(1, Math.ceil((recent[0]! + 60_000 - now) / 1000));
  }

  async function answer(req: IncomingMessage, res: ServerResponse, state: FakeGitHubServer): Promise<void> {
    const method = req.method ?? "GET";
    const url = new URL((req.url ?? "").replace(/^\/api\/v3/, ""), "http://fake");
    const path = url.pathname;
    const body = await readJson(req);
    const retryAfter = secondaryRetryAfter(req, method, path);
    if (retryAfter > 0) {
      refused.push({ method, path, body });
      return void res
        .writeHead(403, { "content-type": "application/json", "retry-after": String(retryAfter) })
        .end(JSON.stringify({ message: "You have exceeded a secondary rate limit", documentation_url: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" }));
    }
    calls.push({ method, path, body, at: performance.now() });
    const call = calls.at(-1)!;
    res.on("finish", () => (call.status = res.statusCode));
    const reply = (status: number, json: unknown): void => void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    const issue = Number(/\/issues\/(\d+)\/comments$/.exec(path)?.[1]);
    const repo = /^\/repos\/([^/]+\/[^/]+)/.exec(path)?.[1];

    if (/\/comments/.test(path) && state.holdComments) {
      held.add(res);
      return;
    }
    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      const permissions = body["permissions"] ?? { issues: "write", checks: "write", contents: "write", pull_requests: "write", metadata: "read" };
      return reply(201, { token, expires_at: "2999-01-01T00:00:00Z", permissions, repository_selection: "selected" });
    }
    if (method === "DELETE" && path === "/installation/token") return void res.writeHead(204).end();
    const permission = /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/.exec(path);
    if (method === "GET" && permission) {
      const login = permission[1]!;
      const role = options.roles?.[login] ?? "write";
      return reply(200, { permission: role === "maintain" ? "write" : role === "triage" ? "read" : role, role_name: role, user: { login } });
    }
    if (method === "POST" && /\/reactions$/.test(path)) return reply(201, { id: 1, content: "eyes" });
    if (method === "GET" && issue) return reply(200, comments.get(issue) ?? []);
    if (method === "POST" && issue) {
      const comment = { id: nextId++, body: String(body["body"]), user: { login: "tasks[bot]", type: "Bot" }, performed_via_github_app: { id: 12345, slug: "tasks" } };
      comments.set(issue, [...(comments.get(issue) ?? []), comment]);
      return reply(201, comment);
    }
    const edited = /\/issues\/comments\/(\d+)$/.exec(path);
    if (method === "PATCH" && edited) {
      const comment = [...comments.values()].flat().find((c) => c.id === Number(edited[1]));
      if (!comment) return reply(404, { message: "Not Found" });
      comment.body = String(body["body"]);
      return reply(200, comment);
    }
    if (method === "GET" && /^\/repos\/[^/]+\/[^/]+$/.test(path)) return reply(200, { full_name: repo, default_branch: "main" });
    if (method === "GET" && /^\/repos\/[^/]+\/[^/]+\/contents\//.test(path)) return reply(404, { message: "Not Found" });
    const checksOf = /^\/repos\/[^/]+\/[^/]+\/commits\/([0-9a-f]+)\/check-runs$/.exec(path);
    if (method === "GET" && checksOf) {
      const name = url.searchParams.get("check_name");
      const runs = checkRuns.filter((run) => run.head_sha === checksOf[1] && (!name || run.name === name));
      return reply(200, { total_count: runs.length, check_runs: runs });
    }
    if (method === "POST" && /^\/repos\/[^/]+\/[^/]+\/check-runs$/.test(path)) {
      const run: FakeCheckRun = {
        id: nextId++,
        name: String(body["name"]),
        head_sha: String(body["head_sha"]),
        external_id: String(body["external_id"] ?? ""),
        status: String(body["status"] ?? "queued"),
        conclusion: (body["conclusion"] as string | undefined) ?? null,
        output: (body["output"] as Json | undefined) ?? {},
        history: [],
      };
      run.history.push({ status: run.status, conclusion: run.conclusion });
      checkRuns.push(run);
      return reply(201, run);
    }
    const checkRun = /^\/repos\/[^/]+\/[^/]+\/check-runs\/(\d+)$/.exec(path);
    if (method === "PATCH" && checkRun) {
      const run = checkRuns.find((r) => r.id === Number(checkRun[1]));
      if (!run) return reply(404, { message: "Not Found" });
      if (body["status"]) run.status = String(body["status"]);
      if (body["conclusion"]) run.conclusion = String(body["conclusion"]);
      if (body["output"]) run.output = body["output"] as Json;
      run.history.push({ status: run.status, conclusion: run.conclusion });
      return reply(200, run);
    }
    const shown = (pull: FakePullRequest) => ({ ...pull, head: { ref: pull.head } });
    if (method === "GET" && /^\/repos\/[^/]+\/[^/]+\/pulls$/.test(path)) {
      const head = url.searchParams.get("head")?.split(":")[1];
      return reply(200, pulls.filter((pull) => pull.head === head).map(shown));
    }
    if (method === "POST" && /^\/repos\/[^/]+\/[^/]+\/pulls$/.test(path)) {
      const number = nextId++;
      const pull = { number, head: String(body["head"]), base: String(body["base"]), title: String(body["title"]), body: String(body["body"]), draft: Boolean(body["draft"]), html_url: `https://github.test/${repo}/pull/${number}` };
      pulls.push(pull);
      return reply(201, shown(pull));
    }
    if (method === "PATCH" && /^\/repos\/[^/]+\/[^/]+\/pulls\/\d+$/.test(path)) return reply(200, {});
    if (method === "POST" && /^\/repos\/[^/]+\/[^/]+\/issues\/\d+\/labels$/.test(path)) return reply(200, []);
    // A branch deleted through the API (the branch itself lives in `gitRemote`, which the app pushes to).
    if (method === "DELETE" && /^\/repos\/[^/]+\/[^/]+\/git\/refs\/heads\/.+$/.test(path)) return void res.writeHead(204).end();
    reply(404, { message: `the fake GitHub has no ${method} ${path}` });
  }

  const state: FakeGitHubServer = {
    get host() {
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    calls,
    comments,
    checkRuns,
    pulls,
    holdComments: false,
    refused,
    callsTo: (method, path) => calls.filter((call) => call.method === method && path.test(call.path)),
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    if (options.gitRemote && !(req.url ?? "").startsWith("/api/v3/")) return forward(req, res, options.gitRemote);
    answer(req, res, state).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return state;
}
