// taskWorkflow replayed through the real SDK (its bundle, sandbox, cancellation scopes, signal
// handling) against hand-built histories — no server needed, so this always runs. Each history
// is what the server would record for one scenario; replay fails if the workflow would issue
// different commands, and a capturing interceptor shows the activities' arguments and the outcome.
import { fileURLToPath } from "node:url";
import type { WorkflowInfo } from "@temporalio/workflow";
import { bundleWorkflowCode, Runtime, Worker, type WorkflowBundle } from "@temporalio/worker";
import { beforeAll, describe, expect, it } from "vitest";
import type { Outcome, RunRef } from "../../src/pipeline/types.ts";
import { defaultStages, prUrl } from "./fake-activities.ts";
import { createHistoryBuilder, type History } from "./history-builder.ts";

const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };
const pathOf = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const run: RunRef = { taskId: "task_1", runId: "run_1", attempt: 1 };
/** Activities name the stage by key and by its name in the run's stages. */
const stageName = (key: string) => defaultStages.find((stage) => stage.key === key)!.name;
const at = (stage: string) => ({ ...run, stage, stageName: stageName(stage) });
const agent = (stage: string, role: string, iteration = 0, reviewNotesRef: string | null = null) => ({ ...at(stage), role, iteration, reviewNotesRef });
const input = (approvalAt?: string) => ({
  ...run,
  stages: defaultStages.map((stage) => ({ ...stage, requiresApproval: stage.key === approvalAt })),
  startStage: "plan",
  kind: "initial",
  maxReviewLoops: 2,
});
const agentOutput = (verdict: "approve" | "request_changes" | null = null, outputRef: string | null = null) => ({ verdict, outputRef });
const completed: Outcome = { status: "completed", prUrl, note: null };

interface Replayed {
  activities: [string, unknown][];
  result?: unknown;
  failure?: string;
}

let bundle: WorkflowBundle;

beforeAll(async () => {
  // The replays are expected to be quiet; a nondeterminism error still reaches the test as a rejection.
  Runtime.install({ logger: silent, telemetryOptions: { logging: { filter: { core: "ERROR", other: "ERROR" }, forward: {} } } });
  bundle = await bundleWorkflowCode({
    workflowsPath: pathOf("../../src/temporal/workflows.ts"),
    workflowInterceptorModules: [pathOf("./fixtures/capture-interceptor.ts")],
    logger: silent,
  });
}, 120_000);

async function replay(history: History): Promise<Replayed> {
  const replayed: Replayed = { activities: [] };
  await Worker.runReplayHistory(
    {
      workflowBundle: bundle,
      sinks: {
        capture: {
          activity: { fn: (_info: WorkflowInfo, type: string, args: unknown[]) => void replayed.activities.push([type, args[0]]), callDuringReplay: true },
          result: { fn: (_info: WorkflowInfo, value: unknown) => void (replayed.result = value), callDuringReplay: true },
          failure: { fn: (_info: WorkflowInfo, message: string) => void (replayed.failure = message), callDuringReplay: true },
        },
      },
    },
    history,
    "task-replay",
  );
  return replayed;
}

/** Loads the run and checks the flag: every scenario's opening. */
const opened = (approvalAt?: string) => createHistoryBuilder("taskWorkflow", run).activity("loadRun", input(approvalAt)).activity("checkFlag", { enabled: true });

