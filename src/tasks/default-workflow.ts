import type { AgentRole } from "../generated/prisma/client.ts";
import type { Tx } from "./db-types.ts";

export interface StageDefinition {
  key: string;
  name: string;
  agentRole: AgentRole | null;
  requiresApproval: boolean;
  opensPullRequest: boolean;
}

/** Every new team's workflow: Plan → Code → Review → Complete; Complete opens the PR. */
export const defaultStages: readonly StageDefinition[] = [
  { key: "plan", name: "Plan", agentRole: "planner", requiresApproval: false, opensPullRequest: false },
  { key: "code", name: "Code", agentRole: "coder", requiresApproval: false, opensPullRequest: false },
  { key: "review", name: "Review", agentRole: "reviewer", requiresApproval: false, opensPullRequest: false },
  { key: "complete", name: "Complete", agentRole: null, requiresApproval: false, opensPullRequest: true },
];

export const defaultWorkflowName = "default";

export async function createDefaultWorkflow(tx: Tx, teamId: string): Promise<string> {
  const workflow = await tx.workflow.create({
    data: {
      teamId,
      name: defaultWorkflowName,
      stages: { create: defaultStages.map((stage, position) => ({ ...stage, position })) },
    },
  });
  await tx.team.update({ where: { id: teamId }, data: { defaultWorkflowId: workflow.id } });
  return workflow.id;
}
