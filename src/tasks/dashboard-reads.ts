// What the dashboard may read, in one object handed to api/dashboard (it has no database of its own).
import type { Db } from "../db/client.ts";
import { findActiveApiKeyTeam, findChangeMarker, type BoardFilter } from "../db/dashboard-reads.ts";
import { findTeamById, listTeamsOldestFirst } from "../db/teams.ts";
import { loadBoard } from "./board-queries.ts";
import { loadTaskPage } from "./task-page-queries.ts";
import { findTaskRow } from "./task-queries.ts";

export function createDashboardReads(db: Db, options: { webUrl: string }) {
  return {
    board: (teamId: string, filter: BoardFilter) => loadBoard(db, teamId, filter, options.webUrl),
    taskPage: (teamId: string, ref: string) => loadTaskPage(db, teamId, ref, options.webUrl),
    /** The task's id within the team; not found for another team's task. */
    taskId: async (teamId: string, ref: string) => (await findTaskRow(db, teamId, ref)).id,
    changeMarker: (teamId: string, taskId?: string) => findChangeMarker(db, { teamId, taskId }),
    activeKeyTeam: (keyId: string) => findActiveApiKeyTeam(db, keyId),
    team: async (teamId: string) => {
      const team = await findTeamById(db, teamId);
      return team ? { id: team.id, name: team.name } : undefined;
    },
    teams: async () => (await listTeamsOldestFirst(db)).map((team) => ({ id: team.id, name: team.name })),
  };
}

export type DashboardReads = ReturnType<typeof createDashboardReads>;
