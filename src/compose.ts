// The one composition root: builds the parts from Config for every process that runs work — the
// web process (`npm start`), the Temporal worker (`npm run worker`) and `tasks run` — so they all
// wire the same feature flags, activities, stage work and engine.
import http from "node:http";
import type { AddressInfo } from "node:net";
import path from "node:path";
import { PostHog } from "posthog-node";
import { Probot, ProbotOctokit } from "probot";
import { pino } from "pino";
import { createAgentRuntime } from "./agent/create-agent-runtime.ts";
import type { Config } from "./config.ts";
import type { PrismaClient } from "./generated/prisma/client.ts";
import { createGit, type Git } from "./git/git.ts";
import type { Logger } from "./lib/logger.ts";
import type { Metrics } from "./lib/metrics.ts";
import type { ReadinessDetails } from "./lib/readiness.ts";
import { countSandboxes } from "./sandbox/counted-sandboxes.ts";
import type { PipelineActivities } from "./pipeline/activities.ts";
import { createSandboxProvider, sandboxWarning } from "./sandbox/create-sandbox-provider.ts";
import type { Database } from "./db/open-database.ts";
import { readPrivateKey } from "./lib/private-key.ts";
import { createEmbeddedRunner, type EmbeddedRunner } from "./runner/embedded-runner.ts";
import { createLocalRepositoryHost, type LocalPullRequestText } from "./repository-host/local-repository-host.ts";
import type { GitRunner } from "./git/git-runner.ts";
import { createTasksService, type TasksService } from "./tasks/service.ts";
import { createReconciler, type ReconcilerSettings } from "./tasks/reconciler.ts";
import { createLocalFlagChecker, createPostHogFlagChecker, type FlagChecker } from "./tasks/feature-flags.ts";
import type { Orchestrator } from "./tasks/orchestrator.ts";
import { createPipelineActivities } from "./activities/create-activities.ts";
import type { GitHubClients } from "./github/github-clients.ts";
import { withGitHubFaultHandling } from "./github/github-octokit.ts";
import type { RepositoryHost } from "./stage-work/repository-host.ts";
import { createGitHubProgress } from "./activities/github-progress.ts";
import { createGitHubRepositoryHost } from "./repository-host/github-repository-host.ts";
import { createSandboxStageWork } from "./stage-work/sandbox-stage-work.ts";
import { createModelGateway } from "./gateway/create-model-gateway.ts";
import { createUnavailableStageWork, type StageWork } from "./stage-work/stage-work.ts";
import { describeMissingSetup, missingSetup, type SetupFacts } from "./tasks/setup-status.ts";

export interface Flags {
  flags: FlagChecker;
  close(): Promise<void>;
}

/** PostHog when POSTHOG_API_KEY is set, else the local flag store in the database. */
export function createFlags(config: Config, database: Database): Flags {
  if (!config.posthog) return { flags: createLocalFlagChecker(database.prisma), close: async () => undefined };
  const posthog = new PostHog(config.posthog.apiKey, { host: config.posthog.host });
  return { flags: createPostHogFlagChecker(posthog), close: () => posthog.shutdown() };
}

/** The facts tasks/setup-status.ts judges: what of GitHub and the agent this configuration has. */
export function setupFactsFrom(config: Config): SetupFacts {
  const present = (value: string | undefined) => value !== undefined && value.trim() !== "";
  return {
    publicUrl: config.server.publicUrl,
    githubAppConfigured: Boolean(config.github.appId),
    agent: config.agent.kind,
    anthropicApiKeySet: present(config.agent.anthropicApiKey),
    openaiApiKeySet: present(config.agent.openaiApiKey),
    agentCommandSet: present(config.agent.command),
  };
}

export interface ComposeDeps {
  db: PrismaClient;
  flags: FlagChecker;
  log: Logger;
  /** Replaces the configured stage work (tests). */
  stageWork?: StageWork;
  /** Probot's Octokit class for the control plane's clients (tests turn retries off). */
  Octokit?: typeof ProbotOctokit;
  /** False in a Temporal worker: the web process that saw the trigger creates the tracking comment. */
  createTrackingComments?: boolean;
  /** The server's metrics (stage steps, runs, sandboxes, GitHub calls, the runner's queue). */
  metrics?: Metrics;
}

/** The GitHub App's own clients for the control plane, when the app is configured. */
export function createGitHubClients(config: Config, privateKey: string | undefined, Octokit?: typeof ProbotOctokit, metrics?: Metrics): GitHubClients | undefined {
  if (!config.github.appId || !privateKey) return undefined;
  const probot = new Probot({ appId: config.github.appId, privateKey, baseUrl: config.github.apiUrl, log: pino({ level: "silent" }), Octokit: withGitHubFaultHandling(Octokit ?? ProbotOctokit, metrics) });
  return { auth: (installationId?: number) => probot.auth(installationId) };
}

