import type { Tx } from "../db/client.ts";
import { setTeamDefaultWorkflow } from "../db/teams.ts";
import { insertWorkflow, type NewStage } from "../db/workflows.ts";

/** Every new team's workflow: Plan → Code → Review → Complete; Complete opens the PR. */
export const defaultStages: readonly NewStage[] = [
  { key: "plan", name: "Plan", agentRole: "planner", requiresApproval: false, opensPullRequest: false },
  { key: "code", name: "Code", agentRole: "coder", requiresApproval: false, opensPullRequest: false },
  { key: "review", name: "Review", agentRole: "reviewer", requiresApproval: false, opensPullRequest: false },
  { key: "complete", name: "Complete", agentRole: null, requiresApproval: false, opensPullRequest: true },
];

export const defaultWorkflowName = "default";

export async function createDefaultWorkflow(tx: Tx, teamId: string): Promise<string> {
  const workflowId = await insertWorkflow(tx, teamId, defaultWorkflowName, defaultStages);
  await setTeamDefaultWorkflow(tx, teamId, workflowId);
  return workflowId;
}
