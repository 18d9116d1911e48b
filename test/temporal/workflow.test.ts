// taskWorkflow on a real Temporal server, with in-memory activities behind the real worker-side
// wrapper. Needs a server (see temporal-server.ts): without one it skips locally, saying so, and fails on CI.
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { WorkflowFailedError } from "@temporalio/client";
import { ApplicationFailure, defaultPayloadConverter } from "@temporalio/common";
import type { TestWorkflowEnvironment } from "@temporalio/testing";
import { bundleWorkflowCode, DefaultLogger, Runtime, Worker, type WorkflowBundle } from "@temporalio/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunRef } from "../../src/pipeline/types.ts";
import { wrapActivities } from "../../src/temporal/activities.ts";
import { createTemporalOrchestrator } from "../../src/temporal/temporal-orchestrator.ts";
import { taskWorkflowId } from "../../src/temporal/workflow-id.ts";
import { approveSignal, moveStageSignal, statusQuery, taskWorkflow } from "../../src/temporal/workflows.ts";
import { createFakeActivities, createGate, defaultStages, prUrl, untilAborted, type FakeActivities } from "./fake-activities.ts";
import { temporalTestServer } from "./temporal-server.ts";

const server = temporalTestServer(process.env);

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const workflowsPath = fileURLToPath(new URL("../../src/temporal/workflows.ts", import.meta.url));
const newRun = (attempt = 1): RunRef => ({ taskId: `task_${randomUUID()}`, runId: `run_${randomUUID()}`, attempt });
const completedSteps = ["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "enterStage:code", "runAgent:code", "enterStage:review", "runAgent:review", "enterStage:complete", "publish:complete", "finish:completed", "cleanup"];

describe.skipIf(server.skip)("taskWorkflow on a Temporal server", { timeout: 60_000 }, () => {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundle;

  beforeAll(async () => {
    // The worker's INFO lines (state changes) would bury vitest's own output; failures still show.
    Runtime.install({ logger: new DefaultLogger("WARN") });
    env = await server.open();
    bundle = await bundleWorkflowCode({ workflowsPath, logger: silent });
  }, 180_000);

  afterAll(async () => {
    await env?.teardown();
  });

  /** Runs `body` while a worker with these fake activities serves a fresh task queue. */
  async function withWorker<T>(fake: FakeActivities, body: (taskQueue: string) => Promise<T>): Promise<T> {
    const taskQueue = `tasks-test-${randomUUID()}`;
    const worker = await Worker.create({
      connection: env.nativeConnection,
      namespace: env.namespace ?? "default",
      taskQueue,
      workflowBundle: bundle,
      activities: wrapActivities(fake.activities, { heartbeatIntervalMs: 100 }),
      // Cancellation reaches an activity with its next heartbeat: keep them frequent here.
      maxHeartbeatThrottleInterval: "200 milliseconds",
      defaultHeartbeatThrottleInterval: "200 milliseconds",
    });
    return worker.runUntil(body(taskQueue));
  }

  const start = (taskQueue: string, run: RunRef) => env.client.workflow.start(taskWorkflow, { workflowId: taskWorkflowId(run), taskQueue, args: [run] });

  it("runs Plan → Code → Review → Complete and reports the pull request", async () => {
    const fake = createFakeActivities();
    const run = newRun();
    const { outcome, status } = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, run);
      return { outcome: await handle.result(), status: await handle.query(statusQuery) };
    });
    expect(outcome).toEqual({ status: "completed", prUrl, note: null });
    expect(fake.steps()).toEqual(completedSteps);
    expect(fake.calls.find((call) => call.name === "runAgent" && call.args.stage === "review")?.args).toEqual({ ...run, stage: "review", stageName: "Review", role: "reviewer", iteration: 0, reviewNotesRef: null });
    expect(status).toEqual({ phase: "done", stage: "complete", reviewLoops: 0, outcome });
  });

  it("answers the status query while an agent works", async () => {
    const gate = createGate();
    const fake = createFakeActivities({ agent: async (args) => (args.stage === "code" ? gate.opened.then(() => ({ verdict: null, outputRef: null })) : { verdict: args.role === "reviewer" ? "approve" : null, outputRef: null }) });
    const run = newRun();
    const status = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, run);
      await fake.waitForCall("runAgent", (args) => args.stage === "code");
      const during = await handle.query(statusQuery);
      gate.open();
      await handle.result();
      return during;
    });
    expect(status).toEqual({ phase: "agent", stage: "code", reviewLoops: 0, outcome: null });
  });

  it("waits at a stage that requires approval until the approve signal", async () => {
    const stages = defaultStages.map((stage) => (stage.key === "plan" ? { ...stage, requiresApproval: true } : stage));
    const fake = createFakeActivities({ stages });
    const run = newRun();
    const { waiting, outcome } = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, run);
      await fake.waitForCall("markWaiting");
      const status = await handle.query(statusQuery);
      expect(fake.steps().at(-1)).toBe("markWaiting:plan");
      await handle.signal(approveSignal);
      return { waiting: status, outcome: await handle.result() };
    });
    expect(waiting).toMatchObject({ phase: "approval", stage: "plan" });
    expect(outcome).toMatchObject({ status: "completed" });
    expect(fake.steps()).toEqual(["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "markWaiting:plan", ...completedSteps.slice(4)]);
  });

  it("moves to the stage a moveStage signal names, from an approval wait", async () => {
    const stages = defaultStages.map((stage) => (stage.key === "code" ? { ...stage, requiresApproval: true } : stage));
    const fake = createFakeActivities({ stages });
    const outcome = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, newRun());
      await fake.waitForCall("markWaiting");
      // Back to Plan instead of approving Code; Code then waits again, and is approved.
      await handle.signal(moveStageSignal, "plan");
      await waitUntil(() => fake.calls.filter((call) => call.name === "markWaiting").length === 2);
      await handle.signal(approveSignal);
      return handle.result();
    });
    expect(outcome).toMatchObject({ status: "completed" });
    expect(fake.steps()).toEqual([
      ...["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "enterStage:code", "runAgent:code", "markWaiting:code"],
      ...["enterStage:plan", "runAgent:plan", "enterStage:code", "runAgent:code", "markWaiting:code"],
      ...completedSteps.slice(6),
    ]);
  });

  it("applies a move sent while an agent works once that agent is done", async () => {
    const gate = createGate();
    const fake = createFakeActivities({
      agent: async (args) => {
        if (args.stage === "plan") await gate.opened;
        return { verdict: args.role === "reviewer" ? "approve" : null, outputRef: null };
      },
    });
    const outcome = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, newRun());
      await fake.waitForCall("runAgent", (args) => args.stage === "plan");
      await handle.signal(moveStageSignal, "review");
      gate.open();
      return handle.result();
    });
    expect(outcome).toMatchObject({ status: "completed" });
    expect(fake.steps()).toEqual(["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "enterStage:review", "runAgent:review", "enterStage:complete", "publish:complete", "finish:completed", "cleanup"]);
  });

  it("on cancellation stops the agent, records the cancelled outcome and cleans up", async () => {
    const fake = createFakeActivities({ agent: async (args, signal) => (args.stage === "code" ? untilAborted(signal) : { verdict: null, outputRef: null }) });
    const run = newRun();
    const outcome = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, run);
      await fake.waitForCall("runAgent", (args) => args.stage === "code");
      await handle.cancel();
      return handle.result();
    });
    expect(outcome).toEqual({ status: "cancelled", stage: "code" });
    expect(fake.steps()).toEqual(["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "enterStage:code", "runAgent:code", "finish:cancelled", "cleanup"]);
    expect(fake.calls.find((call) => call.name === "finish")?.args).toEqual({ ...run, outcome: { status: "cancelled", stage: "code" }, stageName: "Code" });
  });

  it("sends the agent's heartbeats, with its progress, to the server while it works", async () => {
    const gate = createGate();
    const fake = createFakeActivities({ agent: async (args) => (args.stage === "code" ? gate.opened.then(() => ({ verdict: null, outputRef: null })) : { verdict: args.role === "reviewer" ? "approve" : null, outputRef: null }) });
    const details = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, newRun());
      await fake.waitForCall("runAgent", (args) => args.stage === "code");
      const heartbeat = await pollUntil(async () => {
        const [pending] = (await handle.describe()).raw.pendingActivities ?? [];
        const payload = pending?.heartbeatDetails?.payloads?.[0];
        return payload ? defaultPayloadConverter.fromPayload(payload) : undefined;
      });
      gate.open();
      await handle.result();
      return heartbeat;
    });
    expect(details).toMatchObject({ step: "runAgent", stage: "code", role: "coder", iteration: 0 });
  });

  it("retries a transient failure of a step and carries on", async () => {
    const fake = createFakeActivities();
    const enterStage = fake.activities.enterStage;
    let failed = false;
    fake.activities.enterStage = async (args) => {
      await enterStage(args);
      if (args.stage === "code" && !failed) {
        failed = true;
        throw new Error("connection reset by the database");
      }
    };
    const outcome = await withWorker(fake, async (taskQueue) => (await start(taskQueue, newRun())).result());
    expect(outcome).toMatchObject({ status: "completed" });
    expect(fake.steps()).toEqual([...completedSteps.slice(0, 4), "enterStage:code", ...completedSteps.slice(4)]);
  });

  it("can be cancelled while waiting for approval", async () => {
    const stages = defaultStages.map((stage) => (stage.key === "plan" ? { ...stage, requiresApproval: true } : stage));
    const fake = createFakeActivities({ stages });
    const outcome = await withWorker(fake, async (taskQueue) => {
      const handle = await start(taskQueue, newRun());
      await fake.waitForCall("markWaiting");
      await handle.cancel();
      return handle.result();
    });
    expect(outcome).toEqual({ status: "cancelled", stage: "plan" });
    expect(fake.steps().slice(-2)).toEqual(["finish:cancelled", "cleanup"]);
  });

  it("fails the run with the stage and the agent's reason, without retrying a permanent failure", async () => {
    const fake = createFakeActivities({
      agent: async (args) => {
        if (args.stage === "code") throw ApplicationFailure.nonRetryable("the agent exited with code 2", "PermanentTaskFailure");
        return { verdict: null, outputRef: null };
      },
    });
    const outcome = await withWorker(fake, async (taskQueue) => (await start(taskQueue, newRun())).result());
    expect(outcome).toEqual({ status: "failed", stage: "code", reason: "the agent exited with code 2" });
    expect(fake.steps()).toEqual(["loadRun", "checkFlag", "enterStage:plan", "runAgent:plan", "enterStage:code", "runAgent:code", "finish:failed", "cleanup"]);
  });

  it("does not retry an error the activity marks permanent itself", async () => {
    const fake = createFakeActivities({
      agent: async () => {
        throw Object.assign(new Error("no agent runtime is available"), { permanent: true });
      },
    });
    const outcome = await withWorker(fake, async (taskQueue) => (await start(taskQueue, newRun())).result());
    expect(outcome).toEqual({ status: "failed", stage: "plan", reason: "no agent runtime is available" });
    expect(fake.steps().filter((step) => step.startsWith("runAgent"))).toEqual(["runAgent:plan"]);
  });

  it("attaches a duplicate start of the same run to the running workflow, and never reruns a finished one", async () => {
    const gate = createGate();
    const fake = createFakeActivities({ agent: async (args) => (args.stage === "plan" ? gate.opened.then(() => ({ verdict: null, outputRef: null })) : { verdict: args.role === "reviewer" ? "approve" : null, outputRef: null }) });
    const run = newRun(2);
    const result = await withWorker(fake, async (taskQueue) => {
      const orchestrator = createTemporalOrchestrator({ client: env.client, taskQueue });
      const first = await orchestrator.start(run);
      await fake.waitForCall("runAgent");
      const second = await orchestrator.start(run);
      const handle = env.client.workflow.getHandle(first.engineId);
      const executionRunId = (await handle.describe()).runId;
      gate.open();
      const outcome = await handle.result();
      const third = await orchestrator.start(run);
      return { first, second, third, executionRunId, latestRunId: (await handle.describe()).runId, outcome };
    });
    expect(result.first).toEqual({ engineId: taskWorkflowId(run) });
    expect(result.second).toEqual(result.first);
    expect(result.third).toEqual(result.first);
    expect(result.latestRunId).toBe(result.executionRunId);
    expect(result.outcome).toMatchObject({ status: "completed" });
    expect(fake.steps().filter((step) => step === "loadRun")).toHaveLength(1);
  });

  it("reports a failed workflow when bookkeeping fails for good, after recording the failure", async () => {
    const fake = createFakeActivities();
    const enterStage = fake.activities.enterStage;
    fake.activities.enterStage = async (args) => {
      await enterStage(args);
      if (args.stage === "code") throw Object.assign(new Error("stage code is not in the workflow"), { permanent: true });
    };
    const error = await withWorker(fake, async (taskQueue) => (await start(taskQueue, newRun())).result().catch((caught: unknown) => caught));
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(fake.steps().slice(-3)).toEqual(["enterStage:code", "finish:failed", "cleanup"]);
    expect(fake.calls.find((call) => call.name === "finish")?.args.outcome).toEqual({ status: "failed", stage: "code", reason: "stage code is not in the workflow" });
  });
});

async function pollUntil<T>(read: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("timed out waiting for the workflow");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function waitUntil(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the workflow");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
