// Reading tasks: one by id or slug, and pages of them. Every read is scoped to a team unless
// the caller is the operator (teamId undefined), so a team only ever sees its own tasks.
import { AppError } from "../lib/errors.ts";
import type { TaskStatus } from "../generated/prisma/client.ts";
import type { Db } from "../db/client.ts";
import { listRunModelUsage } from "../db/run-model-usage.ts";
import { listRecentTaskEvents } from "../db/task-events.ts";
import { listRunsOfTask } from "../db/task-runs.ts";
import { findTasksByIdOrSlug, listTasksNewestFirst, type TaskPosition, type TaskRow } from "../db/tasks.ts";
import { formatSlug, slugPattern } from "./team-prefix.ts";
import { isUuid } from "./teams.ts";
import { toEventView, toModelUsageView, toRunView, toTaskView, type TaskDetailView, type TaskView } from "./task-view.ts";

const recentEvents = 100;

/** Resolves `<uuid>` or `POS-12` to a task row; another team's task is simply not found. */
export async function findTaskRow(db: Db, teamId: string | undefined, ref: string): Promise<TaskRow> {
  const notFound = new AppError("not_found", "task_not_found", `no task ${JSON.stringify(ref)}`);
  const slug = slugPattern.exec(ref);
  let match: { id: string } | { slug: string };
  if (isUuid(ref)) match = { id: ref };
  else if (slug) match = { slug: formatSlug(slug[1]!.toUpperCase(), Number(slug[2])) };
  else throw notFound;
  const rows = await findTasksByIdOrSlug(db, match, teamId);
  if (rows.length > 1) {
    // Two teams can share a prefix; only the operator's cross-team view can hit this.
    throw new AppError("conflict", "ambiguous_slug", `${ref} names tasks in more than one team; use the task id`);
  }
  if (!rows[0]) throw notFound;
  return rows[0];
}

export async function getTaskDetail(db: Db, teamId: string | undefined, ref: string): Promise<TaskDetailView> {
  const task = await findTaskRow(db, teamId, ref);
  const [runs, events] = await Promise.all([listRunsOfTask(db, task.id), listRecentTaskEvents(db, task.id, recentEvents)]);
  const usage = await listRunModelUsage(db, runs.map((run) => run.id));
  const modelsOf = (runId: string) => usage.filter((row) => row.runId === runId).map(toModelUsageView);
  return { ...toTaskView(task), runs: runs.map((run) => ({ ...toRunView(run), models: modelsOf(run.id) })), events: events.map(toEventView) };
}

export interface ListTasksQuery {
  teamId?: string | undefined;
  status?: TaskStatus | undefined;
  stage?: string | undefined;
  originProduct?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface TaskPage {
  tasks: TaskView[];
  /** Pass back as `cursor` for the next page; null on the last page. */
  next_cursor: string | null;
}

const encodeCursor = (task: TaskRow): string =>
  Buffer.from(JSON.stringify([task.createdAt.toISOString(), task.number, task.id])).toString("base64url");

function decodeCursor(cursor: string): TaskPosition {
  try {
    const [createdAt, number, id] = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as [string, number, string];
    const date = new Date(createdAt);
    if (typeof id !== "string" || !isUuid(id) || !Number.isInteger(number) || Number.isNaN(date.getTime())) throw new Error("bad cursor");
    return { createdAt: date, number, id };
  } catch {
    throw new AppError("invalid", "invalid_cursor", "cursor is not one this API returned", { field: "cursor" });
  }
}

/**
 * Newest first; keyset pagination on (created_at, number, id), stable while tasks are being
 * added. The number breaks ties within a team (two tasks can share a millisecond), the id across teams.
 */
export async function listTasks(db: Db, query: ListTasksQuery): Promise<TaskPage> {
  const cursor = query.cursor ? decodeCursor(query.cursor) : undefined;
  const filter = { teamId: query.teamId, status: query.status, stageKey: query.stage, originProduct: query.originProduct };
  // One row more than the page tells whether there is a next page.
  const rows = await listTasksNewestFirst(db, filter, cursor, query.limit + 1);
  const page = rows.slice(0, query.limit);
  const last = page[page.length - 1];
  return { tasks: page.map(toTaskView), next_cursor: rows.length > query.limit && last ? encodeCursor(last) : null };
}
