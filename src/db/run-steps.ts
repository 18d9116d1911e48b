// The embedded engine's step log (run_steps): every command a run performed and its result, in
// order, so a run resumed after a crash replays them instead of repeating their side effects.
// The rows hold the pipeline's own JSON; the runner gives them their types.
import type { Prisma } from "../generated/prisma/client.ts";
import { isUniqueViolation, type Tx } from "./client.ts";

export interface RecordedStep {
  command: unknown;
  result: unknown;
}

export async function listRunSteps(db: Tx, runId: string): Promise<RecordedStep[]> {
  return db.runStep.findMany({ where: { runId }, orderBy: { seq: "asc" }, select: { command: true, result: true } });
}

/**
 * Records step `seq` of the run. False when that step is recorded already: another executor got
 * there first (the primary key on run and seq decides), so it owns the run now.
 */
export async function recordRunStep(db: Tx, runId: string, seq: number, step: RecordedStep): Promise<boolean> {
  try {
    await db.runStep.create({ data: { runId, seq, command: step.command as Prisma.InputJsonValue, result: step.result as Prisma.InputJsonValue } });
    return true;
  } catch (error) {
    if (isUniqueViolation(error)) return false;
    throw error;
  }
}
