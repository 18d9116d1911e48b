// Team API keys: `tsk_<lookup>_<secret>`. The lookup part finds the row; the secret is stored
// only as a sha256 hash and compared in constant time, so neither a database leak nor response
// timing gives a key away.
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { AppError } from "../lib/errors.ts";
import { findApiKeyByLookup, insertApiKey, setApiKeyLastUsed } from "../db/api-keys.ts";
import type { Db } from "../db/client.ts";

const keyPattern = /^tsk_([A-Za-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const hashSecret = (secret: string): Buffer => createHash("sha256").update(secret).digest();
// Compared against when the lookup finds nothing, so a miss costs the same as a wrong secret.
const decoyHash = hashSecret("decoy");

const alphanumeric = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
function randomLookup(): string {
  return Array.from(randomBytes(12), (byte) => alphanumeric[byte % alphanumeric.length]).join("");
}

export interface CreatedApiKey {
  id: string;
  name: string;
  /** Shown once; only its hash is kept. */
  key: string;
}

export async function createApiKey(db: Db, teamId: string, name: string): Promise<CreatedApiKey> {
  const lookup = randomLookup();
  const secret = randomBytes(32).toString("base64url");
  const row = await insertApiKey(db, { teamId, name, lookup, secretHash: new Uint8Array(hashSecret(secret)) });
  return { id: row.id, name: row.name, key: `tsk_${lookup}_${secret}` };
}

const unauthorized = () =>
  new AppError("unauthorized", "unauthorized", "a valid team API key is required: Authorization: Bearer tsk_…");

// last_used_at is for operators ("is this key still in use?"): minute precision is plenty, so
// it is written at most once a minute per key rather than on every request.
const lastUsedPrecisionMs = 60_000;

/** Returns the team id the key belongs to, or throws `unauthorized`. */
export async function verifyApiKey(db: Db, presented: string, now = new Date()): Promise<{ teamId: string; keyId: string }> {
  const match = keyPattern.exec(presented);
  const row = match ? await findApiKeyByLookup(db, match[1]!) : null;
  const presentedHash = hashSecret(match?.[2] ?? presented);
  const storedHash = row ? Buffer.from(row.secretHash) : decoyHash;
  const equal = timingSafeEqual(presentedHash, storedHash);
  if (!row || !equal || row.revokedAt) throw unauthorized();
  if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() >= lastUsedPrecisionMs) {
    await setApiKeyLastUsed(db, row.id, now);
  }
  return { teamId: row.teamId, keyId: row.id };
}
