// Graceful shutdown of the real web process (`node --import tsx src/main.ts`, as the Docker image
// runs it): a task created through the API runs on the embedded engine with the local sandbox and
// the `command` agent; SIGTERM arrives while the coder works. The process refuses writes (503 and
// Retry-After) while it drains, lets the coder finish, parks the run and exits 0; restarted on
// the same data it completes the task, each agent and the pull request exactly once. GitHub is a
// fake HTTP server in this process (a child process is out of nock's reach) in front of a real
// git remote.
//
// The agent (scripted-agent.ts) announces itself and waits for the test's go: the test plays the
// model, so it counts every agent invocation and decides when each one finishes, without timing.
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { startGitHttpServer } from "../git/git-http-server.ts";
import { startFakeGitHub } from "../inbox/fake-github-server.ts";
import { issuesLabeled } from "../fixtures/webhooks.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, testDatabases, type TestDatabaseKind } from "../helpers/databases.ts";
import { deliver } from "../helpers/github.ts";
import { adminToken, childServerEnv, client, seedTeam } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { agentScript, coderLine, createModel, type Model } from "./scripted-agent.ts";

const mainScript = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const token = "ghs_shutdownInstallationToken0123456789ab";

interface Child {
  url: string;
  process: ChildProcess;
  exited: Promise<number | null>;
  output(): string;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  // node itself, not the tsx CLI: the signal must reach the process that drains.
  const proc = spawn(process.execPath, ["--import", "tsx", mainScript], { env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  proc.stdout!.on("data", (chunk) => (output += chunk));
  proc.stderr!.on("data", (chunk) => (output += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => resolve(code)));
  const listening = () => /"url":"(http:\/\/[^"]+)"[^\n]*"msg":"Tasks is running"/.exec(output)?.[1];
  await waitFor(async () => listening() !== undefined || proc.exitCode !== null, "the child server listening", 60_000);
  const url = listening();
  if (!url) throw new Error(`the child server did not start:\n${output}`);
  return { url, process: proc, exited, output: () => output };
}

