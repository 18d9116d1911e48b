// Temporal's port for the pipeline's failure reasons: how an activity's failure reaches workflow
// code (an ActivityFailure wrapping the activity's own error or a timeout) and what of it the run
// records. Workflow code: it imports only @temporalio/workflow.
import { ActivityFailure, ApplicationFailure, TimeoutFailure, isCancellation } from "@temporalio/workflow";

const timeoutNames = { START_TO_CLOSE: "start to close", SCHEDULE_TO_START: "schedule to start", SCHEDULE_TO_CLOSE: "schedule to close", HEARTBEAT: "no heartbeat" } as const;

/**
 * Why an activity failed for good — its own error's message after the retries it was allowed,
 * or running out of time — or undefined for anything else (cancellation, a bug in the workflow).
 */
export function activityFailureReason(error: unknown): string | undefined {
  if (isCancellation(error) || !(error instanceof ActivityFailure)) return undefined;
  const { cause } = error;
  if (cause instanceof ApplicationFailure) return cause.message;
  if (cause instanceof TimeoutFailure) return cause.timeoutType ? `the step timed out (${timeoutNames[cause.timeoutType]})` : "the step timed out";
  return undefined;
}
