// Graceful shutdown of a Temporal worker (`node --import tsx src/temporal/worker.ts`, the image's
// other command): SIGTERM while the coder's activity runs. The worker stops polling but lets the
// activity finish within TASKS_SHUTDOWN_GRACE_SECONDS, then exits 0; a new worker runs the rest,
// and every agent ran once. The agent is scripted-agent.ts: the test decides when each one ends.
import { execFileSync } from "node:child_process";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { taskWorkflowId } from "../../src/temporal/workflow-id.ts";
import { createTemporalWorld, destroyTemporalWorld, label, startWorker, waitForRun, type TemporalWorld } from "../e2e/temporal-world.ts";
import { temporalTestServer } from "../temporal/temporal-server.ts";
import { agentScript, coderLine, createModel } from "./scripted-agent.ts";

const temporal = temporalTestServer(process.env);

describe.skipIf(temporal.skip)("graceful shutdown of a Temporal worker", () => {
  let env: TestWorkflowEnvironment;
  let world: TemporalWorld | undefined;
  beforeAll(async () => {
    env = await temporal.open();
  }, 60_000);
  afterAll(async () => {
    await env?.teardown();
  });
  afterEach(async () => {
    await destroyTemporalWorld(world);
    world = undefined;
  });

  it("lets the activity in flight finish, exits 0, and the next worker completes the task with each agent once", { timeout: 240_000 }, async () => {
    world = await createTemporalWorld({ temporalAddress: env.address, agentCommand: agentScript });
    // Long enough that only the test decides when the coder ends.
    world.workerEnv["TASKS_SHUTDOWN_GRACE_SECONDS"] = "300";
    const model = createModel(world.workerEnv["TASKS_DATA_DIR"]!);
    const first = await startWorker(world);
    const created = await label(world, 7);
    await model.release(await model.awaitStart("planner"), "planner");
    const coder = await model.awaitStart("coder");

    first.process.kill("SIGTERM");
    await expect.poll(() => first.output().includes("shutting down: finishing the activities in flight"), { timeout: 30_000 }).toBe(true);
    expect(first.process.exitCode).toBeNull();
    await model.release(coder, "coder");
    expect(await first.exited).toBe(0);

    await startWorker(world);
    await model.release(await model.awaitStart("reviewer"), "reviewer");
    const task = await waitForRun(world, env.client, created.id, 150_000);
    expect(task).toMatchObject({ status: "completed" });
    expect(task.runs[0]!.error).toBeNull();
    expect(model.started).toEqual(["planner", "coder", "reviewer"]);
    // The coder's activity completed on the first worker: Temporal started it once.
    const history = await env.client.workflow.getHandle(taskWorkflowId({ taskId: created.id, attempt: 1 })).fetchHistory();
    const starts = (history.events ?? []).filter((event) => event.activityTaskStartedEventAttributes);
    const attempts = starts.map((event) => event.activityTaskStartedEventAttributes!.attempt);
    expect(attempts.every((attempt) => attempt === 1)).toBe(true);
    expect(world.github.pulls).toHaveLength(1);
    expect(execFileSync("git", ["show", `${task.branch}:README.md`], { cwd: world.bare, encoding: "utf8" }).split(coderLine)).toHaveLength(2);
  });
});
