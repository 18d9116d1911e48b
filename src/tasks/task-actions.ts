// What can be done to an existing task: run it again, cancel it, move it to another stage.
// Each action changes state with a conditional write, so two racing actions cannot both win.
import { AppError } from "../lib/errors.ts";
import { lockingTransaction, type Db } from "../db/client.ts";
import { appendTaskEvent } from "../db/task-events.ts";
import { finishRuns, findLastAttempt, findLatestRunIn, findRunsOfTasksIn, insertQueuedRun } from "../db/task-runs.ts";
import { findTaskById, lockTaskRow, setTaskStageUnlessIn, setTaskStatus, setTaskStatusUnlessIn } from "../db/tasks.ts";
import { findStageAfter, findStageById, findStageByKey, listStages } from "../db/workflows.ts";
import { tasksFlag, type FlagChecker } from "./feature-flags.ts";
import { handOffRun } from "./hand-off-run.ts";
import type { Orchestrator, RunRef } from "./orchestrator.ts";
import { findTaskRow } from "./task-queries.ts";
import { activeRunStatuses, finishedTaskStatuses } from "./task-status.ts";
import { toTaskView, type TaskView } from "./task-view.ts";
import type { Logger } from "../lib/logger.ts";

export interface TaskActionDeps {
  db: Db;
  flags: FlagChecker;
  orchestrator: Orchestrator;
  log: Logger;
}

/** Who asked, for the task's log (a user's external id, `operator`, or a GitHub login). */
export type Actor = string;

async function reload(db: Db, taskId: string): Promise<TaskView> {
  return toTaskView(await findTaskById(db, taskId));
}

/** Starts a new run for a task that has none active: after a failure, a cancel, or a deferred start. */
export async function runTask(deps: TaskActionDeps, teamId: string | undefined, ref: string, actor: Actor): Promise<TaskView> {
  const task = await findTaskRow(deps.db, teamId, ref);
  if (task.status === "completed") throw new AppError("conflict", "task_completed", `${task.slug} is completed; create a new task or ask for a follow-up`);
  return startNewRun(deps, task, actor, { kind: "initial" });
}

/**
 * A follow-up on the task's pull request: a new run through Code → Review → Complete on the
 * same branch and PR, with the instructions recorded for the coder.
 */
export async function requestFollowUp(deps: TaskActionDeps, teamId: string | undefined, ref: string, instructions: string, actor: Actor): Promise<TaskView> {
  const task = await findTaskRow(deps.db, teamId, ref);
  if (!task.prUrl) throw new AppError("conflict", "no_pull_request", `${task.slug} has no pull request to follow up on yet`);
  return startNewRun(deps, task, actor, { kind: "followup", instructions });
}

async function startNewRun(deps: TaskActionDeps, task: Awaited<ReturnType<typeof findTaskRow>>, actor: Actor, request: { kind: "initial" } | { kind: "followup"; instructions: string }): Promise<TaskView> {
  const distinctId = task.createdBy?.externalId ?? actor;
  if (!(await deps.flags.isEnabled(tasksFlag, { teamId: task.teamId, distinctId }))) {
    throw new AppError("forbidden", "feature_disabled", `the "${tasksFlag}" feature flag is not enabled for this team`);
  }
  const run = await deps.db.$transaction(async (tx) => {
    // Lock the task row so two concurrent run requests serialise and the second sees the first's run.
    await lockTaskRow(tx, task.id);
    const active = await findLatestRunIn(tx, task.id, activeRunStatuses);
    if (active) throw new AppError("conflict", "run_active", `${task.slug} already has run ${active.attempt} ${active.status}`);
    const attempt = (await findLastAttempt(tx, task.id)) + 1;
    const created = await insertQueuedRun(tx, { taskId: task.id, attempt, kind: request.kind, followupInstructions: request.kind === "followup" ? request.instructions : null });
    await setTaskStatus(tx, task.id, "queued");
    if (request.kind === "followup") {
      await appendTaskEvent(tx, {
        taskId: task.id,
        runId: created.id,
        type: "followup_requested",
        message: `follow-up requested by ${actor}`,
        data: { attempt, actor, instructions: request.instructions },
      });
    }
    await appendTaskEvent(tx, { taskId: task.id, runId: created.id, type: "run_queued", message: `run ${attempt} queued by ${actor}`, data: { attempt, actor, kind: request.kind } });
    return created;
  }, lockingTransaction);
  await handOffRun(deps, { taskId: task.id, runId: run.id, attempt: run.attempt });
  return reload(deps.db, task.id);
}

