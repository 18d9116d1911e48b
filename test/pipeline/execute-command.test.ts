// The one command → activity → result mapping both engines use, without a Temporal server or a
// database. With Temporal's failure port, the activity failures are built the way the SDK hands
// them to workflow code; with the embedded runner's, they are the activity's own errors.
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from "@temporalio/workflow";
import { describe, expect, it } from "vitest";
import { errorMessage, PermanentFailure } from "../../src/lib/errors.ts";
import type { PipelineActivities } from "../../src/pipeline/activities.ts";
import { executeCommand, type CommandContext, type CommandPorts } from "../../src/pipeline/execute-command.ts";
import type { RunRef, StepResult } from "../../src/pipeline/types.ts";
import { activityFailureReason } from "../../src/temporal/activity-failure.ts";
import { defaultStages } from "../temporal/fake-activities.ts";

const run: RunRef = { taskId: "t1", runId: "r1", attempt: 1 };
const context: CommandContext = { run, stages: defaultStages };

const activityFailed = (cause: Error) => new ActivityFailure("Activity task failed", "runAgent", "7", "NON_RETRYABLE_FAILURE", "worker", cause);

function portsWith(overrides: Partial<CommandPorts["activities"]> = {}, decision: StepResult = { type: "approved" }, failureReason: CommandPorts["failureReason"] = activityFailureReason) {
  const calls: { name: string; args: unknown }[] = [];
  const record =
    <R>(name: string, value: R) =>
    async (args: unknown): Promise<R> => {
      calls.push({ name, args });
      return value;
    };
  const activities: Omit<PipelineActivities, "loadRun"> = {
    checkFlag: record("checkFlag", { enabled: true }),
    enterStage: record("enterStage", undefined),
    runAgent: record("runAgent", { verdict: "approve" as const, outputRef: "ref:review", extra: "ignored" }),
    markWaiting: record("markWaiting", undefined),
    publish: record("publish", { prUrl: "https://github.com/o/r/pull/1", note: null }),
    finish: record("finish", undefined),
    cleanup: record("cleanup", undefined),
    ...overrides,
  };
  const ports: CommandPorts = {
    activities,
    async waitForApproval(args) {
      calls.push({ name: "waitForApproval", args });
      return decision;
    },
    failureReason,
  };
  return { ports, calls };
}

