// The embedded engine's ports for the one interpreter (pipeline/execute-command.ts): the
// activities with bounded retries and the run's abort signal, approval waits answered by the
// mailbox or the database, and an activity's failure read as its own message.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { findTaskPosition } from "../db/engine-runs.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { PipelineActivities } from "../pipeline/activities.ts";
import type { CommandPorts } from "../pipeline/execute-command.ts";
import type { RunRef } from "../pipeline/types.ts";
import { agentRetries, bookkeepingRetries, withRetries, type RetryPolicy } from "./retry.ts";
import type { RunMailbox } from "./run-mailbox.ts";

export interface RunnerPortDeps {
  db: PrismaClient;
  activities: PipelineActivities;
  log: Logger;
  /** Retry pauses; tests shorten them. */
  retries?: { bookkeeping: RetryPolicy; agent: RetryPolicy };
}

/** The embedded engine's side of the interpreter: retried activities, the mailbox, the database. */
export function createRunnerPorts(deps: RunnerPortDeps, run: RunRef, mailbox: RunMailbox): CommandPorts {
  const { signal } = mailbox.abort;
  const activities = retrying(deps, run, signal);
  return {
    activities,
    async waitForApproval(args) {
      await activities.markWaiting(args);
      for (;;) {
        const move = mailbox.takeMove();
        if (move) return { type: "moved", stage: move };
        // A decision made while this process was down is in the database already.
        const task = await findTaskPosition(deps.db, run.taskId);
        if (task.status === "cancelled") return { type: "cancelled" };
        if (task.stageKey && task.stageKey !== args.stage) return { type: "moved", stage: task.stageKey };
        // Waiting is a safe point already: a draining process parks the run now (the abort
        // ends this wait; the runner sees the shutdown and records nothing).
        if (mailbox.parking) mailbox.stop("shutdown");
        await mailbox.changed();
        if (signal.aborted) return { type: "cancelled" };
      }
    },
    // An aborted step's error is the abort's doing, not the step's: it is rethrown, and the
    // cancellation decides the result.
    failureReason: (error) => (signal.aborted ? undefined : errorMessage(error)),
  };
}

/** The activities with the engine's retry policies around them, and the run's abort signal. */
function retrying(deps: RunnerPortDeps, run: RunRef, signal: AbortSignal): PipelineActivities {
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
    runAgent: (args) => retry(policies.agent, "runAgent", () => activities.runAgent(args, signal)),
    publish: (args) => retry(policies.agent, "publish", () => activities.publish(args, signal)),
  };
}
