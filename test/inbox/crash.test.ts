// The issue's "Done means": a burst of signed label deliveries into the real server in a child
// process, SIGKILL as soon as the last one is acknowledged, a restart on the same database, and
// then exactly one task per delivery, each with its one tracking comment. GitHub is a fake HTTP
// server in this process that holds every comment request until the kill, so the killed
// process dies with handlers caught between creating a task and writing its comment.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { trackingMarker } from "../../src/github/tracking-comment.ts";
import { installationEvent, issuesLabeled } from "../fixtures/webhooks.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, testDatabases, type TestDatabaseKind } from "../helpers/databases.ts";
import { deliver } from "../helpers/github.ts";
import { adminToken, childServerEnv, client } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { startFakeGitHub } from "./fake-github-server.ts";

const childScript = fileURLToPath(new URL("./crash-child.ts", import.meta.url));
const burst = 30;

interface Child {
  url: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

async function startChild(env: Record<string, string>): Promise<Child> {
  // `node --import tsx` runs the server in this one process, so SIGKILL really kills it.
  const proc = spawn(process.execPath, ["--import", "tsx", childScript], { env, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout!.on("data", (chunk) => (stdout += chunk));
  proc.stderr!.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) =>
    proc.on("exit", (code) => {
      if (code !== 0 && code !== null) process.stderr.write(stderr);
      resolve(code);
    }),
  );
  await waitFor(async () => /listening (\S+)/.test(stdout) || proc.exitCode !== null, "the child server listening", 60_000);
  const url = /listening (\S+)/.exec(stdout)?.[1];
  if (!url) throw new Error(`the child server did not start: ${stderr}`);
  return { url, process: proc, exited };
}

interface Delivery {
  id: string;
  status: string;
  attempts: number;
}

async function deliveries(url: string): Promise<Delivery[]> {
  return (await client(url, adminToken)("GET", "/api/admin/deliveries?limit=200")).body.deliveries as Delivery[];
}

describe.each(testDatabases)("webhook inbox crash on %s", (kind: TestDatabaseKind) => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("makes every acknowledged delivery exactly one task with one tracking comment after a SIGKILL", { timeout: 150_000 }, async () => {
    const github = await startFakeGitHub();
    cleanups.push(() => github.close());
    const dataDir = await mkdtemp(path.join(tmpdir(), "tasks-inbox-crash-"));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
    const env: Record<string, string> = {
      ...childServerEnv(github.host, dataDir),
      LOG_LEVEL: process.env["CRASH_DEBUG"] ? "info" : "silent",
    };
    if (kind === "postgres") {
      const name = await createEmptyPostgresDatabase();
      cleanups.push(() => dropPostgresDatabase(name));
      env["DATABASE_URL"] = databaseUrl(name);
    }

    // 1. The first process links the installation, then takes the burst and is killed.
    const first = await startChild(env);
    cleanups.push(async () => first.process.kill("SIGKILL"));
    const installation = await deliver(first.url, { event: "installation", payload: installationEvent("created", { repositories: ["posthog/posthog"] }) });
    expect(installation.status).toBe(202);
    await waitFor(async () => (await deliveries(first.url)).every((d) => d.status === "processed"), "the installation handled");

    github.holdComments = true;
    const ids = Array.from({ length: burst }, (_, index) => `crash-${kind}-${index + 1}`);
    const answers = await Promise.all(
      ids.map((id, index) => deliver(first.url, { event: "issues", id, payload: issuesLabeled("task", { issue: { number: index + 1, title: `Issue ${index + 1}` } }) })),
    );
    first.process.kill("SIGKILL");
    expect(answers.map((answer) => answer.status)).toEqual(ids.map(() => 202));
    expect(await first.exited).toBeNull();

    // 2. A new process on the same database finishes what the killed one left.
    github.holdComments = false;
    const second = await startChild(env);
    cleanups.push(async () => second.process.kill("SIGKILL"));
    await waitFor(async () => {
      const stored = await deliveries(second.url);
      return stored.length === burst + 1 && stored.every((d) => d.status === "processed");
    }, "every delivery processed after the restart", 90_000);

    const listed = await client(second.url, adminToken)("GET", "/api/admin/tasks?limit=100");
    const tasks = listed.body.tasks as { slug: string; issue_number: number }[];
    expect(tasks.map((task) => task.issue_number).sort((a, b) => a - b)).toEqual(ids.map((_, index) => index + 1));
    for (const task of tasks) {
      const tracking = (github.comments.get(task.issue_number) ?? []).filter((comment) => comment.body.includes(trackingMarker));
      expect(tracking.map((comment) => comment.body.includes(task.slug))).toEqual([true]);
    }

    second.process.kill("SIGTERM");
    expect(await second.exited).toBe(0);
  });
});
