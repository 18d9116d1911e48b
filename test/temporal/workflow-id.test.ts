import { describe, expect, it } from "vitest";
import { taskWorkflowId } from "../../src/temporal/workflow-id.ts";

describe("taskWorkflowId", () => {
  it("names a task's first run after the task", () => {
    expect(taskWorkflowId({ taskId: "t1", attempt: 1 })).toBe("task-t1");
  });

  it("adds the attempt for later runs", () => {
    expect(taskWorkflowId({ taskId: "t1", attempt: 2 })).toBe("task-t1-2");
    expect(taskWorkflowId({ taskId: "t1", attempt: 13 })).toBe("task-t1-13");
  });

  it("refuses an attempt that is not a whole number from 1", () => {
    expect(() => taskWorkflowId({ taskId: "t1", attempt: 0 })).toThrow(RangeError);
    expect(() => taskWorkflowId({ taskId: "t1", attempt: 1.5 })).toThrow(RangeError);
  });
});
