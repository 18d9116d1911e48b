// The web process: the parts from compose.ts, plus the one HTTP server (Probot's) that serves
// GitHub webhooks, the API and the setup flow on the same port.
import { readFileSync } from "node:fs";
import type { Server as HttpServer } from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { EmitterWebhookEvent } from "@octokit/webhooks";
import { Probot, ProbotOctokit, Server } from "probot";
import { createGitHubApp } from "./app/create-github-app.ts";
import { createSetupFlow } from "./app/setup-flow.ts";
import { createWebhookIngress, type DeliveryStore, type WebhookIngressDeps } from "./app/webhook-ingress.ts";
import { startWebhookProxy } from "./app/webhook-proxy.ts";
import { createApi } from "./api/create-api.ts";
import { createApiHandler } from "./api/node-handler.ts";
import { withGitHubFaultHandling } from "./github/github-octokit.ts";
import { createModelGateway } from "./gateway/create-model-gateway.ts";
import type { Config } from "./config.ts";
import { openDatabase, type Database } from "./db/open-database.ts";
import { resolveAdminToken } from "./lib/admin-token.ts";
import type { Logger } from "./lib/logger.ts";
import { readPrivateKey } from "./lib/private-key.ts";
import { createPrometheusMetrics } from "./lib/prometheus-metrics.ts";
import { createHealthHandler, defaultCheckTimeoutMs } from "./api/health-routes.ts";
import { countUnhandledDeliveries, databaseReadiness } from "./db/readiness.ts";
import { writeQueueDepths } from "./github/schedule-writes.ts";
import { createWebhookInbox, type InboxEvent, type InboxOptions } from "./inbox/index.ts";
import type { FlagChecker } from "./tasks/feature-flags.ts";
import type { Orchestrator } from "./tasks/orchestrator.ts";
import { createEngine, createFlags, setupFactsFrom } from "./compose.ts";
import { createDrainGuard } from "./lib/drain-guard.ts";
import { missingSetup } from "./tasks/setup-status.ts";
import { sandboxWarning } from "./sandbox/create-sandbox-provider.ts";
import type { StageWork } from "./stage-work/stage-work.ts";
import { createTasksService, type TasksService } from "./tasks/service.ts";
import { createDashboardReads } from "./tasks/dashboard-reads.ts";
import type { ReconcilerSettings } from "./tasks/reconciler.ts";

export const version: string = (JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string }).version;

export interface ServerOverrides {
  /** An already-open database (tests); otherwise the configured one is opened and owned. */
  database?: Database;
  orchestrator?: Orchestrator;
  flags?: FlagChecker;
  /** Probot's Octokit class (tests pass one with retries and throttling off). */
  Octokit?: typeof ProbotOctokit;
  /** Where the first-run setup flow writes the app's credentials (default ./.env). */
  envFile?: string;
  /** fetch for the setup flow's call to GitHub (tests). */
  fetch?: typeof fetch;
  /** What agent stages do (sandbox, agent, PR); tests pass a fake. */
  stageWork?: StageWork;
  /** The webhook inbox's lease, retry pauses and poll (tests shorten them). */
  inbox?: Partial<InboxOptions>;
  /** The run reconciler's pauses and limits (tests shorten them). */
  reconciler?: ReconcilerSettings;
  /**
   * Another store for verified deliveries than the durable inbox (bench/ingress.ts measures
   * one that records only the id). It is given the database and the handlers.
   */
  deliveryStore?: (parts: { database: Database; handle: (event: InboxEvent) => Promise<void> }) => DeliveryStore;
  /** The webhook ingress's body limits, and a meter of the body bytes it reads (tests). */
  ingress?: Pick<WebhookIngressDeps, "limits" | "meter">;
}

export interface RunningServer {
  readonly url: string;
  readonly port: number;
  readonly tasks: TasksService;
  readonly database: Database;
  /** Resolves once no accepted webhook delivery is in flight or due now (a retry may wait). */
  webhooksIdle(): Promise<void>;
  /**
   * Drains, then closes: writes refused, webhook deliveries in flight finished, runs parked at a
   * safe point (a step in flight gets graceMs to finish, default 0), the listener and the database closed.
   */
  close(options?: { graceMs?: number }): Promise<void>;
}

