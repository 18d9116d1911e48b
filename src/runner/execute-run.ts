// One run on the embedded engine: drive the pipeline, and persist every step's command and
// result in run_steps before moving on. After a crash the same loop replays recorded steps
// instead of repeating them; only a step that was in flight runs again, through idempotent
// activities. External inputs (manual moves) are recorded as steps too, so replay is exact.
import { isDeepStrictEqual } from "node:util";
import type { Logger } from "../lib/logger.ts";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import type { PipelineActivities } from "../pipeline/activities.ts";
import { applyResult, nextCommand, startPipeline } from "../pipeline/machine.ts";
import type { Command, PipelineState, RunRef, StepResult } from "../pipeline/types.ts";
import { isPermanentFailure } from "../lib/permanent-failure.ts";
import type { RunMailbox } from "./run-mailbox.ts";
import { agentRetries, bookkeepingRetries, withRetries, type RetryPolicy } from "./retry.ts";
import { isUniqueViolation } from "../tasks/db-types.ts";

type RecordedCommand = Command | { type: "external" };

export interface ExecuteRunDeps {
  db: PrismaClient;
  activities: PipelineActivities;
  log: Logger;
  /** Retry pauses; tests shorten them. */
  retries?: { bookkeeping: RetryPolicy; agent: RetryPolicy };
}

/** How long a cancelled step may take to notice the abort before cleanup goes ahead anyway. */
const interruptedStepGraceMs = 10_000;

class Shutdown extends Error {}
/** Another executor recorded this step first: it owns the run now. */
class LostOwnership extends Error {}

const toJson = (value: unknown) => value as Prisma.InputJsonValue;

export async function executeRun(deps: ExecuteRunDeps, run: RunRef, mailbox: RunMailbox): Promise<void> {
  const { db, activities } = deps;
  const log = deps.log.child({ taskId: run.taskId, runId: run.runId });
  const claimed = await db.taskRun.updateMany({ where: { id: run.runId, status: { in: ["queued", "running"] } }, data: { status: "running" } });
  if (claimed.count === 0) return; // finished or cancelled before it started

  const recorded = await db.runStep.findMany({ where: { runId: run.runId }, orderBy: { seq: "asc" } });
  let state: PipelineState = startPipeline(await activities.loadRun(run));
  let seq = 0;
  const record = async (command: RecordedCommand, result: StepResult) => {
    try {
      await db.runStep.create({ data: { runId: run.runId, seq, command: toJson(command), result: toJson(result) } });
    } catch (error) {
      if (isUniqueViolation(error)) throw new LostOwnership();
      throw error;
    }
  };

  try {
    for (;;) {
      const replay = recorded[seq];
      if (replay && (replay.command as RecordedCommand).type === "external") {
        state = applyResult(state, replay.result as unknown as StepResult);
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
        result = replay.result as unknown as StepResult;
      } else {
        result = await perform(deps, run, command, mailbox);
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
async function perform(deps: ExecuteRunDeps, run: RunRef, command: Command, mailbox: RunMailbox): Promise<StepResult> {
  const { activities } = deps;
  if (command.type === "finish") {
    // Cleanup always runs, cancelled or not; it is idempotent.
    await activities.finish({ ...run, outcome: command.outcome });
    await activities.cleanup(run);
    return { type: "finished" };
  }
  if (mailbox.stopReason === "shutdown") throw new Shutdown();
  if (mailbox.stopReason === "cancel") return { type: "cancelled" };

  const work = performInterruptible(deps, run, command, mailbox);
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

async function performInterruptible(deps: ExecuteRunDeps, run: RunRef, command: Exclude<Command, { type: "finish" }>, mailbox: RunMailbox): Promise<StepResult> {
  const { db } = deps;
  const signal = mailbox.abort.signal;
  const activities = retrying(deps, run, signal);
  switch (command.type) {
    case "checkFlag":
      return { type: "flagChecked", enabled: (await activities.checkFlag(run)).enabled };
    case "enterStage":
      await activities.enterStage({ ...run, stage: command.stage });
      return { type: "stageEntered" };
    case "runAgent":
      try {
        const output = await activities.runAgent({ ...run, stage: command.stage, role: command.role, iteration: command.iteration, reviewNotesRef: command.reviewNotesRef }, signal);
        return { type: "agentSucceeded", verdict: output.verdict, outputRef: output.outputRef };
      } catch (error) {
        if (signal.aborted) throw error;
        return { type: "agentFailed", reason: failureReason(error) };
      }
    case "waitForApproval": {
      await activities.markWaiting({ ...run, stage: command.stage });
      for (;;) {
        const move = mailbox.takeMove();
        if (move) return { type: "moved", stage: move };
        // A decision made while this process was down is in the database already.
        const task = await db.task.findUniqueOrThrow({ where: { id: run.taskId }, include: { currentStage: { select: { key: true } } } });
        if (task.status === "cancelled") return { type: "cancelled" };
        if (task.currentStage && task.currentStage.key !== command.stage) return { type: "moved", stage: task.currentStage.key };
        await mailbox.changed();
        if (signal.aborted) return { type: "cancelled" };
      }
    }
    case "publish":
      try {
        const output = await activities.publish({ ...run, stage: command.stage, reviewNotesRef: command.reviewNotesRef }, signal);
        return { type: "published", prUrl: output.prUrl, note: output.note };
      } catch (error) {
        if (signal.aborted) throw error;
        return { type: "publishFailed", reason: failureReason(error) };
      }
  }
}

function failureReason(error: unknown): string {
  if (isPermanentFailure(error)) return error.message;
  return `unexpected error: ${error instanceof Error ? error.message : String(error)}`;
}

/** The activities with the engine's retry policies around them. */
function retrying(deps: ExecuteRunDeps, run: RunRef, signal: AbortSignal): PipelineActivities {
  const { activities } = deps;
  const policies = deps.retries ?? { bookkeeping: bookkeepingRetries, agent: agentRetries };
  const log = deps.log.child({ taskId: run.taskId, runId: run.runId });
  const retry = <T>(policy: RetryPolicy, name: string, work: () => Promise<T>) =>
    withRetries(policy, signal, work, (error, attempt) => log.warn({ err: error, attempt }, `${name} failed; trying again`));
  return {
    ...activities,
    checkFlag: (ref) => retry(policies.bookkeeping, "checkFlag", () => activities.checkFlag(ref)),
    enterStage: (args) => retry(policies.bookkeeping, "enterStage", () => activities.enterStage(args)),
    markWaiting: (args) => retry(policies.bookkeeping, "markWaiting", () => activities.markWaiting(args)),
    runAgent: (args, abort) => retry(policies.agent, "runAgent", () => activities.runAgent(args, abort)),
    publish: (args, abort) => retry(policies.agent, "publish", () => activities.publish(args, abort)),
  };
}
