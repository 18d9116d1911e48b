// Check runs as Tasks last sent them (check_runs): the id of a stage's check run on a commit, so
// updating it is one PATCH instead of a listing by external_id, and a hash of the state sent, so
// the same state is not sent twice (a retried step, a second process).
import type { Tx } from "./client.ts";

export interface CheckRunKey {
  runId: string;
  stage: string;
  headSha: string;
}

export interface SentCheckRun {
  checkRunId: number;
  sentHash: string;
}

export async function findSentCheckRun(db: Tx, key: CheckRunKey): Promise<SentCheckRun | null> {
  const row = await db.checkRun.findUnique({ where: { runId_stage_headSha: key }, select: { checkRunId: true, sentHash: true } });
  return row ? { checkRunId: Number(row.checkRunId), sentHash: row.sentHash } : null;
}

export async function saveSentCheckRun(db: Tx, key: CheckRunKey, sent: SentCheckRun): Promise<void> {
  const data = { checkRunId: BigInt(sent.checkRunId), sentHash: sent.sentHash };
  await db.checkRun.upsert({ where: { runId_stage_headSha: key }, create: { ...key, ...data }, update: data });
}
