// What the stage work keeps about a run: the task and run it reads once per run, the sandbox
// and the commit its checkout started from, and what publishing produced (branch, PR url).
import type { Prisma } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

const runWithTask = {
  task: { include: { integration: true, createdBy: true } },
} as const satisfies Prisma.TaskRunInclude;

export type RunWithTask = Prisma.TaskRunGetPayload<{ include: typeof runWithTask }>;

/** The run with its task, the task's integration and creator: everything a run context needs, in one read. */
export async function findRunWithTask(db: Tx, runId: string): Promise<RunWithTask> {
  return db.taskRun.findUniqueOrThrow({ where: { id: runId }, include: runWithTask });
}

export interface RunCheckout {
  /** Null until the first agent stage created the sandbox. */
  sandboxId: string | null;
  baseSha: string | null;
}

/** Null when the run is gone (its task was deleted). */
export async function findRunCheckout(db: Tx, runId: string): Promise<RunCheckout | null> {
  return db.taskRun.findUnique({ where: { id: runId }, select: { sandboxId: true, baseSha: true } });
}

export async function saveRunCheckout(db: Tx, runId: string, checkout: { sandboxId: string; baseSha: string }): Promise<void> {
  await db.taskRun.update({ where: { id: runId }, data: checkout });
}

/** The task's branch and pull request as publishing left them (null before it got them). */
export async function findTaskPublication(db: Tx, taskId: string): Promise<{ branch: string | null; prUrl: string | null } | null> {
  return db.task.findUnique({ where: { id: taskId }, select: { branch: true, prUrl: true } });
}

export async function saveTaskBranch(db: Tx, taskId: string, branch: string): Promise<void> {
  await db.task.update({ where: { id: taskId }, data: { branch } });
}

export async function saveTaskPullRequest(db: Tx, taskId: string, prUrl: string): Promise<void> {
  await db.task.update({ where: { id: taskId }, data: { prUrl } });
}
