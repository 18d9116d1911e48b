// Workflow ids are business ids (STYLE.md, Temporal samples): starting the same run twice finds
// the same execution instead of creating a second one. Only ids travel, nothing secret.
import type { RunRef } from "../pipeline/types.ts";

/** `task-<taskId>` for a task's first run, `task-<taskId>-<attempt>` for later runs. */
export function taskWorkflowId(run: Pick<RunRef, "taskId" | "attempt">): string {
  if (!Number.isInteger(run.attempt) || run.attempt < 1) throw new RangeError(`a run attempt is a whole number from 1, got ${run.attempt}`);
  return run.attempt === 1 ? `task-${run.taskId}` : `task-${run.taskId}-${run.attempt}`;
}