/** Cancels a task and its active runs; the engine is told to stop them. */
export async function cancelTask(deps: TaskActionDeps, teamId: string | undefined, ref: string, actor: Actor): Promise<TaskView> {
  const task = await findTaskRow(deps.db, teamId, ref);
  const cancelledRuns = await deps.db.$transaction(async (tx) => {
    const cancelled = await setTaskStatusUnlessIn(tx, task.id, "cancelled", finishedTaskStatuses);
    if (!cancelled) throw new AppError("conflict", "task_finished", `${task.slug} is already ${task.status}`);
    const runs = await findRunsOfTasksIn(tx, [task.id], activeRunStatuses);
    await finishRuns(tx, runs.map((run) => run.id), "cancelled", new Date());
    await appendTaskEvent(tx, { taskId: task.id, type: "task_cancelled", message: `cancelled by ${actor}`, data: { actor } });
    return runs;
  });
  for (const run of cancelledRuns) await tellEngine(deps, { taskId: task.id, runId: run.id, attempt: run.attempt }, (ref) => deps.orchestrator.cancel(ref));
  return reload(deps.db, task.id);
}

/** Moves a task to another stage of its workflow (an operator's override, or releasing a wait). */
export async function moveTaskStage(deps: TaskActionDeps, teamId: string | undefined, ref: string, stageKey: string, actor: Actor): Promise<TaskView> {
  const task = await findTaskRow(deps.db, teamId, ref);
  const stage = await findStageByKey(deps.db, task.workflowId, stageKey);
  if (!stage) {
    const keys = (await listStages(deps.db, task.workflowId)).map((s) => s.key);
    throw new AppError("unprocessable", "stage_not_found", `no stage ${JSON.stringify(stageKey)} in this task's workflow (stages: ${keys.join(", ")})`, { field: "stage" });
  }
  const run = await deps.db.$transaction(async (tx) => {
    const moved = await setTaskStageUnlessIn(tx, task.id, stage.id, finishedTaskStatuses);
    if (!moved) throw new AppError("conflict", "task_finished", `${task.slug} is ${task.status}; it cannot move`);
    await appendTaskEvent(tx, {
      taskId: task.id,
      type: "stage_moved",
      message: `moved to ${stage.name} by ${actor}`,
      data: { from: task.currentStage?.key ?? null, to: stage.key, actor },
    });
    return findLatestRunIn(tx, task.id, activeRunStatuses);
  });
  if (run) await tellEngine(deps, { taskId: task.id, runId: run.id, attempt: run.attempt }, (ref) => deps.orchestrator.stageMoved(ref, stage.key));
  return reload(deps.db, task.id);
}

/** Releases a stage that waits for approval: the task moves on to the next stage. */
export async function approveTask(deps: TaskActionDeps, teamId: string | undefined, ref: string, actor: Actor): Promise<TaskView> {
  const task = await findTaskRow(deps.db, teamId, ref);
  if (task.status !== "waiting_approval" || !task.currentStageId) {
    throw new AppError("conflict", "not_waiting", `${task.slug} is not waiting for approval (it is ${task.status})`);
  }
  const current = await findStageById(deps.db, task.currentStageId);
  const next = await findStageAfter(deps.db, task.workflowId, current.position);
  if (!next) throw new AppError("conflict", "no_next_stage", `${task.slug} is at its last stage`);
  await appendTaskEvent(deps.db, { taskId: task.id, type: "stage_approved", message: `${current.name} approved by ${actor}`, data: { stage: current.key, actor } });
  return moveTaskStage(deps, teamId, task.id, next.key, actor);
}

// The database already says what happened; an engine that cannot be told now reconciles from it.
async function tellEngine(deps: TaskActionDeps, run: RunRef, call: (run: RunRef) => Promise<void>): Promise<void> {
  try {
    await call(run);
  } catch (error) {
    deps.log.error({ err: error, taskId: run.taskId, runId: run.runId }, "engine could not be notified");
  }
}
