// The run reconciler on a real database (PostgreSQL and PGlite): stranded queued runs are handed
// over again with a durable backoff, runs an engine holds are left alone, stale running runs are
// failed with a plain reason and can be retried. Time passing is simulated by moving the rows'
// timestamps back, never by waiting.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { recordRunFinished, recordStageEntered, recordWaiting } from "../../src/db/run-progress.ts";
import { createEmbeddedRunner } from "../../src/runner/embedded-runner.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import type { Orchestrator, RunRef } from "../../src/tasks/orchestrator.ts";
import { createReconciler, staleReason, type ReconcilerSettings } from "../../src/tasks/reconciler.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createFakeStageWork, untilAborted } from "../helpers/fake-stage-work.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";
import { waitFor } from "../helpers/wait-for.ts";

const log = pino({ level: "silent" });

/** A recording orchestrator whose start fails while `down` is set, as an unreachable engine's would. */
function createSwitchableOrchestrator() {
  const recording = createRecordingOrchestrator();
  const state = { down: false, startCalls: 0 };
  const orchestrator: Orchestrator & { state: typeof state; started: RunRef[]; cancelled: RunRef[] } = {
    ...recording,
    engine: "temporal",
    state,
    async start(run) {
      state.startCalls += 1;
      if (state.down) throw new Error("14 UNAVAILABLE: No connection established");
      return recording.start(run);
    },
  };
  return orchestrator;
}