// Probot's own webhook middleware is parked on a path nothing calls: our ingress owns the real
// path, so it can dedupe and answer before any handler runs.
const parkedProbotWebhookPath = "/__probot/unused-webhook-path";

/** Retry-After while draining: about the time a restarted process takes to listen again. */
const drainRetryAfterSeconds = 30;

/**
 * Stops listening, and ends the connections still open once the work is parked: an event stream or
 * a keep-alive connection would otherwise hold the process past its shutdown.
 */
async function closeListener(server: Server, httpServer: HttpServer): Promise<void> {
  const stopped = server.stop();
  httpServer.closeIdleConnections();
  const lingering = setTimeout(() => httpServer.closeAllConnections(), 1_000);
  await stopped;
  clearTimeout(lingering);
}


export async function startServer(config: Config, log: Logger, overrides: ServerOverrides = {}): Promise<RunningServer> {
  const database = overrides.database ?? (await openDatabase(config.database, log.child({ name: "db" })));
  // This server's own registry: /metrics counts only its traffic, even with several in one process.
  const metrics = createPrometheusMetrics();
  metrics.observe({ inboxDepth: () => countUnhandledDeliveries(database.prisma), writeQueueDepths });
  if (database.migrated.length > 0) log.info({ migrations: database.migrated }, "applied database migrations");

  const ownFlags = overrides.flags ? undefined : createFlags(config, database);
  const flags = overrides.flags ?? ownFlags!.flags;
  const engine = overrides.orchestrator
    ? undefined
    : await createEngine(config, database, {
        flags,
        metrics,
        log,
        ...(overrides.stageWork ? { stageWork: overrides.stageWork } : {}),
        ...(overrides.Octokit ? { Octokit: overrides.Octokit } : {}),
      }, overrides.reconciler ? { reconciler: overrides.reconciler } : {});
  const orchestrator = overrides.orchestrator ?? engine!.orchestrator;
  const tasks = createTasksService({ db: database.prisma, flags, orchestrator, log: log.child({ name: "tasks" }), metrics });

  // Probot's `receive` runs the handlers of a delivery; Probot is loaded below, before the inbox starts.
  let probot: Probot | undefined;
  const handle = async (event: InboxEvent) => probot!.receive(event as EmitterWebhookEvent);
  const inbox = createWebhookInbox({
    db: database.prisma,
    handle,
    log: log.child({ name: "inbox" }),
    retentionDays: config.inbox.retentionDays,
    metrics,
    ...(overrides.inbox ? { options: overrides.inbox } : {}),
  });

  const adminToken = await resolveAdminToken({ adminToken: config.adminToken, dataDir: config.dataDir });
  const dashboard = {
    reads: createDashboardReads(database.prisma, { webUrl: config.github.webUrl }),
    publicUrl: config.server.publicUrl,
    setupGaps: missingSetup(setupFactsFrom(config)),
  };
  const api = createApi({ tasks, deliveries: inbox, adminToken, log: log.child({ name: "api" }), database: database.kind, version, dashboard });

  const configured = Boolean(config.github.appId);
  if (!configured) log.warn("APP_ID is not set: GitHub webhooks are refused until the GitHub App is configured; the API works");
  // Said at start-up, where a new user looks first, in the same words as a task that cannot run.
  for (const gap of missingSetup(setupFactsFrom(config))) log.warn({ setup: gap.code }, `${gap.missing} ${gap.fix}`);
  const server = new Server({
    port: config.server.port,
    host: config.server.host,
    // WEBHOOK_PROXY_URL is served by startWebhookProxy below, into our ingress rather than Probot's.
    webhookPath: parkedProbotWebhookPath,
    log: log.child({ name: "server" }),
    Probot: Probot.defaults({
      // Without an app Probot still needs values; the ingress refuses every delivery then.
      appId: config.github.appId ?? 1,
      privateKey: readPrivateKey(config) ?? "not configured",
      secret: config.github.webhookSecret ?? "not configured",
      baseUrl: config.github.apiUrl,
      log: log.child({ name: "probot" }),
      Octokit: withGitHubFaultHandling(overrides.Octokit ?? ProbotOctokit, metrics),
    }),
  });
  await server.load((app) => {
    probot = app;
    createGitHubApp({
      tasks,
      label: config.triggers.label,
      command: config.triggers.command,
      publicUrl: config.server.publicUrl,
      warning: sandboxWarning(config),
      log: log.child({ name: "github" }),
    })(app);
  });
  const ingress = createWebhookIngress({
    path: config.github.webhookPath,
    secret: configured ? config.github.webhookSecret : undefined,
    store: overrides.deliveryStore?.({ database, handle }) ?? inbox,
    log: log.child({ name: "ingress" }),
    metrics,
    ...overrides.ingress,
  });
  // First of the added handlers: while draining, no write reaches the ingress, the API or the pages.
  let draining = false;
  server.addHandler(createDrainGuard({ isDraining: () => draining, openPrefixes: ["/model/"], retryAfterSeconds: drainRetryAfterSeconds }));
  // Operators' probes, unauthenticated: liveness, readiness (each failing check named), Prometheus.
  server.addHandler(
    createHealthHandler({
      readiness: [
        ...databaseReadiness(database.prisma, database.kind),
        // The engine gets less than the check's limit, so its own reason (which server) is what is shown.
        ...(engine ? [{ name: "engine", probe: () => engine.ready(defaultCheckTimeoutMs * 0.75) }] : []),
        {
          name: "accepting",
          probe: async () => {
            if (draining) throw new Error("shutting down: writes are refused");
          },
        },
      ],
      metrics,
    }),
  );
  server.addHandler(ingress.handle);
  server.addHandler(createApiHandler(api, config.github.webhookPath));
  // The model gateway shares the app's port: sandboxes reach it at TASKS_PUBLIC_URL (E2B) or 127.0.0.1.
  server.addHandler(createModelGateway({ db: database.prisma, settings: config.gateway, log: log.child({ name: "gateway" }), metrics }));
  if (!configured) {
    server.addHandler(
      createSetupFlow({
        publicUrl: config.server.publicUrl,
        webUrl: config.github.webUrl,
        apiUrl: config.github.apiUrl,
        webhookPath: config.github.webhookPath,
        webhookProxyUrl: config.github.webhookProxyUrl,
        manifestPath: fileURLToPath(new URL("../app.yml", import.meta.url)),
        envFile: overrides.envFile ?? path.resolve(".env"),
        log: log.child({ name: "setup" }),
        ...(overrides.fetch ? { fetch: overrides.fetch } : {}),
      }),
    );
    log.info(`open ${config.server.publicUrl} to register the GitHub App`);
  }
  const httpServer = await server.start();
  await engine?.start();
  // Without an app there is no GitHub to act on: stored deliveries wait until it is configured.
  if (configured) await inbox.start();
  const stopProxy = config.github.webhookProxyUrl
    ? await startWebhookProxy(config.github.webhookProxyUrl, `http://127.0.0.1:${server.port}${config.github.webhookPath}`, log.child({ name: "proxy" }))
    : undefined;

  const url = `http://${config.server.host === "0.0.0.0" ? "localhost" : config.server.host}:${server.port}`;
  return {
    url,
    port: server.port,
    tasks,
    database,
    webhooksIdle: () => inbox.idle(),
    close: async (options = {}) => {
      draining = true;
      await stopProxy?.();
      // Deliveries the inbox holds finish; the guard refuses new ones, which GitHub lets us redeliver.
      await inbox.stop();
      await engine?.stop({ graceMs: options.graceMs ?? 0 });
      await closeListener(server, httpServer);
      await ownFlags?.close();
      if (!overrides.database) await database.close();
    },
  };
}
