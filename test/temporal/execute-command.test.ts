// The command → activity → result mapping the workflow uses, without a Temporal server: the
// activity failures are built the way the SDK hands them to workflow code.
import { ActivityFailure, ApplicationFailure, CancelledFailure, TimeoutFailure } from "@temporalio/workflow";
import { describe, expect, it } from "vitest";
import type { PipelineActivities } from "../../src/pipeline/activities.ts";
import type { RunRef, StepResult } from "../../src/pipeline/types.ts";
import { activityFailureReason, executeCommand, type CommandPorts } from "../../src/temporal/execute-command.ts";

const run: RunRef = { taskId: "t1", runId: "r1", attempt: 1 };

const activityFailed = (cause: Error) => new ActivityFailure("Activity task failed", "runAgent", "7", "NON_RETRYABLE_FAILURE", "worker", cause);

function portsWith(overrides: Partial<CommandPorts["activities"]> = {}, decision: StepResult = { type: "approved" }) {
  const calls: { name: string; args: unknown }[] = [];
  const record =
    <R>(name: string, value: R) =>
    async (args: unknown) => {
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
  };
  return { ports, calls };
}

describe("executeCommand", () => {
  it("checks the flag", async () => {
    const { ports } = portsWith({ checkFlag: async () => ({ enabled: false }) });
    expect(await executeCommand({ type: "checkFlag" }, run, ports)).toEqual({ type: "flagChecked", enabled: false });
  });

  it("enters a stage", async () => {
    const { ports, calls } = portsWith();
    expect(await executeCommand({ type: "enterStage", stage: "plan" }, run, ports)).toEqual({ type: "stageEntered" });
    expect(calls).toEqual([{ name: "enterStage", args: { ...run, stage: "plan" } }]);
  });

  it("runs the agent and passes on only its verdict and output reference", async () => {
    const { ports, calls } = portsWith();
    const result = await executeCommand({ type: "runAgent", stage: "review", role: "reviewer", iteration: 1, reviewNotesRef: "ref:old" }, run, ports);
    expect(result).toEqual({ type: "agentSucceeded", verdict: "approve", outputRef: "ref:review" });
    expect(calls).toEqual([{ name: "runAgent", args: { ...run, stage: "review", role: "reviewer", iteration: 1, reviewNotesRef: "ref:old" } }]);
  });

  it("turns the agent's own failure into agentFailed with its message", async () => {
    const failure = activityFailed(ApplicationFailure.nonRetryable("the agent exited with code 2", "PermanentTaskFailure"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    const result = await executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, run, ports);
    expect(result).toEqual({ type: "agentFailed", reason: "the agent exited with code 2" });
  });

  it("turns an agent that ran out of time into agentFailed", async () => {
    const failure = activityFailed(new TimeoutFailure(undefined, undefined, "HEARTBEAT"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    const result = await executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, run, ports);
    expect(result).toEqual({ type: "agentFailed", reason: "the step timed out (no heartbeat)" });
  });

  it("lets a cancelled agent's cancellation through", async () => {
    const failure = activityFailed(new CancelledFailure("cancelled"));
    const { ports } = portsWith({ runAgent: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "runAgent", stage: "code", role: "coder", iteration: 0, reviewNotesRef: null }, run, ports)).rejects.toBe(failure);
  });

  it("waits for approval through the workflow's port", async () => {
    const { ports, calls } = portsWith({}, { type: "moved", stage: "code" });
    expect(await executeCommand({ type: "waitForApproval", stage: "plan" }, run, ports)).toEqual({ type: "moved", stage: "code" });
    expect(calls).toEqual([{ name: "waitForApproval", args: { ...run, stage: "plan" } }]);
  });

  it("publishes, and maps a publishing failure to publishFailed", async () => {
    const { ports } = portsWith();
    expect(await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: null }, run, ports)).toEqual({
      type: "published",
      prUrl: "https://github.com/o/r/pull/1",
      note: null,
    });
    const failure = activityFailed(ApplicationFailure.nonRetryable("the diff contains a secret", "PermanentTaskFailure"));
    const failing = portsWith({ publish: async () => Promise.reject(failure) });
    expect(await executeCommand({ type: "publish", stage: "complete", reviewNotesRef: null }, run, failing.ports)).toEqual({
      type: "publishFailed",
      reason: "the diff contains a secret",
    });
  });

  it("finishes, then cleans up", async () => {
    const { ports, calls } = portsWith();
    const outcome = { status: "cancelled" as const, stage: "code" };
    expect(await executeCommand({ type: "finish", outcome }, run, ports)).toEqual({ type: "finished" });
    expect(calls).toEqual([
      { name: "finish", args: { ...run, outcome } },
      { name: "cleanup", args: run },
    ]);
  });

  it("cleans up even when recording the outcome fails", async () => {
    const failure = activityFailed(ApplicationFailure.create({ message: "database unavailable" }));
    const { ports, calls } = portsWith({ finish: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "finish", outcome: { status: "completed", prUrl: null, note: null } }, run, ports)).rejects.toBe(failure);
    expect(calls.map((call) => call.name)).toEqual(["cleanup"]);
  });

  it("lets bookkeeping failures through: the pipeline has no result for them", async () => {
    const failure = activityFailed(ApplicationFailure.create({ message: "database unavailable" }));
    const { ports } = portsWith({ enterStage: async () => Promise.reject(failure) });
    await expect(executeCommand({ type: "enterStage", stage: "plan" }, run, ports)).rejects.toBe(failure);
  });
});

describe("activityFailureReason", () => {
  it("is undefined for anything but an activity's failure", () => {
    expect(activityFailureReason(new Error("a bug"))).toBeUndefined();
    expect(activityFailureReason(new CancelledFailure("cancelled"))).toBeUndefined();
    expect(activityFailureReason(activityFailed(new CancelledFailure("cancelled")))).toBeUndefined();
  });
});
