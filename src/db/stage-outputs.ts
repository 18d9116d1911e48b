// What agents wrote for each stage of a run (plan, summary, review). Only an output's id
// travels between pipeline steps; its text is read here.
import type { AgentRole, StageOutput } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export interface NewStageOutput {
  runId: string;
  stage: string;
  iteration: number;
  role: AgentRole;
  text: string;
}

/** Stores the stage's output for this iteration (a retried agent replaces it); returns its id. */
export async function saveStageOutput(db: Tx, output: NewStageOutput): Promise<string> {
  const { runId, stage, iteration, role, text } = output;
  const stored = await db.stageOutput.upsert({
    where: { runId_stage_iteration: { runId, stage, iteration } },
    create: output,
    update: { text, role },
    select: { id: true },
  });
  return stored.id;
}

/** The run's outputs, oldest first. */
export async function listStageOutputs(db: Tx, runId: string): Promise<StageOutput[]> {
  return db.stageOutput.findMany({ where: { runId }, orderBy: { createdAt: "asc" } });
}
