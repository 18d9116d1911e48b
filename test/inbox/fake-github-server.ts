// GitHub Enterprise's REST API (under /api/v3) as a real HTTP server on 127.0.0.1, for a
// server running in a child process, where nock cannot reach. It answers what the label
// trigger asks (installation token, collaborator permission, 👀, the issue's comments),
// keeps the comments, and records every call. While `holdComments` is set it never answers
// a comment request: a process killed then is caught in the middle of its handler.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeGitHubCall {
  method: string;
  path: string;
}

interface Comment {
  id: number;
  body: string;
  user: { login: string; type: string };
}

export interface FakeGitHubServer {
  /** host:port, for GHE_HOST. */
  readonly host: string;
  readonly calls: FakeGitHubCall[];
  /** Comments by issue number. */
  readonly comments: Map<number, Comment[]>;
  holdComments: boolean;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

export async function startFakeGitHub(): Promise<FakeGitHubServer> {
  const calls: FakeGitHubCall[] = [];
  const comments = new Map<number, Comment[]>();
  const held = new Set<ServerResponse>();
  let nextId = 1000;

  async function answer(req: IncomingMessage, res: ServerResponse, state: FakeGitHubServer): Promise<void> {
    const method = req.method ?? "GET";
    const path = (req.url ?? "").replace(/^\/api\/v3/, "").split("?")[0]!;
    calls.push({ method, path });
    const body = await readJson(req);
    const reply = (status: number, json: unknown): void => void res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(json));
    const issue = Number(/\/issues\/(\d+)\/comments$/.exec(path)?.[1]);

    if (/\/comments/.test(path) && state.holdComments) {
      held.add(res);
      return;
    }
    if (method === "POST" && /^\/app\/installations\/\d+\/access_tokens$/.test(path)) {
      return reply(201, { token: "ghs_fake", expires_at: "2999-01-01T00:00:00Z", permissions: { issues: "write" } });
    }
    const permission = /^\/repos\/[^/]+\/[^/]+\/collaborators\/([^/]+)\/permission$/.exec(path);
    if (method === "GET" && permission) return reply(200, { permission: "write", role_name: "write", user: { login: permission[1] } });
    if (method === "POST" && /\/issues\/\d+\/reactions$/.test(path)) return reply(201, { id: 1, content: "eyes" });
    if (method === "GET" && issue) return reply(200, comments.get(issue) ?? []);
    if (method === "POST" && issue) {
      const comment = { id: nextId++, body: String(body["body"]), user: { login: "tasks[bot]", type: "Bot" } };
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
    reply(404, { message: `the fake GitHub has no ${method} ${path}` });
  }

  const state: FakeGitHubServer = {
    get host() {
      return `127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    calls,
    comments,
    holdComments: false,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of held) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    answer(req, res, state).catch((error: unknown) => res.writeHead(500).end(String(error)));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return state;
}