export function composeActivities(config: Config, deps: ComposeDeps & { privateKey: string | undefined }): PipelineActivities {
  const github = createGitHubClients(config, deps.privateKey, deps.Octokit, deps.metrics);
  const work = deps.stageWork ?? (github ? createGitHubStageWorkFromConfig(config, deps, github) : createUnavailableStageWork(describeMissingSetup(missingSetup(setupFactsFrom(config)))));
  const progress = github ? createGitHubProgress({ db: deps.db, github, publicUrl: config.server.publicUrl, log: deps.log.child({ name: "progress" }), createComment: deps.createTrackingComments ?? true, warning: sandboxWarning(config) }) : undefined;
  return createPipelineActivities({ db: deps.db, flags: deps.flags, work, log: deps.log, ...(progress ? { progress } : {}), ...(deps.metrics ? { metrics: deps.metrics } : {}) });
}

function createGitHubStageWorkFromConfig(config: Config, deps: ComposeDeps, github: GitHubClients): StageWork {
  const git = createControlGit(config);
  const log = deps.log.child({ name: "stage-work" });
  const host = createGitHubRepositoryHost({ db: deps.db, github, git, apiUrl: config.github.apiUrl, webUrl: config.github.webUrl, publicUrl: config.server.publicUrl, log });
  return createSandboxStageWorkFromConfig(config, { db: deps.db, host, git, log, publicUrl: config.server.publicUrl, ...(deps.metrics ? { metrics: deps.metrics } : {}) });
}

/** The control plane's git: only PATH and HOME of the environment reach it. */
export const createControlGit = (config: Config) => createGit({ env: { PATH: config.system.path, HOME: config.system.home } });

/**
 * Where the model gateway is, for the sandboxes this process runs: an E2B sandbox in the cloud
 * reaches it through TASKS_PUBLIC_URL; so does a Temporal worker's local sandbox (through the
 * worker's socket), since the gateway is the web process's and the worker may be on another
 * machine; the embedded runner's local sandbox reaches this very process on 127.0.0.1.
 */
export function modelGatewayUrl(config: Config): string {
  const remote = config.sandbox.kind === "e2b" || config.orchestrator.kind === "temporal";
  return remote ? config.server.publicUrl : `http://127.0.0.1:${config.server.port}`;
}

/** How long one agent step may run in its sandbox. */
const agentTimeoutMs = 45 * 60_000;

/**
 * How long a stage may go without progress before the reconciler fails its run: an agent stage
 * gets its three tries (both engines retry an agent step twice), each with room for the retry
 * pause and Temporal's heartbeat timeout; other stages do bookkeeping and publishing.
 */
export const stageTimeLimits = { agentMs: 3 * (agentTimeoutMs + 5 * 60_000), otherMs: 15 * 60_000, marginMs: 10 * 60_000 };

/** The stage work for a repository host, with the sandboxes and agents the configuration names. */
export function createSandboxStageWorkFromConfig(
  config: Config,
  deps: { db: PrismaClient; host: RepositoryHost; git: Git; log: Logger; publicUrl: string | null; gatewayUrl?: string; metrics?: Metrics },
): StageWork {
  const runtimes = new Map<string, ReturnType<typeof createAgentRuntime>>();
  const hostGatewayUrl = deps.gatewayUrl ?? modelGatewayUrl(config);
  const sandboxes = countSandboxes(createSandboxProvider(config, { gatewayUrl: hostGatewayUrl, log: deps.log.child({ name: "sandbox" }) }));
  deps.metrics?.observe({ activeSandboxes: sandboxes.active });
  return createSandboxStageWork({
    db: deps.db,
    host: deps.host,
    sandboxes,
    webUrl: config.github.webUrl,
    publicUrl: deps.publicUrl,
    workspaceRoot: path.join(config.dataDir, "repos"),
    sandboxTimeoutMs: 60 * 60_000,
    agentTimeoutMs,
    git: deps.git,
    // A Temporal activity's effects are done when it ends: the next may run on another worker.
    awaitStageReports: config.orchestrator.kind === "temporal",
    // An isolated local sandbox reaches the gateway on its own loopback, bridged to the host's.
    gateway: { url: sandboxes.gatewayUrl ?? hostGatewayUrl, runTokenBudget: config.gateway.runTokenBudget },
    agentFor: (runtime) => {
      const kind = runtime ?? config.agent.kind;
      let agent = runtimes.get(kind);
      if (!agent) {
        // Codex skips its own sandbox inside E2B's and bubblewrap's, which are the isolation boundary there.
        agent = createAgentRuntime({ ...config.agent, kind }, { sandboxKind: config.sandbox.kind });
        runtimes.set(kind, agent);
      }
      return agent;
    },
    log: deps.log,
  });
}

