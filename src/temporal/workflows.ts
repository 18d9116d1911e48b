// The Temporal engine: one workflow execution per task run, a thin loop over the pure stage
// machine (src/pipeline/machine.ts). Workflow code is replayed from history and bundled in a
// sandbox, so this file and the helpers it imports use only @temporalio/workflow, types and
// the pure pipeline modules — no I/O, clock or randomness of their own.
import { ApplicationFailure, CancellationScope, condition, defineQuery, defineSignal, isCancellation, proxyActivities, setHandler, TemporalFailure } from "@temporalio/workflow";
import type { PipelineActivities } from "../pipeline/activities.ts";
import { executeCommand, type CommandContext, type CommandPorts } from "../pipeline/execute-command.ts";
import { applyResult, describeState, nextCommand, startPipeline } from "../pipeline/machine.ts";
import type { Command, Outcome, PipelineState, RunRef, StepResult } from "../pipeline/types.ts";
import { activityFailureReason } from "./activity-failure.ts";
import { activityProfiles } from "./activity-profiles.ts";
import { createRunInbox } from "./run-inbox.ts";

export type TaskStatus = ReturnType<typeof describeState>;

/** An operator approved the stage the run is waiting at. */
export const approveSignal = defineSignal("approve");
/** An operator moved the task to another stage (by key). */
export const moveStageSignal = defineSignal<[stage: string]>("moveStage");
/** Where the run is; null until the run's input has been loaded. */
export const statusQuery = defineQuery<TaskStatus | null>("status");

const quick = proxyActivities<PipelineActivities>(activityProfiles.quick);
const long = proxyActivities<Pick<PipelineActivities, "runAgent" | "publish">>(activityProfiles.agent);

const activities: CommandPorts["activities"] = {
  checkFlag: quick.checkFlag,
  enterStage: quick.enterStage,
  markWaiting: quick.markWaiting,
  finish: quick.finish,
  cleanup: quick.cleanup,
  runAgent: long.runAgent,
  publish: long.publish,
};

export async function taskWorkflow(run: RunRef): Promise<Outcome> {
  // Only the reference travels, whatever else a caller put on the object.
  const ref: RunRef = { taskId: run.taskId, runId: run.runId, attempt: run.attempt };
  const inbox = createRunInbox();
  let state: PipelineState | undefined;

  // Handlers first: a signal sent right after the start must not find the workflow deaf.
  setHandler(approveSignal, () => inbox.approve());
  setHandler(moveStageSignal, (stage) => inbox.move(stage));
  setHandler(statusQuery, () => (state ? describeState(state) : null));

  const ports: CommandPorts = {
    activities,
    async waitForApproval(args) {
      inbox.openApprovalWait();
      await activities.markWaiting(args);
      await condition(() => inbox.hasDecision());
      return inbox.takeDecision()!;
    },
    failureReason: activityFailureReason,
  };

  // Not cancellable: the machine needs the run's input to record any outcome, cancellation included.
  const input = await CancellationScope.nonCancellable(() => quick.loadRun(ref));
  const context: CommandContext = { run: ref, stages: input.stages };
  const execute = (command: Command): Promise<StepResult> =>
    // Once the outcome is being recorded, a cancellation arriving now must not cut it short.
    command.type === "finish" ? CancellationScope.nonCancellable(() => executeCommand(command, context, ports)) : executeCommand(command, context, ports);
  const drive = async (from: PipelineState): Promise<PipelineState> => {
    let current = from;
    for (let command = nextCommand(current); command; command = nextCommand(current)) {
      const result = await execute(command);
      current = inbox.applyMoves(applyResult(current, result));
      state = current;
    }
    return current;
  };

  state = inbox.applyMoves(startPipeline(input));
  try {
    state = await drive(state);
  } catch (error) {
    const reached: PipelineState = state;
    if (!isCancellation(error)) {
      await CancellationScope.nonCancellable(() => recordFailure(reached, error, execute));
      throw asWorkflowFailure(error);
    }
    // The rest (finish with the cancelled outcome, then cleanup) runs whatever else is cancelled.
    const cancelled = applyResult(reached, { type: "cancelled" });
    state = cancelled;
    state = await CancellationScope.nonCancellable(() => drive(cancelled));
  }
  return state.outcome!;
}

/**
 * Temporal fails the execution only for its own failure types; any other error would retry the
 * workflow task forever after the failure has been recorded, so it is made one.
 */
function asWorkflowFailure(error: unknown): unknown {
  if (error instanceof TemporalFailure || !(error instanceof Error)) return error;
  return ApplicationFailure.create({ message: error.message, type: error.name, nonRetryable: true });
}

/**
 * A step the pipeline has no result for (bookkeeping that failed past its retries) ends the run:
 * record it as failed and release the sandbox, then let the workflow fail visibly. A failing
 * finish step has already run cleanup itself.
 */
async function recordFailure(state: PipelineState, error: unknown, execute: (command: Command) => Promise<StepResult>): Promise<void> {
  if (state.phase === "finish" || state.phase === "done") return;
  const reason = activityFailureReason(error) ?? (error instanceof Error ? error.message : String(error));
  await execute({ type: "finish", outcome: { status: "failed", stage: describeState(state).stage, reason } });
}