describe("taskWorkflow replayed", { timeout: 60_000 }, () => {
  it("runs every stage, publishes at Complete, then finishes and cleans up", async () => {
    const history = opened()
      .activity("enterStage").activity("runAgent", agentOutput(null, "out:plan"))
      .activity("enterStage").activity("runAgent", agentOutput(null, "out:code"))
      .activity("enterStage").activity("runAgent", agentOutput("approve", "out:review"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.result).toEqual(completed);
    expect(replayed.activities).toEqual([
      ["loadRun", run],
      ["checkFlag", run],
      ["enterStage", at("plan")],
      ["runAgent", agent("plan", "planner")],
      ["enterStage", at("code")],
      ["runAgent", agent("code", "coder")],
      ["enterStage", at("review")],
      ["runAgent", agent("review", "reviewer")],
      ["enterStage", at("complete")],
      ["publish", { ...at("complete"), reviewNotesRef: "out:review" }],
      ["finish", { ...run, outcome: completed }],
      ["cleanup", run],
    ]);
  });

  it("sends the task back to Code with the review's notes when the reviewer requests changes", async () => {
    const history = opened()
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput("request_changes", "out:review:0"))
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput("approve", "out:review:1"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.activities.filter(([type]) => type === "runAgent").map(([, args]) => args)).toEqual([
      agent("plan", "planner"),
      agent("code", "coder"),
      agent("review", "reviewer"),
      agent("code", "coder", 1, "out:review:0"),
      agent("review", "reviewer", 1, "out:review:0"),
    ]);
    expect(replayed.result).toEqual(completed);
  });

  it("fails the run with the stage and the agent's reason", async () => {
    const builder = opened().activity("enterStage").activity("runAgent", agentOutput()).activity("enterStage").workflowTask();
    builder.failActivity(builder.scheduleActivity("runAgent"), { message: "the agent exited with code 2", type: "PermanentTaskFailure", nonRetryable: true });
    const history = builder.activity("finish").activity("cleanup").completed({ status: "failed", stage: "code", reason: "the agent exited with code 2" });

    const replayed = await replay(history);

    const outcome = { status: "failed", stage: "code", reason: "the agent exited with code 2" };
    expect(replayed.result).toEqual(outcome);
    expect(replayed.activities.slice(-2)).toEqual([
      ["finish", { ...run, outcome, stageName: "Code" }],
      ["cleanup", run],
    ]);
  });

  it("waits for approval after marking the task waiting, until the approve signal", async () => {
    const history = opened("plan")
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("markWaiting")
      .workflowTask() // nothing to do but wait
      .signal("approve")
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput("approve"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.activities.slice(4, 6)).toEqual([
      ["markWaiting", at("plan")],
      ["enterStage", at("code")],
    ]);
    expect(replayed.result).toEqual(completed);
  });

  it("does not count an approval sent before the wait began", async () => {
    // Replay checks the order of commands, not which workflow task issued them, so the scenario
    // makes the difference visible: honouring the early approval would run Code before the move.
    const builder = opened("plan").activity("enterStage").workflowTask();
    const planAgent = builder.scheduleActivity("runAgent");
    const history = builder
      .signal("approve") // early, e.g. a double click at an earlier stage
      .workflowTask()
      .completeActivity(planAgent, agentOutput())
      .activity("markWaiting")
      .workflowTask() // still waiting: the early approval was dropped
      .signal("moveStage", "review")
      .activity("enterStage").activity("runAgent", agentOutput("approve"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.activities.filter(([type]) => type === "enterStage").map(([, args]) => (args as { stage: string }).stage)).toEqual(["plan", "review", "complete"]);
  });

  it("moves to the stage a moveStage signal names while waiting for approval", async () => {
    const history = opened("code")
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("markWaiting")
      .workflowTask()
      .signal("moveStage", "plan")
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("markWaiting")
      .workflowTask()
      .signal("approve")
      .activity("enterStage").activity("runAgent", agentOutput("approve"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.activities.filter(([type]) => type === "enterStage").map(([, args]) => (args as { stage: string }).stage)).toEqual(["plan", "code", "plan", "code", "review", "complete"]);
  });

  it("applies a move that arrived while an agent ran once that agent is done", async () => {
    const builder = opened().activity("enterStage").workflowTask();
    const planAgent = builder.scheduleActivity("runAgent");
    const history = builder
      .signal("moveStage", "review")
      .workflowTask() // the signal alone changes nothing while the agent runs
      .completeActivity(planAgent, agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput("approve"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .activity("finish").activity("cleanup")
      .completed(completed);

    const replayed = await replay(history);

    expect(replayed.activities.filter(([type]) => type === "enterStage").map(([, args]) => (args as { stage: string }).stage)).toEqual(["plan", "review", "complete"]);
  });

  it("on cancellation during an agent, cancels it, then records the cancelled outcome and cleans up", async () => {
    const builder = opened().activity("enterStage").activity("runAgent", agentOutput()).activity("enterStage").workflowTask();
    const codeAgent = builder.scheduleActivity("runAgent");
    const cancelled: Outcome = { status: "cancelled", stage: "code" };
    const history = builder
      .cancelWorkflow()
      .workflowTask() // asks the agent's activity to stop, and waits for it to confirm
      .activityCancelled(codeAgent)
      .activity("finish").activity("cleanup")
      .completed(cancelled);

    const replayed = await replay(history);

    expect(replayed.result).toEqual(cancelled);
    expect(replayed.activities.slice(-2)).toEqual([
      ["finish", { ...run, outcome: cancelled, stageName: "Code" }],
      ["cleanup", run],
    ]);
  });

  it("on cancellation while waiting for approval, records the cancelled outcome and cleans up", async () => {
    const cancelled: Outcome = { status: "cancelled", stage: "plan" };
    const history = opened("plan")
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("markWaiting")
      .workflowTask()
      .cancelWorkflow()
      .activity("finish").activity("cleanup")
      .completed(cancelled);

    expect((await replay(history)).result).toEqual(cancelled);
  });

  it("lets the run's recorded end stand when a cancellation arrives while it is being recorded", async () => {
    const builder = opened()
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput())
      .activity("enterStage").activity("runAgent", agentOutput("approve"))
      .activity("enterStage").activity("publish", { prUrl, note: null })
      .workflowTask();
    const finish = builder.scheduleActivity("finish");
    const history = builder
      .cancelWorkflow()
      .workflowTask() // finishing is not cancellable: nothing to do
      .completeActivity(finish)
      .activity("cleanup")
      .completed(completed);

    expect((await replay(history)).result).toEqual(completed);
  });

  it("records a bookkeeping step that failed for good as a failed run, then fails the workflow", async () => {
    const builder = opened().activity("enterStage").activity("runAgent", agentOutput()).workflowTask();
    builder.failActivity(builder.scheduleActivity("enterStage"), { message: "stage code is not in the workflow", type: "PermanentTaskFailure", nonRetryable: true });
    const history = builder.activity("finish").activity("cleanup").failed("Activity task failed");

    const replayed = await replay(history);

    expect(replayed.failure).toBeDefined();
    expect(replayed.activities.slice(-2)).toEqual([
      ["finish", { ...run, outcome: { status: "failed", stage: "code", reason: "stage code is not in the workflow" }, stageName: "Code" }],
      ["cleanup", run],
    ]);
  });

  it("is caught by replay when it would do something else than the history holds", async () => {
    // A history in which the run skipped checking the flag: the workflow cannot replay it.
    const history = createHistoryBuilder("taskWorkflow", run).activity("loadRun", input()).activity("enterStage").completed(completed);
    await expect(replay(history)).rejects.toThrow(/[Nn]ondeterminism/);
  });
});
