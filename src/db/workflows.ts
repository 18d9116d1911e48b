// Workflows and their ordered stages.
import type { AgentRole, Stage } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export interface NewStage {
  key: string;
  name: string;
  agentRole: AgentRole | null;
  requiresApproval: boolean;
  opensPullRequest: boolean;
}

/** Creates a workflow with its stages, positioned in the order given; returns the workflow id. */
export async function insertWorkflow(db: Tx, teamId: string, name: string, stages: readonly NewStage[]): Promise<string> {
  const workflow = await db.workflow.create({
    data: { teamId, name, stages: { create: stages.map((stage, position) => ({ ...stage, position })) } },
  });
  return workflow.id;
}

/** The team's workflow with its first stage's id (none when the workflow has no stages). */
export async function findTeamWorkflowWithFirstStage(db: Tx, teamId: string, workflowId: string) {
  return db.workflow.findFirst({
    where: { id: workflowId, teamId },
    include: { stages: { orderBy: { position: "asc" }, take: 1, select: { id: true } } },
  });
}

/** The workflow's stages in order, as the domain names them. */
export async function listStages(db: Tx, workflowId: string): Promise<{ key: string; name: string }[]> {
  return db.stage.findMany({ where: { workflowId }, orderBy: { position: "asc" }, select: { key: true, name: true } });
}

export async function findStageByKey(db: Tx, workflowId: string, key: string): Promise<Stage | null> {
  return db.stage.findUnique({ where: { workflowId_key: { workflowId, key } } });
}

export async function findStageById(db: Tx, id: string): Promise<Stage> {
  return db.stage.findUniqueOrThrow({ where: { id } });
}

/** The stage right after `position` in the workflow, if any. */
export async function findStageAfter(db: Tx, workflowId: string, position: number): Promise<Stage | null> {
  return db.stage.findFirst({ where: { workflowId, position: { gt: position } }, orderBy: { position: "asc" } });
}
