// The world the GitHub-facing benchmarks run in: the real server in this process (the embedded
// engine, the local sandbox, a `command` agent, Probot's own Octokit with its retries and
// throttling), a real git remote served by `git http-backend`, and the GitHub stand-in
// (test/inbox/fake-github-server.ts) in front of it under one GHE_HOST, so every GitHub call is
// real HTTP on loopback. Deliveries are signed here; no nock is loaded.
import { execFileSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { installationEvent, issuesLabeled } from "../test/fixtures/webhooks.ts";
import { fakeAgentCommand } from "../test/fixtures/fake-agent.ts";
import { startGitHttpServer, type GitHttpServer } from "../test/git/git-http-server.ts";
import type { TestDatabaseKind } from "../test/helpers/databases.ts";
import { startTestServer, type TestServer } from "../test/helpers/server.ts";
import { startFakeGitHub, type FakeGitHubCall, type FakeGitHubServer } from "../test/inbox/fake-github-server.ts";
import { postDelivery, signDelivery, type SignedDelivery } from "./bench-helpers.ts";

export const benchSecret = "bench-webhook-secret";
const installationToken = "ghs_benchInstallationToken0123456789abcdefAB";
const privateKey = generateKeyPairSync("rsa", { modulusLength: 2048 }).privateKey.export({ type: "pkcs1", format: "pem" }).toString();
const gitEnv = (home: string) => ({ PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: home, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" });

/** The fake agent (plan, a README line, approve), after `secondsPerRole` of thinking per role. */
export function benchAgentCommand(secondsPerRole = 0): string {
  return `${secondsPerRole > 0 ? `sleep ${secondsPerRole}\n` : ""}${fakeAgentCommand("normal")}`;
}

export interface BenchWorldOptions {
  agentCommand: string;
  db?: TestDatabaseKind;
  /** Extra files in the remote's main branch besides the README (spread over folders of 100). */
  files?: number;
  secondaryLimitPerMinute?: number;
  env?: Record<string, string>;
  /** false: runs are only recorded, never started (the trigger's own GitHub calls still happen). */
  runTasks?: boolean;
}

export interface BenchWorld {
  root: string;
  github: FakeGitHubServer;
  remote: GitHttpServer;
  server: TestServer;
  webhookUrl: string;
  /** Sends a delivery; performance.now() when it was sent and the answer's status. */
  send(delivery: SignedDelivery): Promise<{ sentAt: number; status: number }>;
  /** A signed `issues.labeled` (label `task`) for an issue, titled "Bench issue N" unless told. */
  labelDelivery(issue: number, title?: string): SignedDelivery;
  /** Resolves once the task made for `issue` has recorded its run's finish step. */
  waitForFinish(issue: number, timeoutMs: number, pollMs?: number): Promise<{ taskId: string; prUrl: string | null; finishedAt: number }>;
  /** performance.now() at which the stand-in received the PR creation for this URL. */
  pullCreatedAt(prUrl: string): number | undefined;
  close(): Promise<void>;
}

async function seedRemote(root: string, files: number): Promise<string> {
  const bare = path.join(root, "posthog", "posthog.git");
  const seed = path.join(root, "seed");
  const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, env: gitEnv(root), stdio: ["ignore", "ignore", "inherit"] });
  execFileSync("git", ["init", "--quiet", "--bare", "--initial-branch=main", bare]);
  execFileSync("git", ["init", "--quiet", "--initial-branch=main", seed]);
  await writeFile(path.join(seed, "README.md"), "# PostHog\n");
  for (let index = 0; index < files; index += 1) {
    const folder = path.join(seed, "src", `module-${Math.floor(index / 100)}`);
    if (index % 100 === 0) await mkdir(folder, { recursive: true });
    await writeFile(path.join(folder, `file-${index}.ts`), `export const value${index} = ${index};\n// ${"x".repeat(200)}\n`);
  }
  git(seed, "add", "-A");
  git(seed, "-c", "user.name=Seed", "-c", "user.email=seed@example.com", "commit", "--quiet", "-m", "seed");
  git(seed, "push", "--quiet", bare, "main");
  await rm(seed, { recursive: true, force: true });
  return bare;
}

export async function createBenchWorld(options: BenchWorldOptions): Promise<BenchWorld> {
  const root = await mkdtemp(path.join(tmpdir(), "tasks-bench-world-"));
  await seedRemote(root, options.files ?? 0);
  const remote = await startGitHttpServer({ projectRoot: root, token: installationToken });
  const github = await startFakeGitHub({
    token: installationToken,
    gitRemote: remote.url,
    ...(options.secondaryLimitPerMinute === undefined ? {} : { secondaryLimitPerMinute: options.secondaryLimitPerMinute }),
  });
  const server = await startTestServer(options.db ?? "postgres", {
    ...(options.runTasks === false ? {} : { engine: "embedded" as const }),
    env: {
      APP_ID: "12345",
      PRIVATE_KEY: privateKey,
      WEBHOOK_SECRET: benchSecret,
      TASKS_PUBLIC_URL: "https://tasks.example.com",
      GHE_HOST: github.host,
      GHE_PROTOCOL: "http",
      TASKS_SANDBOX: "local",
      TASKS_AGENT: "command",
      TASKS_AGENT_COMMAND: options.agentCommand,
      ...options.env,
    },
  });
  const webhookUrl = `${server.url}/api/github/webhooks`;
  const send = async (delivery: SignedDelivery) => {
    const sentAt = performance.now();
    const { status } = await postDelivery(webhookUrl, delivery);
    return { sentAt, status };
  };
  const installed = await send(signDelivery(benchSecret, "installation", installationEvent("created", { repositories: ["posthog/posthog"] })));
  if (installed.status !== 202) throw new Error(`the installation delivery got ${installed.status}`);
  await server.webhooksIdle();

  return {
    root,
    github,
    remote,
    server,
    webhookUrl,
    send,
    labelDelivery: (issue, title = `Bench issue ${issue}`) => signDelivery(benchSecret, "issues", issuesLabeled("task", { issue: { number: issue, title } })),
    async waitForFinish(issue, timeoutMs, pollMs = 50) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const task = await server.db.prisma.task.findFirst({ where: { issueNumber: issue } });
        if (task) {
          const steps = await server.db.prisma.runStep.findMany({ where: { run: { taskId: task.id } }, select: { command: true } });
          if (steps.some((step) => (step.command as { type: string }).type === "finish")) {
            const finishedAt = performance.now();
            const done = await server.db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
            return { taskId: task.id, prUrl: done.prUrl, finishedAt };
          }
        }
        await new Promise((resolve) => setTimeout(resolve, pollMs));
      }
      throw new Error(`the task for issue ${issue} did not finish within ${timeoutMs / 1000} s`);
    },
    pullCreatedAt(prUrl) {
      const creations = github.callsTo("POST", /^\/repos\/[^/]+\/[^/]+\/pulls$/);
      const index = github.pulls.findIndex((pull) => pull.html_url === prUrl);
      return index >= 0 ? creations[index]?.at : undefined;
    },
    async close() {
      await server.close();
      await github.close();
      await remote.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Calls the stand-in answered, by kind: content-creating writes, reads, token mints. */
export function classifyCalls(calls: FakeGitHubCall[]) {
  const tokens = calls.filter((call) => /access_tokens$|^\/installation\/token$/.test(call.path));
  const rest = calls.filter((call) => !tokens.includes(call));
  return { tokens, writes: rest.filter((call) => call.method !== "GET"), reads: rest.filter((call) => call.method === "GET") };
}

/** A route with its numbers and shas replaced, e.g. PATCH /repos/:owner/:repo/check-runs/:id. */
export function routeOf(method: string, callPath: string): string {
  const route = decodeURIComponent(callPath)
    .replace(/^\/repos\/[^/]+\/[^/]+/, "/repos/:owner/:repo")
    .replace(/\/[0-9a-f]{40}(?=\/|$)/g, "/:sha")
    .replace(/\/\d+(?=\/|$)/g, "/:n")
    .replace(/\/collaborators\/[^/]+/, "/collaborators/:login")
    .replace(/\/git\/refs\/heads\/.+$/, "/git/refs/heads/:branch");
  return `${method} ${route}`;
}

/** How many calls went to each route, most first. */
export function callsByRoute(calls: FakeGitHubCall[]): Array<[route: string, count: number]> {
  const counts = new Map<string, number>();
  for (const call of calls) {
    const route = routeOf(call.method, call.path);
    counts.set(route, (counts.get(route) ?? 0) + 1);
  }
  return [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
}
