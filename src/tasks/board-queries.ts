// The task board's read model: the team's workflow stages as columns and its tasks as cards.
import type { TaskStatus } from "../generated/prisma/client.ts";
import type { Db } from "../db/client.ts";
import { findStageEntryTimes, listBoardTasks, listTeamFilterValues, listWorkflowStages, type BoardFilter, type BoardTaskRow } from "../db/dashboard-reads.ts";
import { findTeamById } from "../db/teams.ts";
import { AppError } from "../lib/errors.ts";

export const taskStatuses: readonly TaskStatus[] = ["queued", "running", "waiting_approval", "completed", "failed", "cancelled"];
export type BoardStatus = TaskStatus;

/** Cards on one board; the newest changed first, so what is moving is always there. */
export const boardTaskLimit = 300;

export interface BoardCard {
  slug: string;
  title: string;
  repository: string;
  originProduct: string;
  status: TaskStatus;
  /** When the task entered the stage it is in (its creation before its first stage). */
  inStageSince: Date;
  tokens: number;
  issueUrl: string | null;
  prUrl: string | null;
}

export interface BoardColumn {
  /** The stage's name: tasks of other workflows join the column of the same name. */
  name: string;
  cards: BoardCard[];
}

export interface BoardView {
  team: { id: string; name: string };
  columns: BoardColumn[];
  filter: BoardFilter;
  choices: { statuses: readonly TaskStatus[]; repositories: string[]; originProducts: string[] };
  /** More tasks match than the board shows. */
  truncated: boolean;
}

const notStarted = "Not started";

function toCard(task: BoardTaskRow, enteredAt: Date | undefined, webUrl: string): BoardCard {
  return {
    slug: task.slug,
    title: task.title,
    repository: task.repository,
    originProduct: task.originProduct,
    status: task.status,
    inStageSince: enteredAt ?? task.createdAt,
    tokens: task.runs.reduce((sum, run) => sum + run.inputTokens + run.outputTokens, 0),
    issueUrl: task.issueNumber === null ? null : `${webUrl}/${task.repository}/issues/${task.issueNumber}`,
    prUrl: task.prUrl,
  };
}

export async function loadBoard(db: Db, teamId: string, filter: BoardFilter, webUrl: string): Promise<BoardView> {
  const team = await findTeamById(db, teamId);
  if (!team) throw new AppError("not_found", "team_not_found", "no such team");
  const [stages, rows, choices] = await Promise.all([
    team.defaultWorkflowId ? listWorkflowStages(db, team.defaultWorkflowId) : Promise.resolve([]),
    listBoardTasks(db, teamId, filter, boardTaskLimit + 1),
    listTeamFilterValues(db, teamId),
  ]);
  const tasks = rows.slice(0, boardTaskLimit);
  const entered = await findStageEntryTimes(db, tasks.map((task) => task.id));
  const columns = new Map<string, BoardCard[]>(stages.map((stage) => [stage.name, []]));
  for (const task of tasks) {
    const name = task.currentStage?.name ?? notStarted;
    if (!columns.has(name)) columns.set(name, []);
    columns.get(name)!.push(toCard(task, entered.get(task.id), webUrl));
  }
  return {
    team: { id: team.id, name: team.name },
    columns: [...columns].map(([name, cards]) => ({ name, cards })),
    filter,
    choices: { statuses: taskStatuses, ...choices },
    truncated: rows.length > boardTaskLimit,
  };
}
