// The embedded engine with the real activities on a real database; only the stage work
// (sandbox, agent, PR) is a fake.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { createEmbeddedRunner, type EmbeddedRunner, type EmbeddedRunnerDeps } from "../../src/runner/embedded-runner.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService, type TasksService } from "../../src/tasks/service.ts";
import { testDatabases, openTestDatabase, type TestDatabase } from "../helpers/databases.ts";
import { createFakeStageWork, untilAborted, type FakeScript } from "../helpers/fake-stage-work.ts";

const log = pino({ level: "silent" });

describe.each(testDatabases)("embedded runner on %s", (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());

  let teamCounter = 0;
  async function setup(script: FakeScript = {}, concurrency = 4, retries?: EmbeddedRunnerDeps["retries"]) {
    const work = createFakeStageWork(script);
    const flags = createLocalFlagChecker(db.prisma);
    const activities = createPipelineActivities({ db: db.prisma, flags, work, log });
    const runner = createEmbeddedRunner({ db: db.prisma, activities, concurrency, log, ...(retries ? { retries } : {}) });
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: runner, log });
    const team = await tasks.createTeam(`Runner team ${++teamCounter}`);
    await tasks.addTeamMember(team.id, { externalId: `runner-user-${teamCounter}` });
    const repository = `runner/repo-${teamCounter}`;
    await tasks.addIntegration(team.id, { installationId: 10_000 + teamCounter, repositories: [repository] });
    const create = (title = "Do the thing") =>
      tasks.createAndRun({ teamId: team.id, title, description: "d", originProduct: "user_created", userId: `runner-user-${teamCounter}`, repository });
    return { work, runner, tasks, team, create };
  }
  const detail = (tasks: TasksService, id: string) => tasks.getTask(undefined, id);
  const eventTypes = async (tasks: TasksService, id: string) => (await detail(tasks, id)).events.map((e) => e.type);

  it("runs Plan → Code → Review → Complete and records where the task is at every step", async () => {
    const { work, runner, tasks, create } = await setup();
    const { task } = await create();
    await runner.idle();
    const done = await detail(tasks, task.id);
    expect(done).toMatchObject({ status: "completed", stage: { key: "complete" }, pr_url: "https://github.com/posthog/posthog/pull/1" });
    expect(done.runs).toEqual([expect.objectContaining({ status: "completed", engine: "embedded", engine_id: `embedded:${done.runs[0]!.id}` })]);
    expect(done.runs[0]!.started_at).not.toBeNull();
    expect(work.agentCalls.map((c) => [c.stage, c.role])).toEqual([["plan", "planner"], ["code", "coder"], ["review", "reviewer"]]);
    expect(work.publishCalls).toHaveLength(1);
    expect(work.cleanups).toHaveLength(1);
    expect(await eventTypes(tasks, task.id)).toEqual(["task_created", "run_queued", "stage_entered", "stage_entered", "stage_entered", "stage_entered", "run_completed"]);
    const steps = await db.prisma.runStep.findMany({ where: { runId: done.runs[0]!.id }, orderBy: { seq: "asc" } });
    expect(steps.map((s) => (s.command as { type: string }).type)).toEqual([
      "checkFlag", "enterStage", "runAgent", "enterStage", "runAgent", "enterStage", "runAgent", "enterStage", "publish", "finish",
    ]);
  });

  it("sends the task back to Code on REQUEST_CHANGES at most twice, then continues with the notes", async () => {
    const { work, runner, create } = await setup({
      agent: (request) => (request.role === "reviewer" ? { verdict: "request_changes", outputRef: `review-${request.iteration}` } : { verdict: null, outputRef: null }),
    });
    await create();
    await runner.idle();
    expect(work.agentCalls.map((c) => `${c.stage}#${c.iteration}`)).toEqual(["plan#0", "code#0", "review#0", "code#1", "review#1", "code#2", "review#2"]);
    expect(work.agentCalls.find((c) => c.stage === "code" && c.iteration === 1)!.reviewNotesRef).toBe("review-0");
    expect(work.publishCalls[0]!.reviewNotesRef).toBe("review-2");
  });

  it("tries an agent again after a failure that may pass, but not after a permanent one", async () => {
    let calls = 0;
    const work = createFakeStageWork({
      agent: (request) => {
        if (request.role === "planner" && ++calls === 1) throw new Error("502 Bad Gateway from the model API");
        return { verdict: null, outputRef: null };
      },
    });
    const flags = createLocalFlagChecker(db.prisma);
    const activities = createPipelineActivities({ db: db.prisma, flags, work, log });
    const quick = { delaysMs: [1, 1] };
    const runner = createEmbeddedRunner({ db: db.prisma, activities, concurrency: 1, log, retries: { bookkeeping: quick, agent: quick } });
    const { team } = await setup();
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: runner, log });
    const member = await db.prisma.teamMember.findFirstOrThrow({ where: { teamId: team.id }, include: { user: true } });
    const integration = await db.prisma.gitHubIntegration.findFirstOrThrow({ where: { teamId: team.id } });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "t", description: "d", originProduct: "user_created", userId: member.user.externalId, repository: integration.repositories[0]! });
    await runner.idle();
    expect((await detail(tasks, task.id)).status).toBe("completed");
    expect(work.agentCalls.map((c) => c.stage)).toEqual(["plan", "plan", "code", "review"]);
  });

  it("fails with the stage and a readable reason when an agent fails, and still cleans up", async () => {
    const { work, runner, tasks, create } = await setup({ agent: (request) => (request.role === "coder" ? "fail" : { verdict: null, outputRef: null }) });
    const { task } = await create();
    await runner.idle();
    const failed = await detail(tasks, task.id);
    expect(failed.status).toBe("failed");
    expect(failed.stage?.key).toBe("code");
    expect(failed.runs[0]).toMatchObject({ status: "failed", error: "failed in Code: the coder exited with status 1" });
    expect(work.cleanups).toHaveLength(1);
  });

  it("fails with the agent's own message once a failure that may pass has used up its retries", async () => {
    // The same reason Temporal records for the same error (pipeline/execute-command.ts).
    const quick = { delaysMs: [1, 1] };
    const agent = (request: { role: string }) => {
      if (request.role === "planner") throw new Error("502 Bad Gateway from the model API");
      return { verdict: null, outputRef: null };
    };
    const { work, runner, tasks, create } = await setup({ agent }, 4, { bookkeeping: quick, agent: quick });
    const { task } = await create();
    await runner.idle();
    const failed = await detail(tasks, task.id);
    expect(failed.runs[0]).toMatchObject({ status: "failed", error: "failed in Plan: 502 Bad Gateway from the model API" });
    expect(work.agentCalls).toHaveLength(3);
    expect(work.cleanups).toHaveLength(1);
  });

  it("checks the tasks flag again before the run starts", async () => {
    const { team } = await setup();
    // The flag was on when the task was created (the service's checker) and is off by the time
    // the run starts (the activities read the local store).
    await db.prisma.featureFlag.create({ data: { teamId: team.id, key: "tasks", enabled: false } });
    const work = createFakeStageWork();
    const activities = createPipelineActivities({ db: db.prisma, flags: createLocalFlagChecker(db.prisma), work, log });
    const runner = createEmbeddedRunner({ db: db.prisma, activities, concurrency: 1, log });
    const alwaysOn = { source: "local" as const, isEnabled: async () => true };
    const tasks = createTasksService({ db: db.prisma, flags: alwaysOn, orchestrator: runner, log });
    const member = await db.prisma.teamMember.findFirstOrThrow({ where: { teamId: team.id }, include: { user: true } });
    const integration = await db.prisma.gitHubIntegration.findFirstOrThrow({ where: { teamId: team.id } });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "t", description: "d", originProduct: "user_created", userId: member.user.externalId, repository: integration.repositories[0]! });
    await runner.idle();
    const failed = await detail(tasks, task.id);
    expect(failed.status).toBe("failed");
    expect(failed.runs[0]!.error).toBe('failed in Plan: the "tasks" feature flag is off for this team');
    expect(work.agentCalls).toHaveLength(0);
  });

  it("waits for approval when a stage requires it, and /approve moves the task on", async () => {
    const { work, runner, tasks, team, create } = await setup();
    const workflow = await db.prisma.team.findUniqueOrThrow({ where: { id: team.id }, select: { defaultWorkflowId: true } });
    await db.prisma.stage.updateMany({ where: { workflowId: workflow.defaultWorkflowId!, key: "plan" }, data: { requiresApproval: true } });
    const { task } = await create();
    await waitFor(async () => (await detail(tasks, task.id)).status === "waiting_approval");
    expect(work.agentCalls.map((c) => c.stage)).toEqual(["plan"]);
    await tasks.approveTask(team.id, task.id, "@octocat");
    await runner.idle();
    const done = await detail(tasks, task.id);
    expect(done.status).toBe("completed");
    expect(done.events.map((e) => e.type)).toContain("stage_approved");
  });

  it("stops a running agent promptly on cancel and runs cleanup", async () => {
    let sawAbort = false;
    const { work, runner, tasks, team, create } = await setup({
      agent: async (request, signal) => {
        if (request.stage !== "code") return { verdict: null, outputRef: null };
        await untilAborted(signal).catch((error) => {
          sawAbort = true;
          throw error;
        });
        return { verdict: null, outputRef: null };
      },
    });
    const { task } = await create();
    await waitFor(async () => work.running === 1 && work.agentCalls.some((c) => c.stage === "code"));
    await tasks.cancelTask(team.id, task.id, "@octocat");
    await runner.idle();
    expect(sawAbort).toBe(true);
    const cancelled = await detail(tasks, task.id);
    expect(cancelled.status).toBe("cancelled");
    expect(cancelled.runs[0]!.status).toBe("cancelled");
    expect(work.cleanups).toHaveLength(1);
    expect(cancelled.events.map((e) => e.type)).toContain("run_cancelled");
  });

  it("runs at most TASKS_CONCURRENCY tasks at once", async () => {
    const releases: (() => void)[] = [];
    const { work, runner, create } = await setup(
      { agent: (request) => (request.stage === "plan" ? new Promise((resolve) => releases.push(() => resolve({ verdict: null, outputRef: null }))) : { verdict: null, outputRef: null }) },
      2,
    );
    for (let i = 0; i < 5; i += 1) await create(`task ${i}`);
    await waitFor(async () => releases.length === 2);
    expect(work.running).toBe(2);
    const releaseAll = setInterval(() => releases.splice(0).forEach((release) => release()), 20);
    await runner.idle();
    clearInterval(releaseAll);
    expect(work.maxRunning).toBe(2);
    expect(work.agentCalls.filter((c) => c.stage === "plan")).toHaveLength(5);
  });

  it("starts queued tasks in the order they were created", async () => {
    const { work, runner, create } = await setup({}, 1);
    const created = [];
    for (let i = 0; i < 4; i += 1) created.push((await create(`task ${i}`)).task);
    await runner.idle();
    // One at a time, so each run's first agent call follows the previous run's last.
    expect(work.agentCalls.filter((c) => c.stage === "plan").map((c) => c.taskId)).toEqual(created.map((t) => t.id));
  });

  it("resumes after a restart without repeating completed steps", async () => {
    const first = await setup({
      agent: async (request, signal) => (request.stage === "code" ? untilAborted(signal) : { verdict: null, outputRef: null }),
    });
    const { task } = await first.create();
    await waitFor(async () => first.work.agentCalls.some((c) => c.stage === "code"));
    await first.runner.stop();
    expect((await detail(first.tasks, task.id)).status).toBe("running");

    const work = createFakeStageWork();
    const flags = createLocalFlagChecker(db.prisma);
    const runner: EmbeddedRunner = createEmbeddedRunner({ db: db.prisma, activities: createPipelineActivities({ db: db.prisma, flags, work, log }), concurrency: 4, log });
    await runner.resume();
    await runner.idle();
    expect((await detail(first.tasks, task.id)).status).toBe("completed");
    // Plan ran once, before the restart; Code was interrupted and ran again; the rest once.
    expect(first.work.agentCalls.map((c) => c.stage)).toEqual(["plan", "code"]);
    expect(work.agentCalls.map((c) => c.stage)).toEqual(["code", "review"]);
  });
});

async function waitFor(check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
