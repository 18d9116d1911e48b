// One run on the embedded engine: drive the pipeline, and persist every step's command and
// result in run_steps before moving on. After a crash the same loop replays recorded steps
// instead of repeating them; only a step that was in flight runs again, through idempotent
// activities. External inputs (manual moves) are recorded as steps too, so replay is exact.
import { isDeepStrictEqual } from "node:util";
import { claimRun } from "../db/engine-runs.ts";
import { listRunSteps, recordRunStep } from "../db/run-steps.ts";
import { executeCommand, type CommandContext } from "../pipeline/execute-command.ts";
import { applyResult, nextCommand, startPipeline } from "../pipeline/machine.ts";
import type { Command, PipelineState, RunRef, StepResult } from "../pipeline/types.ts";
import type { RunMailbox } from "./run-mailbox.ts";
import { createRunnerPorts, type RunnerPortDeps } from "./runner-ports.ts";

type RecordedCommand = Command | { type: "external" };

export type ExecuteRunDeps = RunnerPortDeps;

/** How long a cancelled step may take to notice the abort before cleanup goes ahead anyway. */
const interruptedStepGraceMs = 10_000;

class Shutdown extends Error {}
/** Another executor recorded this step first: it owns the run now. */
class LostOwnership extends Error {}

export async function executeRun(deps: ExecuteRunDeps, run: RunRef, mailbox: RunMailbox): Promise<void> {
  const { db, activities } = deps;
  const log = deps.log.child({ taskId: run.taskId, runId: run.runId });
  if (!(await claimRun(db, run.runId))) return; // finished or cancelled before it started

  const recorded = (await listRunSteps(db, run.runId)) as { command: RecordedCommand; result: StepResult }[];
  const input = await activities.loadRun(run);
  const context: CommandContext = { run, stages: input.stages };
  let state: PipelineState = startPipeline(input);
  let seq = 0;
  const record = async (command: RecordedCommand, result: StepResult) => {
    if (!(await recordRunStep(db, run.runId, seq, { command, result }))) throw new LostOwnership();
  };

  try {
    for (;;) {
      const replay = recorded[seq];
      if (replay && replay.command.type === "external") {
        state = applyResult(state, replay.result);
        seq += 1;
        continue;
      }
      const command = nextCommand(state);
      if (!command) break;
      let result: StepResult;
      if (replay) {
        if (!isDeepStrictEqual(replay.command, command)) {
          throw new Error(`run history does not match the pipeline at step ${seq}: recorded ${JSON.stringify(replay.command)}, now ${JSON.stringify(command)}`);
        }
        result = replay.result;
      } else {
        result = await perform(deps, context, command, mailbox);
        await record(command, result);
      }
      state = applyResult(state, result);
      seq += 1;
      // A move that arrived while the step ran takes effect now, recorded like any step.
      const move = !recorded[seq] && state.phase !== "finish" && state.phase !== "done" ? mailbox.takeMove() : undefined;
      if (move) {
        const moved: StepResult = { type: "moved", stage: move };
        await record({ type: "external" }, moved);
        state = applyResult(state, moved);
        seq += 1;
      }
    }
  } catch (error) {
    if (error instanceof Shutdown) {
      log.info("run paused for shutdown; it resumes on the next start");
      return;
    }
    if (error instanceof LostOwnership) {
      log.warn("another runner is executing this run (one embedded runner per database); leaving it to that one");
      return;
    }
    throw error;
  }
}

/** Performs one command; a cancel turns whatever was in flight into a `cancelled` result. */
async function perform(deps: ExecuteRunDeps, context: CommandContext, command: Command, mailbox: RunMailbox): Promise<StepResult> {
  // Finishing (with cleanup) always runs, cancelled or not; it is idempotent.
  if (command.type === "finish") return executeCommand(command, context, createRunnerPorts(deps, context.run, mailbox));
  // Parked between two steps: everything before is recorded, the next step runs after the restart.
  if (mailbox.stopReason === "shutdown" || mailbox.parking) throw new Shutdown();
  if (mailbox.stopReason === "cancel") return { type: "cancelled" };

  const work = executeCommand(command, context, createRunnerPorts(deps, context.run, mailbox));
  const stopped = new Promise<"stopped">((resolve) => {
    if (mailbox.abort.signal.aborted) resolve("stopped");
    mailbox.abort.signal.addEventListener("abort", () => resolve("stopped"), { once: true });
  });
  const winner = await Promise.race([work, stopped]);
  if (winner !== "stopped") return winner;
  // The step sees the abort signal (the agent's process group is killed) and reports its own
  // end, e.g. its check run as cancelled. Give it a bounded moment, so cleanup follows it.
  const settled = work.then(
    () => undefined,
    (error: unknown) => deps.log.debug({ err: error }, "interrupted step ended"),
  );
  await Promise.race([settled, new Promise((resolve) => setTimeout(resolve, interruptedStepGraceMs))]);
  if (mailbox.stopReason === "shutdown") throw new Shutdown();
  return { type: "cancelled" };
}
