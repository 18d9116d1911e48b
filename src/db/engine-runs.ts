// What the embedded engine asks of the runs and tasks it executes: which runs are unfinished
// (to resume after a restart), taking one on, and where its task stands while it waits.
import type { TaskStatus } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export interface UnfinishedRun {
  taskId: string;
  runId: string;
  attempt: number;
}

const unfinished = { in: ["queued" as const, "running" as const] };

/** Queued and running runs, oldest first. */
export async function listUnfinishedRuns(db: Tx): Promise<UnfinishedRun[]> {
  const runs = await db.taskRun.findMany({ where: { status: unfinished }, orderBy: { createdAt: "asc" }, select: { id: true, taskId: true, attempt: true } });
  return runs.map((run) => ({ taskId: run.taskId, runId: run.id, attempt: run.attempt }));
}

/** Marks the run running; false when it finished or was cancelled before it started. */
export async function claimRun(db: Tx, runId: string): Promise<boolean> {
  const claimed = await db.taskRun.updateMany({ where: { id: runId, status: unfinished }, data: { status: "running" } });
  return claimed.count > 0;
}

/** The task's status and current stage, as an operator's decision leaves them. */
export async function findTaskPosition(db: Tx, taskId: string): Promise<{ status: TaskStatus; stageKey: string | null }> {
  const task = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { status: true, currentStage: { select: { key: true } } } });
  return { status: task.status, stageKey: task.currentStage?.key ?? null };
}
