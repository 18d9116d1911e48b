// The world of an end-to-end run on Temporal: the web process in this process (startServer with
// TEMPORAL_ADDRESS, which only starts workflows), workers as child processes running the real
// src/temporal/worker.ts, PostgreSQL shared by both, and a GitHub they all reach over HTTP — the
// fake REST API (test/inbox/fake-github-server.ts) in front of a real git remote served by
// `git http-backend`, under one GHE_HOST. TASKS_DATA_DIR is shared by the web process and the
// workers: a run's control-plane clone and its local sandbox are directories under it.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import type { Client } from "@temporalio/client";
import { expect } from "vitest";
import { taskWorkflowId } from "../../src/temporal/workflow-id.ts";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { startGitHttpServer, type GitHttpServer } from "../git/git-http-server.ts";
import { deliver, githubAppEnv, TestOctokit } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startFakeGitHub, type FakeGitHubServer } from "../inbox/fake-github-server.ts";
import { git, installationToken, README } from "./world.ts";

const workerScript = fileURLToPath(new URL("../../src/temporal/worker.ts", import.meta.url));
const tsx = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href;
/** src/temporal/worker.ts with a dead worker noticed in seconds (short-heartbeats.ts). */
export const shortHeartbeatWorker = fileURLToPath(new URL("./short-heartbeats.ts", import.meta.url));

export interface TemporalWorld {
  root: string;
  bare: string;
  remote: GitHttpServer;
  github: FakeGitHubServer;
  server: TestServer;
  /** What every worker of this world gets: the web process's settings, its database and data directory. */
  workerEnv: Record<string, string>;
  workers: WorkerProcess[];
}

export interface WorkerProcess {
  process: ChildProcess;
  /** The identity Temporal records for the activities it ran (the SDK's default, pid@host). */
  pid: number;
  output(): string;
  exited: Promise<number | null>;
}

let queues = 0;

export async function createTemporalWorld(options: { temporalAddress: string; agentCommand: string }): Promise<TemporalWorld> {
  const root = await mkdtemp(path.join(tmpdir(), "tasks-temporal-e2e-"));
  const bare = path.join(root, "posthog", "posthog.git");
  const seed = path.join(root, "seed");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", seed]);
  execFileSync("sh", ["-c", `printf '${README.replace("\n", "\\n")}' > README.md`], { cwd: seed });
  git(seed, "add", "README.md");
  git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "readme");
  git(seed, "push", "--quiet", bare, "main");

  const remote = await startGitHttpServer({ projectRoot: root, token: installationToken });
  const github = await startFakeGitHub({ token: installationToken, gitRemote: remote.url });
  const dataDir = path.join(root, "data");
  const env: Record<string, string> = {
    ...githubAppEnv,
    GHE_HOST: github.host,
    GHE_PROTOCOL: "http",
    TEMPORAL_ADDRESS: options.temporalAddress,
    // Its own queue: nothing of another test's workers picks up this world's work.
    TEMPORAL_TASK_QUEUE: `tasks-e2e-${process.pid}-${(queues += 1)}`,
    TASKS_DATA_DIR: dataDir,
    TASKS_SANDBOX: "local",
    TASKS_AGENT: "command",
    TASKS_AGENT_COMMAND: options.agentCommand,
  };
  const server = await startTestServer("postgres", { engine: "embedded", Octokit: TestOctokit, env });
  const workerEnv = { ...env, DATABASE_URL: server.db.url!, PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: root, LOG_LEVEL: "info" };
  const world: TemporalWorld = { root, bare, remote, github, server, workerEnv, workers: [] };
  expect((await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) })).status).toBe(202);
  await server.webhooksIdle();
  return world;
}

/** A worker process, `node --import tsx src/temporal/worker.ts`, once it polls the world's queue. */
export async function startWorker(world: TemporalWorld, options: { entry?: string } = {}): Promise<WorkerProcess> {
  // Its working directory is the world's: the worker reads a .env there, and there is none.
  const proc = spawn(process.execPath, ["--import", tsx, options.entry ?? workerScript], { cwd: world.root, env: world.workerEnv, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout!.on("data", (chunk) => (output += chunk));
  proc.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const worker: WorkerProcess = { process: proc, pid: proc.pid!, output: () => output, exited };
  world.workers.push(worker);
  await waitFor(async () => output.includes("Temporal worker is running") || proc.exitCode !== null, "the worker polling", 90_000);
  if (proc.exitCode !== null) throw new Error(`the worker exited with ${proc.exitCode}:\n${output}`);
  return worker;
}

export async function stopWorker(worker: WorkerProcess, signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
  if (worker.process.exitCode === null && worker.process.signalCode === null) worker.process.kill(signal);
  return worker.exited;
}

export async function destroyTemporalWorld(world: TemporalWorld | undefined): Promise<void> {
  if (!world) return;
  await Promise.all(world.workers.map((worker) => stopWorker(worker, "SIGKILL")));
  await world.server.close();
  await world.github.close();
  await world.remote.close();
  await rm(world.root, { recursive: true, force: true });
}

/** Labels an issue `task`; the task the webhook made. */
export async function label(world: TemporalWorld, issue: number, title = "Dark mode for the settings page") {
  const res = await deliver(world.server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: issue, title } }) });
  expect(res.status).toBe(202);
  await world.server.webhooksIdle();
  return world.server.db.prisma.task.findFirstOrThrow({ where: { issueNumber: issue } });
}

/** Done means the task's workflow execution has closed: outcome, GitHub updates and cleanup all ran. */
export async function waitForRun(world: TemporalWorld, client: Client, taskId: string, timeoutMs = 90_000) {
  const handle = client.workflow.getHandle(taskWorkflowId({ taskId, attempt: 1 }));
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`task ${taskId}'s workflow did not close within ${timeoutMs / 1000} s`)), timeoutMs);
  });
  try {
    await Promise.race([handle.result(), timeout]);
  } finally {
    clearTimeout(timer);
  }
  return world.server.tasks.getTask(undefined, taskId);
}

export const remoteBranches = (world: TemporalWorld) => git(world.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split("\n").filter(Boolean);
export const pushes = (world: TemporalWorld) => world.remote.requests.filter((r) => r.method === "POST" && r.service === "receive-pack");
export const trackingComments = (world: TemporalWorld, issue: number) => (world.github.comments.get(issue) ?? []).filter((c) => c.body.includes("tasks:tracking-comment"));