describe("executeCommand", () => {
  it("checks the flag", async () => {
    const { ports } = portsWith({ checkFlag: async () => ({ enabled: false }) });
    expect(await executeCommand({ type: "checkFlag" }, context, ports)).toEqual({ type: "flagChecked", enabled: false });
  });

  it("enters a stage", async () => {
    const { ports, calls } = portsWith();
    expect(await executeCommand({ type: "enterStage", stage: "plan" }, context, ports)).toEqual({ type: "stageEntered" });
    expect(calls).toEqual([{ name: "enterStage", args: { ...run, stage: "plan", stageName: "Plan" } }]);
  });

  it("runs the agent and passes on only its verdict and output reference", async () => {
    const { ports, calls } = portsWith();
    const result = await executeCommand({ type: "runAgent", stage: "review", role: "reviewer", iteration: 1, reviewNotesRef: "ref:old" }, context, ports);
    expect(result).toEqual({ type: "agentSucceeded", verdict: "approve", outputRef: "ref:review" });
    expect(calls).toEqual([{ name: "runAgent", args: { ...run, stage: "review", stageName: "Review", role: "reviewer", iteration: 1, reviewNotesRef: "ref:old" } }]);
  });

  it("turns the agent's own failure into agentFailed with its message", async () => {
    const failure = activityFailed(ApplicationFailure.nonRetryable("the agent exited with code 2", "PermanentTaskFailure"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    const result = await executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, context, ports);
    expect(result).toEqual({ type: "agentFailed", reason: "the agent exited with code 2" });
  });

  it("turns an agent that ran out of time into agentFailed", async () => {
    const failure = activityFailed(new TimeoutFailure(undefined, undefined, "HEARTBEAT"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    const result = await executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, context, ports);
    expect(result).toEqual({ type: "agentFailed", reason: "the step timed out (no heartbeat)" });
  });

  it("lets a cancelled agent's cancellation through", async () => {
    const failure = activityFailed(new CancelledFailure("cancelled"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, context, ports)).rejects.toBe(failure);
  });

  it("waits for approval through the workflow's port", async () => {
    const { ports, calls } = portsWith({}, { type: "moved", stage: "code" });
    expect(await executeCommand({ type: "waitForApproval", stage: "plan" }, context, ports)).toEqual({ type: "moved", stage: "code" });
    expect(calls).toEqual([{ name: "waitForApproval", args: { ...run, stage: "plan", stageName: "Plan" } }]);
  });

  it("publishes, and maps a publishing failure to publishFailed", async () => {
    const { ports } = portsWith();
    expect(await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: null }, context, ports)).toEqual({
      type: "published",
      prUrl: "https://github.com/o/r/pull/1",
      note: null,
    });
    const failure = activityFailed(ApplicationFailure.nonRetryable("the diff contains a secret", "PermanentTaskFailure"));
    const failing = portsWith({ publish: async () => Promise.reject(failure) });
    expect(await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: null }, context, failing.ports)).toEqual({
      type: "publishFailed",
      reason: "the diff contains a secret",
    });
  });

  it("finishes, then cleans up", async () => {
    const { ports, calls } = portsWith();
    const outcome = { status: "cancelled" as const, stage: "code" };
    expect(await executeCommand({ type: "finish", outcome }, context, ports)).toEqual({ type: "finished" });
    expect(calls).toEqual([
      { name: "finish", args: { ...run, outcome, stageName: "Code" } },
      { name: "cleanup", args: run },
    ]);
  });

  it("cleans up even when recording the outcome fails", async () => {
    const failure = activityFailed(ApplicationFailure.create({ message: "database unavailable" }));
    const { ports, calls } = portsWith({ finish: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "finish", outcome: { status: "completed", prUrl: null, note: null } }, context, ports)).rejects.toBe(failure);
    expect(calls.map((call) => call.name)).toEqual(["cleanup"]);
  });

  it("lets bookkeeping failures through: the pipeline has no result for them", async () => {
    const failure = activityFailed(ApplicationFailure.create({ message: "database unavailable" }));
    const { ports } = portsWith({ enterStage: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "enterStage", stage: "plan" }, context, ports)).rejects.toBe(failure);
  });

  it("names each stage from the run's stages, and a key outside them by itself", async () => {
    const { ports, calls } = portsWith();
    await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: "ref:review" }, context, ports);
    const engineFailure = { status: "failed" as const, stage: "engine", reason: "engine error: boom" };
    await executeCommand({ type: "finish", outcome: engineFailure }, context, ports);
    expect(calls.slice(0, 2)).toEqual([
      { name: "publish", args: { ...run, stage: "complete", stageName: "Complete", reviewNotesRef: "ref:review" } },
      { name: "finish", args: { ...run, outcome: engineFailure, stageName: "engine" } },
    ]);
  });

  it("names no stage when finishing a completed run", async () => {
    const { ports, calls } = portsWith();
    const outcome = { status: "completed" as const, prUrl: null, note: "no changes" };
    await executeCommand({ type: "finish", outcome }, context, ports);
    expect(calls[0]).toStrictEqual({ name: "finish", args: { ...run, outcome } });
  });
});

describe("executeCommand with the embedded runner's failure port", () => {
  // The runner sees the activity's own error (after its retries); Temporal sees it wrapped.
  const ownMessage = errorMessage;

  it("fails the step with the activity's message, as Temporal does for the same error", async () => {
    const failing = { runAgent: async () => Promise.reject(new PermanentFailure("the agent exited with code 2")) };
    const embedded = portsWith(failing, undefined, ownMessage);
    const command = { type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null } as const;
    const viaRunner = await executeCommand(command, context, embedded.ports);
    const wrapped = activityFailed(ApplicationFailure.nonRetryable("the agent exited with code 2", "PermanentTaskFailure"));
    const viaTemporal = await executeCommand(command, context, portsWith({ runAgent: async () => Promise.reject(wrapped) }).ports);
    expect(viaRunner).toEqual({ type: "agentFailed", reason: "the agent exited with code 2" });
    expect(viaTemporal).toEqual(viaRunner);
  });

  it("fails publishing with a transient error's message once retries are spent", async () => {
    const { ports } = portsWith({ publish: async () => Promise.reject(new Error("GitHub answered 502")) }, undefined, ownMessage);
    expect(await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: null }, context, ports)).toEqual({ type: "publishFailed", reason: "GitHub answered 502" });
  });

  it("rethrows an error the port declines, as for an aborted run", async () => {
    const aborted = new Error("aborted");
    const { ports } = portsWith({ runAgent: async () => Promise.reject(aborted) }, undefined, () => undefined);
    await expect(executeCommand({ type: "runAgent", stage: "plan", role: "planner", iteration: 0, reviewNotesRef: null }, context, ports)).rejects.toBe(aborted);
  });
});

describe("activityFailureReason", () => {
  it("is undefined for anything but an activity's failure", () => {
    expect(activityFailureReason(new Error("a bug"))).toBeUndefined();
    expect(activityFailureReason(new CancelledFailure("cancelled"))).toBeUndefined();
    expect(activityFailureReason(activityFailed(new CancelledFailure("cancelled")))).toBeUndefined();
  });
});