describe.each(testDatabases)("run reconciler on %s", (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());

  let teamCounter = 0;
  async function setup(orchestrator: Orchestrator) {
    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator, log });
    const n = ++teamCounter;
    const team = await tasks.createTeam(`Reconciler team ${n}`);
    await tasks.addTeamMember(team.id, { externalId: `reconciler-user-${n}` });
    const repository = `reconciler/repo-${n}`;
    await tasks.addIntegration(team.id, { installationId: 20_000 + n, repositories: [repository] });
    const create = async () =>
      (await tasks.createAndRun({ teamId: team.id, title: "Fix it", description: "d", originProduct: "user_created", userId: `reconciler-user-${n}`, repository })).task;
    return { tasks, create };
  }

  const reconciler = (orchestrator: Orchestrator, options: ReconcilerSettings = {}) => createReconciler({ db: db.prisma, orchestrator, log, options });
  const runsOf = (taskId: string) => db.prisma.taskRun.findMany({ where: { taskId }, orderBy: { attempt: "asc" } });
  const eventsOf = (taskId: string) => db.prisma.taskEvent.findMany({ where: { taskId }, orderBy: { id: "asc" } });
  /** Seconds from the database's now until the run's next try. */
  async function secondsUntilNextTry(runId: string): Promise<number> {
    const rows = await db.prisma.$queryRaw<{ s: number }[]>`SELECT EXTRACT(EPOCH FROM (next_start_at - now()))::float8 AS s FROM task_runs WHERE id = ${runId}::uuid`;
    return Number(rows[0]!.s);
  }
  const makeDue = (runId: string) => db.prisma.$executeRaw`UPDATE task_runs SET next_start_at = now() - interval '1 second' WHERE id = ${runId}::uuid`;
  /** Moves everything the task and its runs recorded `hours` into the past. */
  async function age(taskId: string, hours: number): Promise<void> {
    const by = `${hours} hours`;
    await db.prisma.$executeRaw`UPDATE task_runs SET created_at = created_at - ${by}::interval, started_at = started_at - ${by}::interval WHERE task_id = ${taskId}::uuid`;
    await db.prisma.$executeRaw`UPDATE task_events SET created_at = created_at - ${by}::interval WHERE task_id = ${taskId}::uuid`;
    await db.prisma.$executeRaw`UPDATE run_steps SET created_at = created_at - ${by}::interval WHERE run_id IN (SELECT id FROM task_runs WHERE task_id = ${taskId}::uuid)`;
  }

  it("tries a queued run whose start failed again after a grace, with a doubling pause kept in the database, then starts it", async () => {
    const engine = createSwitchableOrchestrator();
    const { create } = await setup(engine);
    engine.state.down = true;
    const task = await create();
    const [run] = await runsOf(task.id);
    expect(run).toMatchObject({ status: "queued", engineId: null, startAttempts: 0 });
    expect(engine.state.startCalls).toBe(1);

    // Within the grace its creator's own hand-off may still be under way: left alone.
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });
    expect(engine.state.startCalls).toBe(1);

    await age(task.id, 1);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 1, failed: 0 });
    expect(engine.state.startCalls).toBe(2);
    expect((await runsOf(task.id))[0]).toMatchObject({ status: "queued", engineId: null, startAttempts: 1 });
    const first = await secondsUntilNextTry(run!.id);
    expect(first).toBeGreaterThan(20);
    expect(first).toBeLessThanOrEqual(30);

    // A new reconciler (a restart, another web process) keeps the pause.
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });
    expect(engine.state.startCalls).toBe(2);

    await makeDue(run!.id);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 1, failed: 0 });
    const second = await secondsUntilNextTry(run!.id);
    expect(second).toBeGreaterThan(50);
    expect(second).toBeLessThanOrEqual(60);

    engine.state.down = false;
    await makeDue(run!.id);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 1, deferred: 0, failed: 0 });
    expect(engine.started).toEqual([{ taskId: task.id, runId: run!.id, attempt: 1 }]);
    expect((await runsOf(task.id))[0]).toMatchObject({ status: "queued", engine: "temporal", engineId: `recorded:${run!.id}`, startAttempts: 3 });
    const deferred = (await eventsOf(task.id)).filter((event) => event.type === "run_start_deferred");
    expect(deferred.map((event) => event.message)).toEqual([
      "the temporal engine did not accept the run yet; it stays queued",
      "the temporal engine did not accept the run (try 1: 14 UNAVAILABLE: No connection established); trying again in 30 seconds",
      "the temporal engine did not accept the run (try 2: 14 UNAVAILABLE: No connection established); trying again in 1 minute",
    ]);

    // Held by an engine now: never started again.
    await makeDue(run!.id);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });
    expect(engine.started).toHaveLength(1);
  });

  it("caps the pause between tries", async () => {
    const engine = createSwitchableOrchestrator();
    const { create } = await setup(engine);
    engine.state.down = true;
    const task = await create();
    const [run] = await runsOf(task.id);
    await age(task.id, 1);
    await db.prisma.taskRun.update({ where: { id: run!.id }, data: { startAttempts: 40 } });
    expect(await reconciler(engine).reconcileOnce()).toMatchObject({ deferred: 1 });
    expect(await secondsUntilNextTry(run!.id)).toBeLessThanOrEqual(600);
    expect(await secondsUntilNextTry(run!.id)).toBeGreaterThan(590);
  });

  it("leaves a queued run an engine holds alone", async () => {
    const engine = createSwitchableOrchestrator();
    const { create } = await setup(engine);
    const task = await create();
    await age(task.id, 5);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });
    expect(engine.state.startCalls).toBe(1);
  });

  it("hands a stranded run to the engine once, however many processes reconcile at the same time", async () => {
    const engine = createSwitchableOrchestrator();
    const { create } = await setup(engine);
    engine.state.down = true;
    const task = await create();
    await age(task.id, 1);
    engine.state.down = false;
    const outcomes = await Promise.all([reconciler(engine), reconciler(engine), reconciler(engine)].map((r) => r.reconcileOnce()));
    expect(outcomes.reduce((sum, outcome) => sum + outcome.started, 0)).toBe(1);
    expect(engine.started.filter((run) => run.taskId === task.id)).toHaveLength(1);
  });

  it("fails a running run that went without progress past its stage's limit, with the reason; a retry then runs", async () => {
    const engine = createSwitchableOrchestrator();
    const { tasks, create } = await setup(engine);
    const task = await create();
    const [run] = await runsOf(task.id);
    await recordStageEntered(db.prisma, { taskId: task.id, runId: run!.id, stage: "code", stageName: "Code" });

    // Quiet for less than Code's limit (an agent stage: 150 min + 10 min margin by default).
    await age(task.id, 2);
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });

    await age(task.id, 1);
    const watching = reconciler(engine);
    expect(await watching.reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 1 });
    const reason = "no progress for 180 minutes in stage Code; the worker running it was lost";
    expect((await runsOf(task.id))[0]).toMatchObject({ status: "failed", error: `failed in Code: ${reason}` });
    expect(engine.cancelled).toEqual([{ taskId: task.id, runId: run!.id, attempt: 1 }]);
    const detail = await tasks.getTask(undefined, task.id);
    expect(detail.status).toBe("failed");
    expect(detail.events.at(-1)).toMatchObject({ type: "run_failed", message: `failed in Code: ${reason}` });

    // Acted on once: the next pass (or another process) finds nothing.
    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });

    // The engine's late end (the cancel it was sent) changes nothing.
    await recordRunFinished(db.prisma, { taskId: task.id, runId: run!.id, status: "cancelled", error: null, completionNote: null, prUrl: null, message: "cancelled in Code", outcome: { status: "cancelled", stage: "code" } });
    expect((await runsOf(task.id))[0]!.status).toBe("failed");
    expect((await tasks.getTask(undefined, task.id)).status).toBe("failed");

    const retried = await tasks.runTask(undefined, task.id, "operator");
    expect(retried.status).toBe("queued");
    const runs = await runsOf(task.id);
    expect(runs.map((r) => [r.attempt, r.status])).toEqual([[1, "failed"], [2, "queued"]]);
    expect(engine.started.at(-1)).toEqual({ taskId: task.id, runId: runs[1]!.id, attempt: 2 });
  });

  it("never fails a run waiting for approval, and counts quiet time only from when it began watching", async () => {
    const engine = createSwitchableOrchestrator();
    const { create } = await setup(engine);
    const waiting = await create();
    const [waitingRun] = await runsOf(waiting.id);
    await recordStageEntered(db.prisma, { taskId: waiting.id, runId: waitingRun!.id, stage: "plan", stageName: "Plan" });
    await recordWaiting(db.prisma, { taskId: waiting.id, runId: waitingRun!.id, stage: "plan", stageName: "Plan" });
    await age(waiting.id, 48);

    const quiet = await create();
    const [quietRun] = await runsOf(quiet.id);
    await recordStageEntered(db.prisma, { taskId: quiet.id, runId: quietRun!.id, stage: "complete", stageName: "Complete" });
    await age(quiet.id, 48);

    // Just (re)started: nothing ran while no process was up, so nothing is stale yet.
    const restarted = reconciler(engine, { intervalMs: 60 * 60_000 });
    await restarted.start();
    expect(await restarted.reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 0 });
    await restarted.stop();

    expect(await reconciler(engine).reconcileOnce()).toEqual({ started: 0, deferred: 0, failed: 1 });
    expect((await runsOf(waiting.id))[0]!.status).toBe("running");
    expect((await runsOf(quiet.id))[0]).toMatchObject({ status: "failed", error: expect.stringContaining("in stage Complete") });
  });

  it("on the embedded engine, fails a run whose step never returns, stops the step, and a retry runs to the end", async () => {
    let planCalls = 0;
    const work = createFakeStageWork({
      agent: async (request, signal) => {
        if (request.role === "planner" && ++planCalls === 1) return untilAborted(signal);
        return { verdict: request.role === "reviewer" ? "approve" : null, outputRef: null };
      },
    });
    const flags = createLocalFlagChecker(db.prisma);
    const activities = createPipelineActivities({ db: db.prisma, flags, work, log });
    const runner = createEmbeddedRunner({ db: db.prisma, activities, concurrency: 2, log });
    const { tasks, create } = await setup(runner);
    const task = await create();
    // The planner is inside its step once it was asked.
    await waitFor(async () => work.agentCalls.length > 0, "the planner's step to start");
    await age(task.id, 3);

    expect(await reconciler(runner).reconcileOnce()).toMatchObject({ failed: 1 });
    await runner.idle();
    expect((await runsOf(task.id))[0]).toMatchObject({
      status: "failed",
      error: "failed in Plan: no progress for 180 minutes in stage Plan; the step it was running never finished",
    });
    expect(work.cleanups).toHaveLength(1);
    expect((await tasks.getTask(undefined, task.id)).status).toBe("failed");

    await tasks.runTask(undefined, task.id, "operator");
    await runner.idle();
    const done = await tasks.getTask(undefined, task.id);
    expect(done.status).toBe("completed");
    expect(done.runs.map((r) => r.status)).toEqual(["failed", "completed"]);
    await runner.stop();
  });

  it("words the reason plainly", () => {
    expect(staleReason({ engine: "temporal", stageName: "Code", quietMs: 61 * 60_000 })).toBe("no progress for 61 minutes in stage Code; the worker running it was lost");
    expect(staleReason({ engine: "embedded", stageName: null, quietMs: 45_000 })).toBe("no progress for 45 seconds; the step it was running never finished");
  });
});
