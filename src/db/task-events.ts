// The task's append-only progress log (task_events): what happened, never state to read back.
import type { Prisma, TaskEvent } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export type NewTaskEvent = Omit<Prisma.TaskEventCreateManyInput, "id" | "createdAt">;

export async function appendTaskEvent(db: Tx, event: NewTaskEvent): Promise<void> {
  await db.taskEvent.create({ data: event });
}

export async function appendTaskEvents(db: Tx, events: NewTaskEvent[]): Promise<void> {
  await db.taskEvent.createMany({ data: events });
}

/** The task's newest `limit` events, oldest first. */
export async function listRecentTaskEvents(db: Tx, taskId: string, limit: number): Promise<TaskEvent[]> {
  const newestFirst = await db.taskEvent.findMany({ where: { taskId }, orderBy: { id: "desc" }, take: limit });
  return newestFirst.reverse();
}

/** The task's events after `afterId`, oldest first: a feed that shows each event once. */
export async function listTaskEventsAfter(db: Tx, taskId: string, afterId: bigint): Promise<TaskEvent[]> {
  return db.taskEvent.findMany({ where: { taskId, id: { gt: afterId } }, orderBy: { id: "asc" } });
}
