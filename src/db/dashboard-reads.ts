// The reads behind the dashboard (api/dashboard): a team's board, a task's page, and the change
// markers the event stream polls. Every query is scoped to a team by its caller's teamId.
import type { Prisma, TaskStatus } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export const boardTaskInclude = {
  currentStage: { select: { key: true, name: true } },
  runs: { select: { inputTokens: true, outputTokens: true } },
} as const satisfies Prisma.TaskInclude;

export type BoardTaskRow = Prisma.TaskGetPayload<{ include: typeof boardTaskInclude }>;

export interface BoardFilter {
  status?: TaskStatus | undefined;
  repository?: string | undefined;
  originProduct?: string | undefined;
}

/** The team's most recently changed tasks, with their stage and every run's token usage. */
export async function listBoardTasks(db: Tx, teamId: string, filter: BoardFilter, take: number): Promise<BoardTaskRow[]> {
  return db.task.findMany({
    where: {
      teamId,
      ...(filter.status ? { status: filter.status } : {}),
      ...(filter.repository ? { repository: filter.repository } : {}),
      ...(filter.originProduct ? { originProduct: filter.originProduct } : {}),
    },
    include: boardTaskInclude,
    orderBy: [{ updatedAt: "desc" }, { number: "desc" }],
    take,
  });
}

/** When each task last entered a stage (entered by its run, or moved there by a person). */
export async function findStageEntryTimes(db: Tx, taskIds: string[]): Promise<Map<string, Date>> {
  if (taskIds.length === 0) return new Map();
  const rows = await db.taskEvent.groupBy({
    by: ["taskId"],
    where: { taskId: { in: taskIds }, type: { in: ["stage_entered", "stage_moved"] } },
    _max: { createdAt: true },
  });
  return new Map(rows.flatMap((row) => (row._max.createdAt ? [[row.taskId, row._max.createdAt] as const] : [])));
}

/** The repositories and origin products the team's tasks use: the board's filter choices. */
export async function listTeamFilterValues(db: Tx, teamId: string): Promise<{ repositories: string[]; originProducts: string[] }> {
  const [repositories, products] = await Promise.all([
    db.task.findMany({ where: { teamId }, distinct: ["repository"], select: { repository: true }, orderBy: { repository: "asc" } }),
    db.task.findMany({ where: { teamId }, distinct: ["originProduct"], select: { originProduct: true }, orderBy: { originProduct: "asc" } }),
  ]);
  return { repositories: repositories.map((row) => row.repository), originProducts: products.map((row) => row.originProduct) };
}

export async function listWorkflowStages(db: Tx, workflowId: string) {
  return db.stage.findMany({
    where: { workflowId },
    orderBy: { position: "asc" },
    select: { key: true, name: true, position: true, agentRole: true, requiresApproval: true },
  });
}

/**
 * What changes whenever anything shown about the team's tasks (or one task) changes: every state
 * change appends an event in the same transaction, and task rows carry updated_at. Polled by the
 * event stream, so a change made by another process (a Temporal worker) is seen too.
 */
export async function findChangeMarker(db: Tx, scope: { teamId: string; taskId?: string | undefined }): Promise<string> {
  const taskWhere = { teamId: scope.teamId, ...(scope.taskId ? { id: scope.taskId } : {}) };
  const [tasks, events] = await Promise.all([
    db.task.aggregate({ where: taskWhere, _max: { updatedAt: true }, _count: { _all: true } }),
    db.taskEvent.aggregate({ where: scope.taskId ? { taskId: scope.taskId } : { task: { teamId: scope.teamId } }, _max: { id: true } }),
  ]);
  return [tasks._count._all, tasks._max.updatedAt?.getTime() ?? 0, events._max.id?.toString() ?? "0"].join(":");
}

/** A team API key's team, while it is not revoked; for sessions signed in with that key. */
export async function findActiveApiKeyTeam(db: Tx, keyId: string): Promise<string | undefined> {
  const key = await db.apiKey.findUnique({ where: { id: keyId }, select: { teamId: true, revokedAt: true } });
  return key && !key.revokedAt ? key.teamId : undefined;
}
