// The one interpreter of pipeline commands, shared by both engines: which activity a command
// calls, with which arguments, and which result it feeds back to the machine. Temporal runs it
// as workflow code, so it stays pure like the rest of pipeline/; what differs between the
// engines (how a decision is awaited, which failures are the pipeline's to handle) comes in as
// ports.
import type { PipelineActivities, StageArgs } from "./activities.ts";
import type { Command, Outcome, RunRef, StageSpec, StepResult } from "./types.ts";

export interface CommandPorts {
  activities: Omit<PipelineActivities, "loadRun">;
  /** Marks the task waiting, then resolves with the decision: `approved`, `moved` or `cancelled`. */
  waitForApproval(args: StageArgs): Promise<StepResult>;
  /**
   * The readable reason for a failed agent or publish step, which the pipeline records as the
   * run's failure; undefined for an error it must not absorb (cancellation, a bug), which is
   * rethrown.
   */
  failureReason(error: unknown): string | undefined;
}

/** The run a command belongs to, and its stages (for the names the activities report). */
export interface CommandContext {
  run: RunRef;
  stages: readonly StageSpec[];
}

export async function executeCommand(command: Command, context: CommandContext, ports: CommandPorts): Promise<StepResult> {
  const { activities } = ports;
  const { run } = context;
  switch (command.type) {
    case "checkFlag": {
      const { enabled } = await activities.checkFlag(run);
      return { type: "flagChecked", enabled };
    }
    case "enterStage":
      await activities.enterStage(stageArgs(context, command.stage));
      return { type: "stageEntered" };
    case "runAgent": {
      const { role, iteration, reviewNotesRef } = command;
      return orFailed(
        ports,
        async () => {
          const { verdict, outputRef } = await activities.runAgent({ ...stageArgs(context, command.stage), role, iteration, reviewNotesRef });
          return { type: "agentSucceeded", verdict, outputRef };
        },
        (reason) => ({ type: "agentFailed", reason }),
      );
    }
    case "waitForApproval":
      return ports.waitForApproval(stageArgs(context, command.stage));
    case "publish":
      return orFailed(
        ports,
        async () => {
          const { prUrl, note } = await activities.publish({ ...stageArgs(context, command.stage), reviewNotesRef: command.reviewNotesRef });
          return { type: "published", prUrl, note };
        },
        (reason) => ({ type: "publishFailed", reason }),
      );
    case "finish":
      // The sandbox is released even when recording the outcome fails.
      try {
        await activities.finish({ ...run, outcome: command.outcome, ...outcomeStageName(context, command.outcome) });
      } finally {
        await activities.cleanup(run);
      }
      return { type: "finished" };
  }
}

function stageArgs({ run, stages }: CommandContext, stage: string): StageArgs {
  return { ...run, stage, stageName: stageName(stages, stage) };
}

/** A key outside the workflow (an engine failure) is its own name. */
function stageName(stages: readonly StageSpec[], key: string): string {
  return stages.find((stage) => stage.key === key)?.name ?? key;
}

function outcomeStageName({ stages }: CommandContext, outcome: Outcome): { stageName?: string } {
  return outcome.status === "completed" ? {} : { stageName: stageName(stages, outcome.stage) };
}

/** Runs a step whose failure the pipeline handles; other errors propagate. */
async function orFailed(ports: CommandPorts, step: () => Promise<StepResult>, failed: (reason: string) => StepResult): Promise<StepResult> {
  try {
    return await step();
  } catch (error) {
    const reason = ports.failureReason(error);
    if (reason === undefined) throw error;
    return failed(reason);
  }
}