export interface Engine {
  orchestrator: Orchestrator;
  start(): Promise<void>;
  /** graceMs: how long a step in flight may take to finish before it is parked (embedded runner). */
  stop(options?: { graceMs?: number }): Promise<void>;
  /** /readyz: resolves when the engine can take runs (the runner is started, Temporal answers), else throws why not. */
  ready(deadlineMs: number): Promise<ReadinessDetails>;
}

export interface EngineOptions {
  /** The run reconciler's pauses and limits (tests shorten them); stageTimeLimits by default. */
  reconciler?: ReconcilerSettings;
}

/**
 * The embedded runner by default; a Temporal client when TEMPORAL_ADDRESS is set (its worker
 * runs the work). Either way the run reconciler watches for runs no engine took or kept going.
 */
export async function createEngine(config: Config, database: Database, deps: Omit<ComposeDeps, "db">, options: EngineOptions = {}): Promise<Engine> {
  const watch = (orchestrator: Orchestrator) =>
    createReconciler({
      db: database.prisma,
      orchestrator,
      log: deps.log.child({ name: "reconciler" }),
      options: { ...options.reconciler, stageLimits: { ...stageTimeLimits, ...options.reconciler?.stageLimits } },
    });
  if (config.orchestrator.kind === "temporal") {
    const { connectTemporalOrchestrator } = await import("./temporal/temporal-orchestrator.ts");
    // Lazy: a Temporal server that is down does not stop the web process; runs wait queued.
    const orchestrator = connectTemporalOrchestrator(config.orchestrator);
    const { address } = config.orchestrator;
    const reconciler = watch(orchestrator);
    return {
      orchestrator,
      start: () => reconciler.start(),
      stop: async () => {
        await reconciler.stop();
        await orchestrator.close();
      },
      ready: async (deadlineMs) => {
        try {
          await orchestrator.ping(deadlineMs);
        } catch (error) {
          throw new Error(`Temporal at ${address} does not answer: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
        }
        return { engine: "temporal" };
      },
    };
  }
  const activities = composeActivities(config, { ...deps, db: database.prisma, log: deps.log.child({ name: "activities" }), privateKey: readPrivateKey(config) });
  const runner = createEmbeddedRunner({ db: database.prisma, activities, concurrency: config.orchestrator.concurrency, log: deps.log.child({ name: "runner" }) });
  deps.metrics?.observe({ runnerLoad: runner.load });
  const reconciler = watch(runner);
  // Ready between a finished start and the beginning of a stop: runs taken then are executed.
  let running = false;
  return {
    orchestrator: runner,
    start: async () => {
      const resumed = await runner.resume();
      if (resumed > 0) deps.log.info({ resumed }, "resumed unfinished runs");
      await reconciler.start();
      running = true;
    },
    stop: async (options) => {
      running = false;
      await reconciler.stop();
      await runner.stop(options);
    },
    ready: async () => {
      if (!running) throw new Error("the embedded runner is not running (starting or shutting down)");
      return { engine: "embedded", ...runner.load() };
    },
  };
}

/** `tasks run` has no web server: the model gateway gets one of its own, on 127.0.0.1 only. */
export async function startLocalModelGateway(config: Config, database: Database, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const handle = createModelGateway({ db: database.prisma, settings: config.gateway, log: log.child({ name: "gateway" }) });
  const server = http.createServer((req, res) => void handle(req, res).then((handled) => handled || res.writeHead(404).end()));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export interface LocalRunDeps {
  database: Database;
  /** The model gateway this run's agents call (startLocalModelGateway). */
  gatewayUrl: string;
  /** The local repository's top-level directory and the git that reads it. */
  repoPath: string;
  runGit: GitRunner;
  /** Receives the pull request the run would open (title and body). */
  onProposed(text: LocalPullRequestText): void;
  /** Called as the run moves on (stage entered, finished): the CLI prints progress. */
  report(): Promise<void>;
  log: Logger;
}

/** `tasks run`: the configured sandbox and agent over a local repository, run by the embedded engine, one run at a time. */
export function composeLocalRun(config: Config, deps: LocalRunDeps): { runner: EmbeddedRunner; tasks: TasksService } {
  const { database, log } = deps;
  const db = database.prisma;
  const git = createControlGit(config);
  const host = createLocalRepositoryHost({ repoPath: deps.repoPath, git, runGit: deps.runGit, onProposed: deps.onProposed });
  const work = createSandboxStageWorkFromConfig(config, { db, host, git, log, publicUrl: null, gatewayUrl: deps.gatewayUrl });
  const flags = createLocalFlagChecker(db);
  const activities = createPipelineActivities({ db, flags, work, log, progress: { report: deps.report } });
  const runner = createEmbeddedRunner({ db, activities, concurrency: 1, log });
  return { runner, tasks: createTasksService({ db, flags, orchestrator: runner, log }) };
}
