// A run's model gateway token (only its hash) and the model tokens the run used through the gateway,
// in total (the budget's count) and per model (what its cost is priced from).
import type { RunStatus } from "../generated/prisma/client.ts";
import type { Db, Tx } from "./client.ts";

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

/** One answer's usage, or a run's usage of one model: the totals plus which model and its cache parts. */
export interface ModelUsage extends RunModelUsage {
  /** Bounded and stored as data only: the vendor's answer names it, and the sandbox chose the request. */
  model: string;
  /** Parts of inputTokens: read from and written to the vendor's prompt cache (priced apart). */
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export interface RunModelUsageRow extends ModelUsage {
  runId: string;
}

/**
 * Adds one answer's usage to the run's totals and to its model's row in one transaction, each an
 * atomic increment, so concurrent requests of one run never lose a count. The run's row is updated
 * first: its row lock makes concurrent answers of the same run take turns at the model's row.
 */
export async function addRunModelUsage(db: Db, runId: string, usage: ModelUsage): Promise<RunModelUsage> {
  const { model, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens } = usage;
  const [total] = await db.$transaction([
    db.taskRun.update({
      where: { id: runId },
      data: { inputTokens: { increment: inputTokens }, outputTokens: { increment: outputTokens } },
      select: { inputTokens: true, outputTokens: true },
    }),
    db.runModelUsage.upsert({
      where: { runId_model: { runId, model } },
      create: { runId, model, inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens },
      update: {
        inputTokens: { increment: inputTokens },
        outputTokens: { increment: outputTokens },
        cacheReadTokens: { increment: cacheReadTokens },
        cacheWriteTokens: { increment: cacheWriteTokens },
      },
    }),
  ]);
  return total;
}

/** The runs' usage per model, in a stable order (run, then model). */
export async function listRunModelUsage(db: Tx, runIds: string[]): Promise<RunModelUsageRow[]> {
  if (runIds.length === 0) return [];
  return db.runModelUsage.findMany({
    where: { runId: { in: runIds } },
    orderBy: [{ runId: "asc" }, { model: "asc" }],
    select: { runId: true, model: true, inputTokens: true, outputTokens: true, cacheReadTokens: true, cacheWriteTokens: true },
  });
}

export async function findRunModelUsage(db: Tx, runId: string): Promise<RunModelUsage | null> {
  return db.taskRun.findUnique({ where: { id: runId }, select: { inputTokens: true, outputTokens: true } });
}
