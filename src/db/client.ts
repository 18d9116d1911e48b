import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";

export type Db = PrismaClient;
/**
 * The client inside `$transaction(async (tx) => …)`. The full client is one too, so repository
 * functions take a `Tx` and serve both callers inside a transaction and callers outside one.
 */
export type Tx = Prisma.TransactionClient;

/** Settings for interactive transactions that may queue behind a team's row lock. */
export const lockingTransaction = { maxWait: 20_000, timeout: 30_000 } as const;

/** True when a Prisma error is a unique-constraint violation (P2002). */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { code?: unknown }).code === "P2002";
}
