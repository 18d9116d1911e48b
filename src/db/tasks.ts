// Task rows. Every read that the domain turns into a TaskView includes the current stage and
// the creator (taskInclude), so one query gives everything the view needs.
import type { Prisma, TaskStatus } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export const taskInclude = {
  currentStage: { select: { key: true, name: true } },
  createdBy: { select: { externalId: true } },
} as const satisfies Prisma.TaskInclude;

export type TaskRow = Prisma.TaskGetPayload<{ include: typeof taskInclude }>;

export type NewTask = Omit<Prisma.TaskUncheckedCreateInput, "id" | "createdAt" | "updatedAt">;

export async function insertTask(db: Tx, task: NewTask): Promise<TaskRow> {
  return db.task.create({ data: task, include: taskInclude });
}

export async function findTaskById(db: Tx, id: string): Promise<TaskRow> {
  return db.task.findUniqueOrThrow({ where: { id }, include: taskInclude });
}

/**
 * Tasks with this id or slug (slug as stored, upper case), within one team unless teamId is
 * undefined. At most two rows: enough to tell one match from an ambiguous slug.
 */
export async function findTasksByIdOrSlug(db: Tx, match: { id: string } | { slug: string }, teamId: string | undefined): Promise<TaskRow[]> {
  return db.task.findMany({ where: { ...match, ...(teamId ? { teamId } : {}) }, include: taskInclude, take: 2 });
}

/** The issue's newest task, optionally only among the given statuses. Repository case is ignored. */
export async function findNewestIssueTask(db: Tx, repository: string, issueNumber: number, statuses?: readonly TaskStatus[]): Promise<TaskRow | null> {
  return db.task.findFirst({
    where: {
      repository: { equals: repository, mode: "insensitive" },
      issueNumber,
      ...(statuses ? { status: { in: [...statuses] } } : {}),
    },
    include: taskInclude,
    orderBy: { createdAt: "desc" },
  });
}

/** The newest task whose pull request this is. Repository case is ignored. */
export async function findNewestTaskByPullRequest(db: Tx, repository: string, prUrl: string): Promise<TaskRow | null> {
  return db.task.findFirst({
    where: { repository: { equals: repository, mode: "insensitive" }, prUrl },
    include: taskInclude,
    orderBy: { createdAt: "desc" },
  });
}

export interface TaskFilter {
  teamId?: string | undefined;
  status?: TaskStatus | undefined;
  stageKey?: string | undefined;
  originProduct?: string | undefined;
}

/** Where a page of the newest-first listing resumes: the last row of the page before. */
export interface TaskPosition {
  createdAt: Date;
  number: number;
  id: string;
}

/**
 * Up to `take` tasks, newest first, ordered by (created_at, number, id) so the order is total and
 * stable while tasks are added; after `after` when given (keyset pagination).
 */
export async function listTasksNewestFirst(db: Tx, filter: TaskFilter, after: TaskPosition | undefined, take: number): Promise<TaskRow[]> {
  return db.task.findMany({
    where: {
      ...(filter.teamId ? { teamId: filter.teamId } : {}),
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.stageKey ? { currentStage: { key: filter.stageKey } } : {}),
      ...(filter.originProduct ? { originProduct: filter.originProduct } : {}),
      ...(after
        ? {
            OR: [
              { createdAt: { lt: after.createdAt } },
              { createdAt: after.createdAt, number: { lt: after.number } },
              { createdAt: after.createdAt, number: after.number, id: { lt: after.id } },
            ],
          }
        : {}),
    },
    include: taskInclude,
    orderBy: [{ createdAt: "desc" }, { number: "desc" }, { id: "desc" }],
    take,
  });
}

/** Locks the task row until the transaction ends, so actions on one task serialise. Call inside a transaction. */
export async function lockTaskRow(tx: Tx, taskId: string): Promise<void> {
  await tx.$queryRaw`SELECT id FROM tasks WHERE id = ${taskId}::uuid FOR UPDATE`;
}

export async function setTaskStatus(db: Tx, taskId: string, status: TaskStatus): Promise<void> {
  await db.task.update({ where: { id: taskId }, data: { status } });
}

/** A conditional write: sets the status unless the task is in one of `unlessIn`. True when it was set. */
export async function setTaskStatusUnlessIn(db: Tx, taskId: string, status: TaskStatus, unlessIn: readonly TaskStatus[]): Promise<boolean> {
  const updated = await db.task.updateMany({ where: { id: taskId, status: { notIn: [...unlessIn] } }, data: { status } });
  return updated.count > 0;
}

/** A conditional write: moves the task to the stage unless its status is one of `unlessIn`. True when it moved. */
export async function setTaskStageUnlessIn(db: Tx, taskId: string, stageId: string, unlessIn: readonly TaskStatus[]): Promise<boolean> {
  const updated = await db.task.updateMany({ where: { id: taskId, status: { notIn: [...unlessIn] } }, data: { currentStageId: stageId } });
  return updated.count > 0;
}

export async function findTaskIdsOfIntegration(db: Tx, integrationId: string, statuses: readonly TaskStatus[]): Promise<string[]> {
  const rows = await db.task.findMany({ where: { integrationId, status: { in: [...statuses] } }, select: { id: true } });
  return rows.map((row) => row.id);
}

export async function setTasksStatus(db: Tx, taskIds: string[], status: TaskStatus): Promise<void> {
  await db.task.updateMany({ where: { id: { in: taskIds } }, data: { status } });
}
