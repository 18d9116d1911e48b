// Issue #10's scenario on a real Temporal server: the web process starts while Temporal is down,
// takes a task (its run stays queued), and once a Temporal server and a worker come up on that
// address the reconciler hands the run over and the task runs to the end. Only the stage work
// (sandbox, agent, PR) is a fake.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { Connection } from "@temporalio/client";
import { DefaultLogger, NativeConnection, Runtime, Worker } from "@temporalio/worker";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { loadConfig } from "../../src/config.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { wrapActivities } from "../../src/temporal/activities.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createFakeStageWork } from "../helpers/fake-stage-work.ts";
import { client, freePort, localServerEnv, seedTeam } from "../helpers/server.ts";
import { waitFor } from "../helpers/wait-for.ts";
import { findTemporalServer, temporalTestServer } from "./temporal-server.ts";

const found = findTemporalServer(process.env);
const server = temporalTestServer(process.env);
// This test starts its own server on a port it chose, so it needs the CLI, not an existing server.
const cli = found?.kind === "cli" ? found.path : undefined;
const log = pino({ level: process.env["DEBUG_RECONCILER"] ? "debug" : "silent" });
const workflowsPath = fileURLToPath(new URL("../../src/temporal/workflows.ts", import.meta.url));

async function canConnect(address: string): Promise<boolean> {
  try {
    const connection = await Connection.connect({ address, connectTimeout: 1_000 });
    await connection.close();
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(server.skip || !cli)("a task created while Temporal is down", { timeout: 240_000 }, () => {
  let db: TestDatabase | undefined;
  let web: RunningServer | undefined;
  let temporal: ChildProcess | undefined;
  let dataDir: string | undefined;

  afterAll(async () => {
    await web?.close();
    if (temporal?.pid) temporal.kill("SIGTERM");
    await db?.close();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it("runs once Temporal and a worker come up: the web process started anyway and the reconciler handed the run over", async () => {
    Runtime.install({ logger: new DefaultLogger("WARN") });
    db = await openTestDatabase(testDatabases[0]!);
    dataDir = await mkdtemp(path.join(tmpdir(), "tasks-reconciler-"));
    const port = await freePort();
    const address = `127.0.0.1:${port}`;
    const taskQueue = `tasks-reconciler-${randomUUID()}`;
    const config = loadConfig({
      ...(await localServerEnv(dataDir)),
      TEMPORAL_ADDRESS: address,
      TEMPORAL_TASK_QUEUE: taskQueue,
      TASKS_AGENT: "command",
      TASKS_AGENT_COMMAND: "true",
    });

    // Nothing listens on the Temporal address yet: the web process must start all the same.
    web = await startServer(config, log, { database: db, reconciler: { intervalMs: 200, start: { graceMs: 0, firstMs: 200, maxMs: 1_000 } } });
    const seed = await seedTeam(web.url);
    const api = client(web.url, seed.apiKey);
    const created = await api("POST", "/api/tasks", {
      title: "Fix the flaky ingestion test",
      description: "It fails one run in ten.",
      origin_product: "user_created",
      user_id: seed.userId,
      repository: seed.repository,
    });
    expect(created.status).toBe(201);
    const taskId = created.body.id as string;
    const queued = await api("GET", `/api/tasks/${taskId}`);
    expect(queued.body.runs).toEqual([expect.objectContaining({ status: "queued", engine_id: null })]);
    expect(queued.body.events.map((e: { type: string }) => e.type)).toContain("run_start_deferred");

    temporal = spawn(cli!, ["server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", String(port), "--http-port", String(await freePort()), "--metrics-port", String(await freePort()), "--log-level", "error"], { stdio: "ignore" });
    await waitFor(() => canConnect(address), "the Temporal dev server to accept connections", 60_000);

    const work = createFakeStageWork();
    const activities = createPipelineActivities({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), work, log });
    const connection = await NativeConnection.connect({ address });
    try {
      const worker = await Worker.create({ connection, namespace: "default", taskQueue, workflowsPath, activities: wrapActivities(activities) });
      await worker.runUntil(
        waitFor(async () => (await api("GET", `/api/tasks/${taskId}`)).body.status === "completed", "the task to complete", 120_000),
      );
    } finally {
      await connection.close();
    }

    const done = await api("GET", `/api/tasks/${taskId}`);
    expect(done.body.runs).toEqual([expect.objectContaining({ status: "completed", engine: "temporal", engine_id: `task-${taskId}` })]);
    expect(work.agentCalls.map((call) => call.role)).toEqual(["planner", "coder", "reviewer"]);
    expect(work.publishCalls).toHaveLength(1);
  });
});
