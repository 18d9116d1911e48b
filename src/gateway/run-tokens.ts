// Per-run model gateway tokens: `tgw_<secret>`. The sandbox holds the token; the database only its
// sha256. The secret is 32 random bytes, so looking its hash up by index leaks nothing through
// timing (unlike a guessable password, there is nothing to narrow down).
import { createHash, randomBytes } from "node:crypto";
import type { Db } from "../db/client.ts";
import { findRunByModelTokenHash, setRunModelTokenHash, type RunHoldingToken } from "../db/run-model-usage.ts";
import { AppError } from "../lib/errors.ts";

const tokenPattern = /^tgw_[A-Za-z0-9_-]{43}$/;
const hashToken = (token: string) => new Uint8Array(createHash("sha256").update(token).digest());

/**
 * A fresh token for the run's next agent. Minting again (a retried activity, the next stage)
 * replaces the stored hash, so only the newest token works: converging, never two live tokens.
 */
export async function mintRunToken(db: Db, runId: string): Promise<string> {
  const token = `tgw_${randomBytes(32).toString("base64url")}`;
  await setRunModelTokenHash(db, runId, hashToken(token));
  return token;
}

export async function revokeRunToken(db: Db, runId: string): Promise<void> {
  await setRunModelTokenHash(db, runId, null);
}

const refused = (message: string) => new AppError("unauthorized", "invalid_run_token", message);

/** The run a presented token belongs to, while that run is running; throws `unauthorized` otherwise. */
export async function authenticateRunToken(db: Db, presented: string | undefined): Promise<RunHoldingToken> {
  if (!presented) throw refused("a run token is required (x-api-key or Authorization: Bearer)");
  const run = tokenPattern.test(presented) ? await findRunByModelTokenHash(db, hashToken(presented)) : null;
  if (!run) throw refused("the run token is unknown or revoked");
  if (run.status !== "running") throw refused(`the run token's run is ${run.status}, not running`);
  return run;
}
