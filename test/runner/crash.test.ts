// The embedded runner survives SIGKILL: a child process running tasks is killed in the middle
// of a stage and started again; every task then completes with each side effect applied once.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import { afterAll, describe, expect, it } from "vitest";
import { openDatabase, type Database } from "../../src/db/open-database.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, testDatabases, type TestDatabaseKind } from "../helpers/databases.ts";

const child = fileURLToPath(new URL("./crash-child.ts", import.meta.url));

const taskCount = 6;

function startChild(env: Record<string, string>): { process: ChildProcess; exited: Promise<number | null>; attempts: () => number } {
  const proc = // `node --import tsx` runs the child in this one process, so SIGKILL really kills the runner
  // (the tsx CLI would leave a grandchild running).
  spawn(process.execPath, ["--import", "tsx", child], { env: { PATH: process.env["PATH"] ?? "", CRASH_LOG_LEVEL: "info", ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  let stdout = "";
  proc.stderr!.on("data", (chunk) => (stderr += chunk));
  proc.stdout!.on("data", (chunk) => (stdout += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (code) => {
    if (process.env["CRASH_DEBUG"] || (code !== 0 && code !== null)) process.stderr.write(stderr);
    resolve(code);
  }));
  return { process: proc, exited, attempts: () => stdout.split("\n").filter((line) => line.startsWith("attempt ")).length };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe.each(testDatabases)("embedded runner crash on %s", (kind: TestDatabaseKind) => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it("finishes every task after a SIGKILL mid-stage, each side effect exactly once", { timeout: 120_000 }, async () => {
    let settings: Parameters<typeof openDatabase>[0];
    let env: Record<string, string>;
    if (kind === "postgres") {
      const name = await createEmptyPostgresDatabase();
      cleanups.push(() => dropPostgresDatabase(name));
      settings = { kind: "postgres", url: databaseUrl(name) };
      env = { CRASH_DATABASE_URL: databaseUrl(name) };
    } else {
      const dir = await mkdtemp(path.join(tmpdir(), "tasks-crash-"));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      settings = { kind: "pglite", dataDir: path.join(dir, "pglite") };
      env = { CRASH_PGLITE_DIR: path.join(dir, "pglite") };
    }

    // Seed: tasks with queued runs, and the tables the fake stage work records into.
    let db: Database = await openDatabase(settings);
    await db.prisma.$executeRawUnsafe(`CREATE TABLE crash_effects (key TEXT PRIMARY KEY)`);
    await db.prisma.$executeRawUnsafe(`CREATE TABLE crash_attempts (id SERIAL PRIMARY KEY, key TEXT NOT NULL)`);
    const log = pino({ level: "silent" });
    const tasks = createTasksService({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam("Crash");
    await tasks.addTeamMember(team.id, { externalId: "u" });
    await tasks.addIntegration(team.id, { installationId: 1, repositories: ["crash/repo"] });
    for (let i = 0; i < taskCount; i += 1) {
      await tasks.createAndRun({ teamId: team.id, title: `t${i}`, description: "d", originProduct: "user_created", userId: "u", repository: "crash/repo" });
    }
    // PGlite belongs to one process: hand the data directory to the child.
    if (kind === "pglite") await db.close();

    const first = startChild(env);
    // Kill once a few runs are well under way: the 8th piece of work has just started.
    await waitFor(async () => first.attempts() >= 8, 60_000);
    first.process.kill("SIGKILL");
    expect(await first.exited).toBeNull();

    const second = startChild(env);
    expect(await second.exited).toBe(0);

    if (kind === "pglite") db = await openDatabase(settings);
    try {
      const runs = await db.prisma.taskRun.findMany({ include: { steps: { orderBy: { seq: "asc" } }, task: true, events: true } });
      expect(runs).toHaveLength(taskCount);
      const effects = (await db.prisma.$queryRawUnsafe<{ key: string }[]>(`SELECT key FROM crash_effects ORDER BY key`)).map((r) => r.key);
      const expected = runs.flatMap((run) => [`${run.id}:plan:0`, `${run.id}:code:0`, `${run.id}:review:0`, `${run.id}:publish`, `${run.id}:cleanup`]).sort();
      expect(runs.filter((run) => run.status !== "completed").map((run) => [run.status, run.error])).toEqual([]);
      expect(effects).toEqual(expected);
      for (const run of runs) {
        expect(run.status).toBe("completed");
        expect(run.task.status).toBe("completed");
        expect(run.steps.map((s) => s.seq)).toEqual(run.steps.map((_, index) => index));
        expect(run.events.filter((e) => e.type === "run_completed")).toHaveLength(1);
      }
      // The kill interrupted work in flight: it was attempted again after the restart, and its
      // effect still landed once (checked above).
      const retried = await db.prisma.$queryRawUnsafe<{ key: string }[]>(`SELECT key FROM crash_attempts GROUP BY key HAVING count(*) > 1`);
      expect(retried.length).toBeGreaterThanOrEqual(1);
    } finally {
      await db.close();
    }
  });
});
