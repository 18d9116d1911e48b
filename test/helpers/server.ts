// A real server for tests: the same startServer() as production, on a free port, against a
// fresh test database, with a known admin token. Requests go over real HTTP.
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import type { ProbotOctokit } from "probot";
import { loadConfig } from "../../src/config.ts";
import { githubAppEnv } from "./github.ts";
import type { WebhookIngressDeps } from "../../src/app/webhook-ingress.ts";
import type { InboxOptions } from "../../src/inbox/index.ts";
import type { StageWork } from "../../src/stage-work/stage-work.ts";
import type { FlagChecker } from "../../src/tasks/feature-flags.ts";
import type { Orchestrator } from "../../src/tasks/orchestrator.ts";
import { createRecordingOrchestrator, type RecordingOrchestrator } from "./recording-orchestrator.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { openTestDatabase, type TestDatabase, type TestDatabaseKind } from "./databases.ts";

export const adminToken = "test-admin-token-0123456789abcdef";

/**
 * The environment of a server run as a child process (`node --import tsx src/main.ts`) with the
 * test GitHub App, against a GitHub stand-in at `githubHost`, on a port of its choosing.
 */
export function childServerEnv(githubHost: string, dataDir: string): Record<string, string> {
  return {
    PATH: process.env["PATH"] ?? "",
    ...githubAppEnv,
    GHE_HOST: githubHost,
    GHE_PROTOCOL: "http",
    HOST: "127.0.0.1",
    PORT: "0",
    TASKS_DATA_DIR: dataDir,
    TASKS_ADMIN_TOKEN: adminToken,
  };
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      probe.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The environment of a server on loopback, on a free port, with a known admin token and no logs. */
export async function localServerEnv(dataDir: string): Promise<Record<string, string>> {
  return { PORT: String(await freePort()), HOST: "127.0.0.1", TASKS_DATA_DIR: dataDir, TASKS_ADMIN_TOKEN: adminToken, LOG_LEVEL: "silent" };
}

export interface TestServer extends RunningServer {
  readonly db: TestDatabase;
  readonly dataDir: string;
  readonly orchestrator: Orchestrator;
}

export interface TestServerOptions {
  env?: Record<string, string>;
  orchestrator?: Orchestrator;
  flags?: FlagChecker;
  Octokit?: typeof ProbotOctokit;
  envFile?: string;
  /** Runs tasks on the server's real engine with this stage work, instead of recording runs. */
  stageWork?: StageWork;
  /** Runs tasks on the server's real engine and its configured stage work. */
  engine?: "embedded";
  /** The webhook inbox's lease, retry pauses and poll. */
  inbox?: Partial<InboxOptions>;
  /** The webhook ingress's body limits and meter. */
  ingress?: Pick<WebhookIngressDeps, "limits" | "meter">;
}

export async function startTestServer(kind: TestDatabaseKind, options: TestServerOptions = {}): Promise<TestServer & { orchestrator: Orchestrator | RecordingOrchestrator }> {
  const db = await openTestDatabase(kind);
  const dataDir = await mkdtemp(path.join(tmpdir(), "tasks-test-"));
  const config = loadConfig({ ...(await localServerEnv(dataDir)), ...options.env });
  const orchestrator = options.orchestrator ?? (options.stageWork || options.engine ? undefined : createRecordingOrchestrator());
  const server = await startServer(config, pino({ level: "silent" }), {
    database: db,
    ...(orchestrator ? { orchestrator } : {}),
    ...(options.stageWork ? { stageWork: options.stageWork } : {}),
    ...(options.flags ? { flags: options.flags } : {}),
    ...(options.Octokit ? { Octokit: options.Octokit } : {}),
    ...(options.envFile ? { envFile: options.envFile } : {}),
    ...(options.inbox ? { inbox: options.inbox } : {}),
    ...(options.ingress ? { ingress: options.ingress } : {}),
  });
  return {
    ...server,
    db,
    dataDir,
    orchestrator: orchestrator ?? createRecordingOrchestrator(),
    close: async () => {
      await server.close();
      await db.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A small JSON client for the server under test. */
export function client(baseUrl: string, token?: string) {
  return async function request(method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) {
    const response = await fetch(`${baseUrl}${urlPath}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { "content-type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await response.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    return { status: response.status, body: json as any, text, headers: response.headers };
  };
}

/** Creates a team with a member, a repository integration and an API key through the admin API. */
export async function seedTeam(baseUrl: string, name = "PostHog", options: { userId?: string; repository?: string; installationId?: number } = {}) {
  const admin = client(baseUrl, adminToken);
  const team = await admin("POST", "/api/admin/teams", { name });
  if (team.status !== 201) throw new Error(`seed team: ${team.status} ${team.text}`);
  const userId = options.userId ?? "42";
  const user = await admin("POST", `/api/admin/teams/${team.body.id}/users`, { user_id: userId });
  if (user.status !== 201) throw new Error(`seed user: ${user.status} ${user.text}`);
  const repository = options.repository ?? "posthog/posthog";
  const integration = await admin("POST", `/api/admin/teams/${team.body.id}/integrations`, {
    installation_id: options.installationId ?? Math.floor(Math.random() * 1e9) + 1,
    repositories: [repository],
  });
  if (integration.status !== 201) throw new Error(`seed integration: ${integration.status} ${integration.text}`);
  const key = await admin("POST", `/api/admin/teams/${team.body.id}/api-keys`, { name: "test" });
  if (key.status !== 201) throw new Error(`seed key: ${key.status} ${key.text}`);
  return { team: team.body as { id: string; name: string; prefix: string }, userId, repository, apiKey: key.body.key as string };
}
