// A run's model gateway token (only its hash) and the model tokens the run used through the gateway.
import type { RunStatus } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export interface RunModelUsage {
  inputTokens: number;
  outputTokens: number;
}

export interface RunHoldingToken extends RunModelUsage {
  id: string;
  status: RunStatus;
}

/** Replaces the run's token hash (null revokes it): a newer token always makes the older one useless. */
export async function setRunModelTokenHash(db: Tx, runId: string, hash: Uint8Array<ArrayBuffer> | null): Promise<void> {
  // updateMany: revoking the token of a run deleted with its task is not an error.
  await db.taskRun.updateMany({ where: { id: runId }, data: { modelTokenHash: hash } });
}

export async function findRunByModelTokenHash(db: Tx, hash: Uint8Array<ArrayBuffer>): Promise<RunHoldingToken | null> {
  return db.taskRun.findUnique({ where: { modelTokenHash: hash }, select: { id: true, status: true, inputTokens: true, outputTokens: true } });
}

/** Adds to the run's usage in one atomic update, so concurrent requests of one run never lose a count. */
export async function addRunModelUsage(db: Tx, runId: string, usage: RunModelUsage): Promise<RunModelUsage> {
  return db.taskRun.update({
    where: { id: runId },
    data: { inputTokens: { increment: usage.inputTokens }, outputTokens: { increment: usage.outputTokens } },
    select: { inputTokens: true, outputTokens: true },
  });
}

export async function findRunModelUsage(db: Tx, runId: string): Promise<RunModelUsage | null> {
  return db.taskRun.findUnique({ where: { id: runId }, select: { inputTokens: true, outputTokens: true } });
}
