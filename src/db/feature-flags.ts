// The local feature flag store (feature_flags): one row per team and flag that was set.
import type { Tx } from "./client.ts";

/** The flag's stored value for the team; undefined when no one has set it. */
export async function findFeatureFlag(db: Tx, teamId: string, key: string): Promise<boolean | undefined> {
  const row = await db.featureFlag.findUnique({ where: { teamId_key: { teamId, key } } });
  return row?.enabled;
}

export async function upsertFeatureFlag(db: Tx, teamId: string, key: string, enabled: boolean): Promise<void> {
  await db.featureFlag.upsert({ where: { teamId_key: { teamId, key } }, create: { teamId, key, enabled }, update: { enabled } });
}
