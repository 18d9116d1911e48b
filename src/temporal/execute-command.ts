// What the workflow does for each pipeline command: which activity it calls and which result it
// feeds back to the machine. Imported by workflow code, so it may import only
// @temporalio/workflow, types and the pure pipeline modules. Kept apart from workflows.ts so
// the mapping is unit-tested without a Temporal server.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from "@temporalio/workflow";
import type { PipelineActivities } from "../pipeline/activities.ts";
import type { Command, RunRef, StepResult } from "../pipeline/types.ts";

export interface CommandPorts {
  activities: Omit<PipelineActivities, "loadRun">;
  /** Marks the task waiting, then resolves with the decision: `approved`, or `moved` by an operator. */
  waitForApproval(args: RunRef & { stage: string }): Promise<StepResult>;
}

const timeoutNames = { START_TO_CLOSE: "start to close", SCHEDULE_TO_START: "schedule to start", SCHEDULE_TO_CLOSE: "schedule to close", HEARTBEAT: "no heartbeat" } as const;

/**
 * Why an activity failed for good — its own error after the retries it was allowed, or running
 * out of time — or undefined for anything else (cancellation, a bug in the workflow).
 */
export function activityFailureReason(error: unknown): string | undefined {
  if (isCancellation(error) || !(error instanceof ActivityFailure)) return undefined;
  const { cause } = error;
  if (cause instanceof ApplicationFailure) return cause.message;
  if (cause instanceof TimeoutFailure) return cause.timeoutType ? `the step timed out (${timeoutNames[cause.timeoutType]})` : "the step timed out";
  return undefined;
}

/** Runs a step whose failure the pipeline handles; other errors (cancellation included) propagate. */
async function orFailed(step: () => Promise<StepResult>, failed: (reason: string) => StepResult): Promise<StepResult> {
  try {
    return await step();
  } catch (error) {
    const reason = activityFailureReason(error);
    if (reason === undefined) throw error;
    return failed(reason);
  }
}

export async function executeCommand(command: Command, run: RunRef, ports: CommandPorts): Promise<StepResult> {
  const { activities } = ports;
  switch (command.type) {
    case "checkFlag": {
      const { enabled } = await activities.checkFlag(run);
      return { type: "flagChecked", enabled };
    }
    case "enterStage":
      await activities.enterStage({ ...run, stage: command.stage });
      return { type: "stageEntered" };
    case "runAgent": {
      const { stage, role, iteration, reviewNotesRef } = command;
      return orFailed(
        async () => {
          const { verdict, outputRef } = await activities.runAgent({ ...run, stage, role, iteration, reviewNotesRef });
          return { type: "agentSucceeded", verdict, outputRef };
        },
        (reason) => ({ type: "agentFailed", reason }),
      );
    }
    case "waitForApproval":
      return ports.waitForApproval({ ...run, stage: command.stage });
    case "publish":
      return orFailed(
        async () => {
          const { prUrl, note } = await activities.publish({ ...run, stage: command.stage, reviewNotesRef: command.reviewNotesRef });
          return { type: "published", prUrl, note };
        },
        (reason) => ({ type: "publishFailed", reason }),
      );
    case "finish":
      // The sandbox is released even when recording the outcome fails.
      try {
        await activities.finish({ ...run, outcome: command.outcome });
      } finally {
        await activities.cleanup(run);
      }
      return { type: "finished" };
  }
}