interface World {
  env: Record<string, string>;
  dataDir: string;
  bare: string;
  github: Awaited<ReturnType<typeof startFakeGitHub>>;
}

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function createWorld(kind: TestDatabaseKind, extraEnv: Record<string, string> = {}): Promise<World> {
  const root = await mkdtemp(path.join(tmpdir(), "tasks-shutdown-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const bare = path.join(root, "remote", "posthog", "posthog.git");
  const seed = path.join(root, "seed");
  const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=Seed", "-c", "user.email=seed@example.com", ...args], { cwd, env: { PATH: process.env["PATH"] ?? "", HOME: root, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } });
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", seed]);
  await writeFile(path.join(seed, "README.md"), "# PostHog\n");
  git(seed, "add", "README.md");
  git(seed, "commit", "--quiet", "-m", "readme");
  git(seed, "push", "--quiet", bare, "main");

  const remote = await startGitHttpServer({ projectRoot: path.join(root, "remote"), token });
  cleanups.push(() => remote.close());
  const github = await startFakeGitHub({ token, gitRemote: remote.url });
  cleanups.push(() => github.close());
  const dataDir = path.join(root, "data");
  execFileSync("mkdir", ["-p", dataDir]);
  const env: Record<string, string> = {
    ...childServerEnv(github.host, dataDir),
    TASKS_SANDBOX: "local",
    TASKS_AGENT: "command",
    TASKS_AGENT_COMMAND: agentScript,
    // Long enough that only the test decides when the coder ends.
    TASKS_SHUTDOWN_GRACE_SECONDS: "300",
    LOG_LEVEL: "info",
    LOG_FORMAT: "json",
    ...extraEnv,
  };
  if (kind === "postgres") {
    const name = await createEmptyPostgresDatabase();
    cleanups.push(() => dropPostgresDatabase(name));
    env["DATABASE_URL"] = databaseUrl(name);
  }
  return { env, dataDir, bare, github };
}

async function createTask(url: string) {
  const seed = await seedTeam(url, "PostHog", { repository: "posthog/posthog" });
  const created = await client(url, seed.apiKey)("POST", "/api/tasks", { title: "Note the restart", description: "Add a note to the README.", origin_product: "user_created", user_id: seed.userId, repository: "posthog/posthog" });
  expect(created.status).toBe(201);
  return { id: created.body.id as string, apiKey: seed.apiKey, userId: seed.userId };
}

const taskDetail = async (url: string, apiKey: string, id: string) => (await client(url, apiKey)("GET", `/api/tasks/${id}`)).body;

/** Runs the resumed task to its end, releasing each agent as it starts. */
async function finishOn(child: Child, model: Model, roles: string[], task: { id: string; apiKey: string }) {
  for (const role of roles) await model.release(await model.awaitStart(role), role);
  await waitFor(async () => ["completed", "failed"].includes((await taskDetail(child.url, task.apiKey, task.id)).status), "the task finishing", 90_000);
  return taskDetail(child.url, task.apiKey, task.id);
}

/** A server child with a task whose planner has finished: the coder is about to start. */
async function startTaskPastPlan(kind: TestDatabaseKind) {
  const world = await createWorld(kind);
  const model = createModel(world.dataDir);
  const first = await startChild(world.env);
  cleanups.push(async () => first.process.kill("SIGKILL"));
  const task = await createTask(first.url);
  await model.release(await model.awaitStart("planner"), "planner");
  return { world, model, first, task };
}

describe.each(testDatabases)("graceful shutdown of the web process on %s", (kind: TestDatabaseKind) => {
  it("refuses writes while it drains, lets the running step finish, exits 0, and completes the task once after a restart", { timeout: 240_000 }, async () => {
    const { world, model, first, task } = await startTaskPastPlan(kind);
    const coder = await model.awaitStart("coder");

    first.process.kill("SIGTERM");
    // Draining: new tasks and webhook deliveries are refused with a time to retry, reads still answer.
    const api = client(first.url, task.apiKey);
    // Wait for the signal to be taken (readiness says so) with a read: a POST sent before it
    // would really create a task, which a loaded machine made this test see.
    await waitFor(async () => (await fetch(`${first.url}/readyz`)).status === 503, "the server draining");
    const refused = await api("POST", "/api/tasks", { title: "Too late", description: "d", origin_product: "user_created", user_id: task.userId, repository: "posthog/posthog" });
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({ error: { code: "draining", message: expect.stringContaining("shutting down") } });
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await deliver(first.url, { event: "issues", payload: issuesLabeled("task") })).status).toBe(503);
    expect((await api("GET", `/api/tasks/${task.id}`)).status).toBe(200);
    expect(first.process.exitCode).toBeNull();

    // The coder finishes within the grace; the run is parked before Review and the process exits.
    await model.release(coder, "coder");
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain("run paused for shutdown");
    expect(first.output()).toContain("shut down cleanly");

    const second = await startChild(world.env);
    cleanups.push(async () => second.process.kill("SIGKILL"));
    const done = await finishOn(second, model, ["reviewer"], task);
    expect(done).toMatchObject({ status: "completed", stage: { key: "complete" } });
    expect(done.runs).toEqual([expect.objectContaining({ status: "completed", error: null })]);
    // Each agent once, the refused task never created, one pull request, the coder's change once.
    expect(model.started).toEqual(["planner", "coder", "reviewer"]);
    expect((await client(second.url, adminToken)("GET", "/api/admin/tasks?limit=10")).body.tasks).toHaveLength(1);
    expect(world.github.callsTo("POST", /\/pulls$/)).toHaveLength(1);
    const branch = String(done.branch);
    const readme = execFileSync("git", ["show", `${branch}:README.md`], { cwd: world.bare, encoding: "utf8" });
    expect(readme.split(coderLine)).toHaveLength(2);

    // Idle, it drains at once.
    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });

  it("exits at once on a second signal; the interrupted step runs again after the restart, the steps before it do not", { timeout: 240_000 }, async () => {
    const { world, model, first, task } = await startTaskPastPlan(kind);
    await model.awaitStart("coder");

    first.process.kill("SIGTERM");
    await waitFor(async () => (await deliver(first.url, { event: "issues", payload: issuesLabeled("task") })).status === 503, "the process draining");
    first.process.kill("SIGTERM");
    expect(await first.exited).toBe(1);
    expect(first.output()).toContain("second signal");

    const second = await startChild(world.env);
    cleanups.push(async () => second.process.kill("SIGKILL"));
    const done = await finishOn(second, model, ["coder", "reviewer"], task);
    expect(done).toMatchObject({ status: "completed" });
    expect(done.runs).toHaveLength(1);
    expect(model.started).toEqual(["planner", "coder", "coder", "reviewer"]);
    expect(world.github.callsTo("POST", /\/pulls$/)).toHaveLength(1);
    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
