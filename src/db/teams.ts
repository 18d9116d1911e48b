// Team rows, including the task counter that numbers a team's tasks.
import type { Team } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export async function insertTeam(db: Tx, team: { name: string; prefix: string }): Promise<Team> {
  return db.team.create({ data: team });
}

export async function findTeamById(db: Tx, id: string): Promise<Team | null> {
  return db.team.findUnique({ where: { id } });
}

export async function findTeamByName(db: Tx, name: string): Promise<Team | null> {
  return db.team.findUnique({ where: { name } });
}

export async function listTeamsOldestFirst(db: Tx): Promise<Team[]> {
  return db.team.findMany({ orderBy: { createdAt: "asc" } });
}

export async function findTeamDefaultWorkflowId(db: Tx, teamId: string): Promise<string | null> {
  const team = await db.team.findUniqueOrThrow({ where: { id: teamId }, select: { defaultWorkflowId: true } });
  return team.defaultWorkflowId;
}

export async function setTeamDefaultWorkflow(db: Tx, teamId: string, workflowId: string): Promise<void> {
  await db.team.update({ where: { id: teamId }, data: { defaultWorkflowId: workflowId } });
}

/**
 * Locks the team row until the transaction ends and returns its task counter (undefined when
 * the team is gone). Only the first caller proceeds; other creations in this team queue behind
 * it, and a rollback releases the lock with the counter unchanged. Call inside a transaction.
 */
export async function lockTeamCounter(tx: Tx, teamId: string): Promise<number | undefined> {
  const rows = await tx.$queryRaw<{ task_counter: number }[]>`SELECT task_counter FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
  return rows[0]?.task_counter;
}

export async function setTeamCounter(tx: Tx, teamId: string, counter: number): Promise<{ prefix: string; taskCounter: number }> {
  return tx.team.update({ where: { id: teamId }, data: { taskCounter: counter }, select: { prefix: true, taskCounter: true } });
}
