// Team API keys (api_keys): only the lookup part and the secret's hash are stored.
import type { ApiKey } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

export async function insertApiKey(db: Tx, key: { teamId: string; name: string; lookup: string; secretHash: Uint8Array<ArrayBuffer> }): Promise<ApiKey> {
  return db.apiKey.create({ data: key });
}

export async function findApiKeyByLookup(db: Tx, lookup: string): Promise<ApiKey | null> {
  return db.apiKey.findUnique({ where: { lookup } });
}

export async function setApiKeyLastUsed(db: Tx, id: string, at: Date): Promise<void> {
  await db.apiKey.update({ where: { id }, data: { lastUsedAt: at } });
}
