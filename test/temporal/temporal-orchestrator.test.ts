// The Orchestrator port's Temporal adapter against a fake of the client surface it uses; the
// same calls against a real server are in workflow.test.ts.
import type { Client } from "@temporalio/client";
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/common";
import { describe, expect, it } from "vitest";
import { createTemporalOrchestrator } from "../../src/temporal/temporal-orchestrator.ts";
import { moveStageSignal, taskWorkflow } from "../../src/temporal/workflows.ts";

function fakeClient(failures: { start?: Error; handle?: Error } = {}) {
  const calls: unknown[][] = [];
  const workflow = {
    async start(...args: unknown[]) {
      calls.push(["start", ...args]);
      if (failures.start) throw failures.start;
      return {};
    },
    getHandle(workflowId: string) {
      return {
        async cancel() {
          calls.push(["cancel", workflowId]);
          if (failures.handle) throw failures.handle;
        },
        async signal(...args: unknown[]) {
          calls.push(["signal", workflowId, ...args]);
          if (failures.handle) throw failures.handle;
        },
      };
    },
  };
  return { client: { workflow } as unknown as Client, calls };
}

const run = { taskId: "t1", runId: "r1", attempt: 1 };

describe("createTemporalOrchestrator", () => {
  it("starts the task workflow under the run's business id, attaching to a running one", async () => {
    const { client, calls } = fakeClient();
    const orchestrator = createTemporalOrchestrator({ client, taskQueue: "tasks" });
    expect(orchestrator.engine).toBe("temporal");
    expect(await orchestrator.start({ ...run, attempt: 2 })).toEqual({ engineId: "task-t1-2" });
    expect(calls).toEqual([
      [
        "start",
        taskWorkflow,
        {
          workflowId: "task-t1-2",
          taskQueue: "tasks",
          args: [{ taskId: "t1", runId: "r1", attempt: 2 }],
          workflowIdConflictPolicy: "USE_EXISTING",
          workflowIdReusePolicy: "REJECT_DUPLICATE",
        },
      ],
    ]);
  });

  it("sends only the run's ids, whatever else the caller's object holds", async () => {
    const { client, calls } = fakeClient();
    await createTemporalOrchestrator({ client, taskQueue: "tasks" }).start({ ...run, secret: "not for Temporal" } as typeof run);
    expect(calls[0]?.[2]).toMatchObject({ args: [run] });
  });

  it("treats a run that already ran under that id as started", async () => {
    const { client } = fakeClient({ start: new WorkflowExecutionAlreadyStartedError("Workflow execution already started", "task-t1", "taskWorkflow") });
    expect(await createTemporalOrchestrator({ client, taskQueue: "tasks" }).start(run)).toEqual({ engineId: "task-t1" });
  });

  it("passes other start failures on", async () => {
    const { client } = fakeClient({ start: new Error("connection refused") });
    await expect(createTemporalOrchestrator({ client, taskQueue: "tasks" }).start(run)).rejects.toThrow("connection refused");
  });

  it("cancels the run's workflow and signals moves to it", async () => {
    const { client, calls } = fakeClient();
    const orchestrator = createTemporalOrchestrator({ client, taskQueue: "tasks" });
    await orchestrator.cancel(run);
    await orchestrator.stageMoved(run, "code");
    expect(calls).toEqual([
      ["cancel", "task-t1"],
      ["signal", "task-t1", moveStageSignal, "code"],
    ]);
  });

  it("has nothing to cancel or move once the workflow has ended", async () => {
    const { client } = fakeClient({ handle: new WorkflowNotFoundError("workflow execution already completed", "task-t1", undefined) });
    const orchestrator = createTemporalOrchestrator({ client, taskQueue: "tasks" });
    await expect(orchestrator.cancel(run)).resolves.toBeUndefined();
    await expect(orchestrator.stageMoved(run, "code")).resolves.toBeUndefined();
  });

  it("passes other cancel failures on", async () => {
    const { client } = fakeClient({ handle: new Error("connection refused") });
    await expect(createTemporalOrchestrator({ client, taskQueue: "tasks" }).cancel(run)).rejects.toThrow("connection refused");
  });
});
