// The embedded runner's side of a graceful shutdown (SIGTERM): stop({ graceMs }) lets the step in
// flight finish and records it, parks the run before its next step, and a new runner on the same
// database resumes it without repeating what was recorded. Real activities on a real database;
// only the stage work (sandbox, agent, PR) is a fake.
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { createEmbeddedRunner } from "../../src/runner/embedded-runner.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createFakeStageWork, untilAborted, type FakeScript } from "../helpers/fake-stage-work.ts";
import { waitFor } from "../helpers/wait-for.ts";

const log = pino({ level: "silent" });
const anHour = 3_600_000;

describe.each(testDatabases)("embedded runner graceful stop on %s", (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
  });
  afterAll(async () => db?.close());

  let teamCounter = 0;
  function runnerWith(script: FakeScript = {}) {
    const work = createFakeStageWork(script);
    const flags = createLocalFlagChecker(db.prisma);
    const runner = createEmbeddedRunner({ db: db.prisma, activities: createPipelineActivities({ db: db.prisma, flags, work, log }), concurrency: 4, log });
    return { work, runner, tasks: createTasksService({ db: db.prisma, flags, orchestrator: runner, log }) };
  }
  async function createTask(parts: ReturnType<typeof runnerWith>, options: { planNeedsApproval?: boolean } = {}) {
    const team = await parts.tasks.createTeam(`Graceful team ${++teamCounter}`);
    if (options.planNeedsApproval) {
      const workflow = await db.prisma.team.findUniqueOrThrow({ where: { id: team.id }, select: { defaultWorkflowId: true } });
      await db.prisma.stage.updateMany({ where: { workflowId: workflow.defaultWorkflowId!, key: "plan" }, data: { requiresApproval: true } });
    }
    await parts.tasks.addTeamMember(team.id, { externalId: `graceful-user-${teamCounter}` });
    const repository = `graceful/repo-${teamCounter}`;
    await parts.tasks.addIntegration(team.id, { installationId: 20_000 + teamCounter, repositories: [repository] });
    const { task } = await parts.tasks.createAndRun({ teamId: team.id, title: "t", description: "d", originProduct: "user_created", userId: `graceful-user-${teamCounter}`, repository });
    return { team, task };
  }
  const stepTypes = async (taskId: string) =>
    (await db.prisma.runStep.findMany({ where: { run: { taskId } }, orderBy: { seq: "asc" } })).map((step) => (step.command as { type: string }).type);

  it("lets the step in flight finish within the grace, records it and parks the run before the next one", async () => {
    let releaseCode: (() => void) | undefined;
    const first = runnerWith({
      agent: (request) =>
        request.stage === "code" ? new Promise((resolve) => (releaseCode = () => resolve({ verdict: null, outputRef: "code-0" }))) : { verdict: null, outputRef: null },
    });
    const { task } = await createTask(first);
    await waitFor(async () => releaseCode !== undefined, "the coder running");

    let stopped = false;
    const stopping = first.runner.stop({ graceMs: anHour }).then(() => (stopped = true));
    // The new-work door is shut at once, while the coder still works.
    await first.tasks.getTask(undefined, task.id);
    expect(stopped).toBe(false);
    releaseCode!();
    await stopping;

    expect((await first.tasks.getTask(undefined, task.id)).status).toBe("running");
    expect(await stepTypes(task.id)).toEqual(["checkFlag", "enterStage", "runAgent", "enterStage", "runAgent"]);

    const second = runnerWith();
    expect(await second.runner.resume()).toBeGreaterThanOrEqual(1);
    await second.runner.idle();
    expect((await second.tasks.getTask(undefined, task.id)).status).toBe("completed");
    // The Code step finished before the stop: it is not run again.
    expect(first.work.agentCalls.map((call) => call.stage)).toEqual(["plan", "code"]);
    expect(second.work.agentCalls.map((call) => call.stage)).toEqual(["review"]);
    expect(second.work.publishCalls).toHaveLength(1);
  });

  it("aborts a step that outlasts the grace; it runs again after the restart, the steps before it do not", async () => {
    let sawAbort = false;
    const first = runnerWith({
      agent: async (request, signal) => {
        if (request.stage !== "code") return { verdict: null, outputRef: null };
        return untilAborted(signal).catch((error: unknown) => {
          sawAbort = true;
          throw error;
        });
      },
    });
    const { task } = await createTask(first);
    await waitFor(async () => first.work.agentCalls.some((call) => call.stage === "code"), "the coder running");
    await first.runner.stop({ graceMs: 20 });
    expect(sawAbort).toBe(true);
    expect(await stepTypes(task.id)).toEqual(["checkFlag", "enterStage", "runAgent", "enterStage"]);
    expect((await first.tasks.getTask(undefined, task.id)).status).toBe("running");

    const second = runnerWith();
    await second.runner.resume();
    await second.runner.idle();
    expect((await second.tasks.getTask(undefined, task.id)).status).toBe("completed");
    expect(second.work.agentCalls.map((call) => call.stage)).toEqual(["code", "review"]);
  });

  it("parks a run waiting for approval at once, whatever the grace, and the approval given meanwhile moves it on", async () => {
    const first = runnerWith();
    const { team, task } = await createTask(first, { planNeedsApproval: true });
    await waitFor(async () => (await first.tasks.getTask(undefined, task.id)).status === "waiting_approval", "the task waiting for approval");

    await first.runner.stop({ graceMs: anHour });
    expect((await first.tasks.getTask(undefined, task.id)).status).toBe("waiting_approval");

    const second = runnerWith();
    await second.tasks.approveTask(team.id, task.id, "@octocat");
    await second.runner.resume();
    await second.runner.idle();
    expect((await second.tasks.getTask(undefined, task.id)).status).toBe("completed");
    expect(first.work.agentCalls.map((call) => call.stage)).toEqual(["plan"]);
    expect(second.work.agentCalls.map((call) => call.stage)).toEqual(["code", "review"]);
  });
});
