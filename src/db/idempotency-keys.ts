// Idempotency keys (idempotency_keys): a team's key, the hash of the request it came with, and the task it created.
import type { Tx } from "./client.ts";
import { taskInclude } from "./tasks.ts";

export async function findIdempotencyKeyWithTask(db: Tx, teamId: string, key: string) {
  return db.idempotencyKey.findUnique({ where: { teamId_key: { teamId, key } }, include: { task: { include: taskInclude } } });
}

export async function insertIdempotencyKey(db: Tx, entry: { teamId: string; key: string; requestHash: string; taskId: string }): Promise<void> {
  await db.idempotencyKey.create({ data: entry });
}
