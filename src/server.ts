// Composition root: builds every component from the configuration and starts the one HTTP
// server (Probot's) that serves GitHub webhooks and the API on the same port.
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { PostHog } from "posthog-node";
import { Probot, Server } from "probot";
import { createApi } from "./api/create-api.ts";
import { createApiHandler } from "./api/node-handler.ts";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/open-database.ts";
import { resolveAdminToken } from "./lib/admin-token.ts";
import type { Logger } from "./lib/logger.ts";
import { createLocalFlagChecker, createPostHogFlagChecker, type FlagChecker } from "./tasks/feature-flags.ts";
import { createRecordingOrchestrator, type Orchestrator } from "./tasks/orchestrator.ts";
import { createTasksService, type TasksService } from "./tasks/service.ts";

export const version: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export interface ServerOverrides {
  /** An already-open database (tests); otherwise the configured one is opened and owned. */
  database?: Database;
  orchestrator?: Orchestrator;
  flags?: FlagChecker;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly tasks: TasksService;
  readonly database: Database;
  close(): Promise<void>;
}

export async function startServer(config: Config, log: Logger, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const database = overrides.database ?? (await openDatabase(config.database));
  if (database.migrated.length > 0) log.info({ migrations: database.migrated }, "applied database migrations");

  const posthog = !overrides.flags && config.posthog ? new PostHog(config.posthog.apiKey, { host: config.posthog.host }) : undefined;
  const flags = overrides.flags ?? (posthog ? createPostHogFlagChecker(posthog) : createLocalFlagChecker(database.prisma));
  const orchestrator = overrides.orchestrator ?? createRecordingOrchestrator();
  const tasks = createTasksService({ db: database.prisma, flags, orchestrator, log: log.child({ name: "tasks" }) });

  const adminToken = await resolveAdminToken({ adminToken: config.adminToken, dataDir: config.dataDir });
  const api = createApi({ tasks, adminToken, log: log.child({ name: "api" }), database: database.kind, version });

  const configured = Boolean(config.github.appId);
  if (!configured) log.warn("APP_ID is not set: GitHub webhooks are refused until the GitHub App is configured; the API works");
  const server = new Server({
    port: config.server.port,
    host: config.server.host,
    webhookPath: config.github.webhookPath,
    webhookProxy: config.github.webhookProxyUrl,
    log: log.child({ name: "server" }),
    Probot: Probot.defaults({
      // Without an app Probot still needs values; a random secret makes every delivery fail verification.
      appId: config.github.appId ?? 1,
      privateKey: config.github.privateKey ?? "not configured",
      secret: configured ? config.github.webhookSecret : randomBytes(32).toString("hex"),
      baseUrl: config.github.apiUrl,
      log: log.child({ name: "probot" }),
    }),
  });
  server.addHandler(createApiHandler(api, config.github.webhookPath));
  await server.start();

  const url = `http://${config.server.host === "0.0.0.0" ? "localhost" : config.server.host}:${server.port}`;
  return {
    url,
    port: server.port,
    tasks,
    database,
    close: async () => {
      await server.stop();
      await posthog?.shutdown();
      if (!overrides.database) await database.close();
    },
  };
}
