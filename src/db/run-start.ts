// What a run starts from: the pipeline input it fixes on its first load (so a resumed run
// replays the same stages), and whom the feature flag is asked about.
import { Prisma, type Stage } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export interface RunStart {
  /** Null until the run's first load fixed it. */
  pipelineInput: Prisma.JsonValue | null;
  kind: string;
  /** The task's current stage, where an initial run begins. */
  currentStageKey: string | null;
  stages: Stage[];
}

export async function findRunStart(db: Tx, runId: string): Promise<RunStart> {
  const run = await db.taskRun.findUniqueOrThrow({
    where: { id: runId },
    select: {
      pipelineInput: true,
      kind: true,
      task: { select: { currentStage: { select: { key: true } }, workflow: { select: { stages: { orderBy: { position: "asc" } } } } } },
    },
  });
  return { pipelineInput: run.pipelineInput, kind: run.kind, currentStageKey: run.task.currentStage?.key ?? null, stages: run.task.workflow.stages };
}

/** Stores the input unless one is stored already (first writer wins); returns the stored one. */
export async function fixPipelineInput(db: Tx, runId: string, input: Prisma.InputJsonValue): Promise<Prisma.JsonValue | null> {
  await db.taskRun.updateMany({ where: { id: runId, pipelineInput: { equals: Prisma.DbNull } }, data: { pipelineInput: input } });
  const stored = await db.taskRun.findUniqueOrThrow({ where: { id: runId }, select: { pipelineInput: true } });
  return stored.pipelineInput;
}

/** The team and the person a task's flag check is about (the team itself when nobody is). */
export async function findFlagSubject(db: Tx, taskId: string): Promise<{ teamId: string; distinctId: string }> {
  const task = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { teamId: true, createdBy: { select: { externalId: true } } } });
  return { teamId: task.teamId, distinctId: task.createdBy?.externalId ?? task.teamId };
}
