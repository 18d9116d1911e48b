// What the pipeline's bookkeeping writes as a run moves: the stage it entered, a wait for
// approval, the outcome. Each is one transaction together with its event, so the log and the
// state never disagree, and each is a conditional write, safe to repeat.
import type { Prisma } from "../generated/prisma/client.ts";
import type { Db } from "./client.ts";
import { appendTaskEvent } from "./task-events.ts";

/** A task in one of these states keeps it: a late step of its run does not reopen it. */
const finishedTask = ["completed", "cancelled", "failed"] as const;

export interface StageStep {
  taskId: string;
  runId: string;
  stage: string;
  stageName: string;
}

export async function recordStageEntered(db: Db, step: StageStep): Promise<void> {
  const { taskId, runId, stage, stageName } = step;
  await db.$transaction(async (tx) => {
    await tx.taskRun.updateMany({ where: { id: runId, status: "queued" }, data: { status: "running" } });
    await tx.taskRun.updateMany({ where: { id: runId, startedAt: null }, data: { startedAt: new Date() } });
    // The stage's id found by (workflow, key) inside the one UPDATE: nothing is read first.
    await tx.$executeRaw`
      UPDATE tasks
      SET current_stage_id = COALESCE((SELECT s.id FROM stages s WHERE s.workflow_id = tasks.workflow_id AND s.key = ${stage}), current_stage_id),
          status = 'running', updated_at = now()
      WHERE id = ${taskId}::uuid AND status NOT IN ('completed', 'cancelled', 'failed')`;
    await appendTaskEvent(tx, { taskId, runId, type: "stage_entered", message: `entered ${stageName}`, data: { stage } });
  });
}

export async function recordWaiting(db: Db, step: StageStep): Promise<void> {
  const { taskId, runId, stage, stageName } = step;
  await db.$transaction(async (tx) => {
    await tx.task.updateMany({ where: { id: taskId, status: { notIn: [...finishedTask] } }, data: { status: "waiting_approval" } });
    await appendTaskEvent(tx, { taskId, runId, type: "waiting_approval", message: `${stageName} waits for approval`, data: { stage } });
  });
}

export interface RunEnd {
  taskId: string;
  runId: string;
  status: "completed" | "failed" | "cancelled";
  /** The readable failure, for a failed run. */
  error: string | null;
  /** What a completed run ended with besides a pull request ("no changes: …"). */
  completionNote: string | null;
  prUrl: string | null;
  /** The log line, and the outcome as it was, for the event. */
  message: string;
  outcome: Prisma.InputJsonObject;
}

const endEvent = { completed: "run_completed", failed: "run_failed", cancelled: "run_cancelled" } as const;

export async function recordRunFinished(db: Db, end: RunEnd): Promise<void> {
  const { taskId, runId, status } = end;
  await db.$transaction(async (tx) => {
    // A failed run stays failed: a late end from an engine the reconciler gave up on (e.g. the
    // cancel it sent), or a repeated finish, changes neither the run nor its task, which may
    // have a newer run by then. So does a cancelled one: a step that finished just as the cancel
    // came in ends its run "completed" late, and must not undo the cancel (only the engine's own
    // cancelled end, repeated, still records its event).
    const ended = await tx.taskRun.updateMany({
      where: { id: runId, status: status === "cancelled" ? { not: "failed" } : { notIn: ["failed", "cancelled"] } },
      data: { status, finishedAt: new Date(), error: end.error, completionNote: end.completionNote },
    });
    if (ended.count === 0) return;
    // A task cancelled by a person stays cancelled, whatever its run was doing.
    await tx.task.updateMany({ where: { id: taskId, status: { not: "cancelled" } }, data: { status, ...(end.prUrl ? { prUrl: end.prUrl } : {}) } });
    await appendTaskEvent(tx, { taskId, runId, type: endEvent[status], message: end.message, data: end.outcome });
  });
}
