// Task runs (task_runs): one execution of a task's pipeline, numbered by attempt per task.
import type { Prisma, RunStatus, TaskRun } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export type NewQueuedRun = Omit<Prisma.TaskRunUncheckedCreateInput, "id" | "status" | "createdAt">;

export async function insertQueuedRun(db: Tx, run: NewQueuedRun): Promise<TaskRun> {
  return db.taskRun.create({ data: { ...run, status: "queued" } });
}

/** The task's highest attempt number so far; 0 before its first run. */
export async function findLastAttempt(db: Tx, taskId: string): Promise<number> {
  const last = await db.taskRun.findFirst({ where: { taskId }, orderBy: { attempt: "desc" }, select: { attempt: true } });
  return last?.attempt ?? 0;
}

/** The task's latest run among the given statuses, if any. */
export async function findLatestRunIn(db: Tx, taskId: string, statuses: readonly RunStatus[]): Promise<TaskRun | null> {
  return db.taskRun.findFirst({ where: { taskId, status: { in: [...statuses] } }, orderBy: { attempt: "desc" } });
}

/** The runs of these tasks among the given statuses. */
export async function findRunsOfTasksIn(db: Tx, taskIds: string[], statuses: readonly RunStatus[]): Promise<TaskRun[]> {
  return db.taskRun.findMany({ where: { taskId: { in: taskIds }, status: { in: [...statuses] } } });
}

export async function listRunsOfTask(db: Tx, taskId: string): Promise<TaskRun[]> {
  return db.taskRun.findMany({ where: { taskId }, orderBy: { attempt: "asc" } });
}

const stillActive: readonly RunStatus[] = ["queued", "running"];

/** Ends the runs that are still active; one that ended meanwhile (a completion that won the race) keeps its end. */
export async function finishRuns(db: Tx, runIds: string[], status: RunStatus, finishedAt: Date): Promise<void> {
  await db.taskRun.updateMany({ where: { id: { in: runIds }, status: { in: [...stillActive] } }, data: { status, finishedAt } });
}

/** Which engine took the run, and its id there. */
export async function setRunEngine(db: Tx, runId: string, engine: string, engineId: string): Promise<void> {
  await db.taskRun.update({ where: { id: runId }, data: { engine, engineId } });
}

/** The task's queued run that no engine has taken yet (the process died before the hand-off, or the engine refused it). */
export async function findQueuedRunWithoutEngine(db: Tx, taskId: string): Promise<TaskRun | null> {
  return db.taskRun.findFirst({ where: { taskId, status: "queued", engineId: null }, orderBy: { attempt: "desc" } });
}
