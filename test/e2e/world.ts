// The world of an end-to-end run: the real server (signed webhooks in, the embedded engine, the
// configured sandbox and agent), a real git remote served by `git http-backend` holding
// posthog/posthog with a README, and GitHub's REST API faked at the edge through nock. A test
// names the agent (and anything else) through the server's environment.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect } from "vitest";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { startGitHttpServer, type GitHttpServer } from "../git/git-http-server.ts";
import type { TestDatabaseKind } from "../helpers/databases.ts";
import { allowOnlyLocalhost, deliver, githubAppEnv, TestOctokit } from "../helpers/github.ts";
import { startTestServer, type TestServer } from "../helpers/server.ts";
import { FakeGitHub } from "./fake-github.ts";

/** The installation token the fake GitHub mints and the git remote accepts. */
export const installationToken = "ghs_e2eInstallationToken0123456789abcdefAB";

export const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { PATH: process.env["PATH"] ?? "", HOME: cwd, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } }).trim();

export const README = "# PostHog\n";

export interface World {
  root: string;
  remote: GitHttpServer;
  server: TestServer;
  github: FakeGitHub;
  bare: string;
}

export interface WorldOptions {
  /** The server's environment beyond the GitHub App's and the git remote's (TASKS_AGENT, …). */
  env: Record<string, string>;
  database?: TestDatabaseKind;
}

export async function createWorld(options: WorldOptions): Promise<World> {
  const root = await mkdtemp(path.join(tmpdir(), "tasks-e2e-"));
  const bare = path.join(root, "posthog", "posthog.git");
  const seed = path.join(root, "seed");
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", seed]);
  git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "--allow-empty", "-m", "root");
  execFileSync("sh", ["-c", `printf '${README.replace("\n", "\\n")}' > README.md`], { cwd: seed });
  git(seed, "add", "README.md");
  git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "readme");
  git(seed, "push", "--quiet", bare, "main");

  const remote = await startGitHttpServer({ projectRoot: root, token: installationToken });
  const host = new URL(remote.url).host;
  allowOnlyLocalhost();
  const github = new FakeGitHub(`http://${host}`, installationToken, { octocat: "write" });
  const server = await startTestServer(options.database ?? "pglite", {
    engine: "embedded",
    Octokit: TestOctokit,
    env: { ...githubAppEnv, GHE_HOST: host, GHE_PROTOCOL: "http", TASKS_SANDBOX: "local", ...options.env },
  });
  expect((await deliver(server.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) })).status).toBe(202);
  await server.webhooksIdle();
  return { root, remote, server, github, bare };
}

export async function destroyWorld(world: World | undefined): Promise<void> {
  if (!world) return;
  await world.server.close();
  await world.remote.close();
  await rm(world.root, { recursive: true, force: true });
}

/** Labels issue 7 `task`; the task the webhook made. */
export async function label(world: World, title = "Dark mode for the settings page") {
  const res = await deliver(world.server.url, { event: "issues", payload: issuesLabeled("task", { issue: { number: 7, title } }) });
  expect(res.status).toBe(202);
  await world.server.webhooksIdle();
  return world.server.db.prisma.task.findFirstOrThrow({ where: { issueNumber: 7 } });
}

/** Done means the engine recorded the run's finish step: outcome, GitHub updates and cleanup all ran. */
export async function waitForRun(world: World, taskId: string, attempt = 1) {
  for (let i = 0; i < 1800; i += 1) {
    const steps = await world.server.db.prisma.runStep.findMany({ where: { run: { taskId, attempt } } });
    if (steps.some((step) => (step.command as { type: string }).type === "finish")) return world.server.tasks.getTask(undefined, taskId);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error("the run did not finish in time");
}

export async function labelAndWait(world: World, title?: string) {
  const task = await label(world, title);
  return waitForRun(world, task.id);
}

export const remoteBranches = (world: World) => git(world.bare, "for-each-ref", "--format=%(refname:short)", "refs/heads/").split("\n").filter(Boolean);
export const trackingComment = (world: World) => world.github.comments.get(7)?.find((c) => c.body.includes("tasks:tracking-comment"))?.body ?? "";
