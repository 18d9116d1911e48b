// #11 hardening, concurrency: two things that happen at once in a busy app. A run's late end
// ("completed", from a step that finished just as a cancel came in) must not undo the cancel or
// overwrite the task's newer run; and a burst of API requests that finds every database connection
// taken must get fast 503s with Retry-After, not hang until the client gives up.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { loadConfig } from "../../src/config.ts";
import { openDatabase, type Database } from "../../src/db/open-database.ts";
import { startServer, type RunningServer } from "../../src/server.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createFakeStageWork } from "../helpers/fake-stage-work.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { adminToken, client, localServerEnv } from "../helpers/server.ts";

const log = pino({ level: "silent" });

describe.each(testDatabases)("a late 'completed' after 'cancelled' on %s", (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());

  let teamCounter = 0;
  /** A task whose first run has entered Code, as the engine left it when the cancel arrived. */
  async function runningTask() {
    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const activities = createPipelineActivities({ db: db.prisma, flags, work: createFakeStageWork(), log });
    const n = ++teamCounter;
    const team = await tasks.createTeam(`Late end team ${n}`);
    await tasks.addTeamMember(team.id, { externalId: `late-end-user-${n}` });
    await tasks.addIntegration(team.id, { installationId: 30_000 + n, repositories: [`late/repo-${n}`] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Fix it", description: "d", originProduct: "user_created", userId: `late-end-user-${n}`, repository: `late/repo-${n}` });
    const run = await db.prisma.taskRun.findFirstOrThrow({ where: { taskId: task.id } });
    const ref = { taskId: task.id, runId: run.id, attempt: run.attempt };
    await activities.enterStage({ ...ref, stage: "code", stageName: "Code" });
    /** The engine's finish step for that run, with a pull request opened. */
    const lateCompletion = () =>
      activities.finish({ ...ref, outcome: { status: "completed", prUrl: "https://github.com/late/repo/pull/1", note: null } });
    return { tasks, task, run, lateCompletion };
  }
  const eventTypes = async (taskId: string) => (await db.prisma.taskEvent.findMany({ where: { taskId }, orderBy: { id: "asc" } })).map((event) => event.type);

  it("leaves the task and its run cancelled, with no completion in the log", async () => {
    const { tasks, task, run, lateCompletion } = await runningTask();
    await tasks.cancelTask(undefined, task.id, "operator");
    await lateCompletion();
    const after = await db.prisma.task.findUniqueOrThrow({ where: { id: task.id } });
    expect(after.status).toBe("cancelled");
    expect(after.prUrl).toBeNull();
    expect((await db.prisma.taskRun.findUniqueOrThrow({ where: { id: run.id } })).status).toBe("cancelled");
    expect(await eventTypes(task.id)).not.toContain("run_completed");
  });

  it("does not end the newer run's task: a task run again after the cancel stays queued", async () => {
    const { tasks, task, run, lateCompletion } = await runningTask();
    await tasks.cancelTask(undefined, task.id, "operator");
    const rerun = await tasks.runTask(undefined, task.id, "operator");
    expect(rerun.status).toBe("queued");
    await lateCompletion();
    expect((await db.prisma.task.findUniqueOrThrow({ where: { id: task.id } })).status).toBe("queued");
    const runs = await db.prisma.taskRun.findMany({ where: { taskId: task.id }, orderBy: { attempt: "asc" } });
    expect(runs.map((r) => [r.id === run.id ? "old" : "new", r.status])).toEqual([
      ["old", "cancelled"],
      ["new", "queued"],
    ]);
  });
});

describe.runIf(testDatabases.includes("postgres"))("a full database connection pool during a burst of API requests", () => {
  const poolSize = 2;
  let name: string;
  let database: Database;
  let server: RunningServer;
  let dataDir: string;
  beforeAll(async () => {
    name = await createEmptyPostgresDatabase();
    // A small pool, and a short wait for a free connection, so the test need not hold connections for long.
    database = await openDatabase({ kind: "postgres", url: databaseUrl(name) }, undefined, { max: poolSize, connectionTimeoutMillis: 300 });
    dataDir = await mkdtemp(path.join(tmpdir(), "tasks-pool-"));
    server = await startServer(loadConfig(await localServerEnv(dataDir)), log, { database, orchestrator: createRecordingOrchestrator() });
  });
  afterAll(async () => {
    await server?.close();
    await database?.close();
    if (name) await dropPostgresDatabase(name);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  /** Takes every connection of the pool (each in an open transaction) until `release` is called. */
  async function holdEveryConnection() {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: Promise<unknown>[] = [];
    let taken = 0;
    const allTaken = new Promise<void>((resolve) => {
      for (let i = 0; i < poolSize; i += 1) {
        held.push(
          database.prisma.$transaction(
            async (tx) => {
              await tx.$queryRaw`SELECT 1`;
              if (++taken === poolSize) resolve();
              await released;
            },
            { timeout: 120_000, maxWait: 10_000 },
          ),
        );
      }
    });
    await allTaken;
    return async () => {
      release();
      await Promise.all(held);
    };
  }

  it("answers every request 503 with Retry-After while the pool is full, and 200 once it is free", async () => {
    const api = client(server.url, adminToken);
    expect((await api("GET", "/api/admin/teams")).status).toBe(200);
    const releaseAll = await holdEveryConnection();
    let answers: Awaited<ReturnType<typeof api>>[];
    try {
      // A generous ceiling, not a timing assertion: without a pool timeout these never answer.
      const burst = Promise.all(Array.from({ length: 12 }, () => api("GET", "/api/admin/teams")));
      const ceiling = new Promise<never>((_, reject) => setTimeout(() => reject(new Error("the burst hung: no answers while the pool was full")), 20_000).unref());
      answers = await Promise.race([burst, ceiling]);
    } finally {
      await releaseAll();
    }
    for (const answer of answers) {
      expect(answer.status).toBe(503);
      expect(answer.headers.get("retry-after")).toMatch(/^\d+$/);
      expect(answer.body).toMatchObject({ error: { code: "database_busy" } });
    }
    expect((await api("GET", "/api/admin/teams")).status).toBe(200);
  });
});
