// What the run reconciler (src/tasks/reconciler.ts) reads and writes. Times are the database's
// clock, so several web processes agree on what is due. Claiming a stranded run is one UPDATE …
// FOR UPDATE SKIP LOCKED that also sets its next try, which doubles as the claim; failing a
// stale run is a conditional UPDATE that re-checks staleness under the row lock, so two
// processes never both act on one run and a run that just moved on is left alone.
import { Prisma } from "../generated/prisma/client.ts";
import type { Db } from "./client.ts";
import { appendTaskEvent } from "./task-events.ts";

const ms = (value: number) => Prisma.sql`(${Math.round(value)}::float8 * interval '1 millisecond')`;

export interface StrandedRun {
  taskId: string;
  runId: string;
  attempt: number;
  /** This try included: 1 for the reconciler's first. */
  startAttempts: number;
}

export interface StartBackoff {
  /** Waited before a run's first try (its creator's own hand-off may still be under way). */
  graceMs: number;
  /** The pause after the first failed try; each later one doubles, up to maxMs. */
  firstMs: number;
  maxMs: number;
}

/**
 * Claims up to `limit` queued runs no engine took, older than the grace and due for a try,
 * oldest first, and sets each one's next try (firstMs · 2^tries, capped) in the same statement.
 */
export async function claimStrandedRuns(db: Db, backoff: StartBackoff, limit: number): Promise<StrandedRun[]> {
  // The exponent is capped too, so a run stranded for weeks does not overflow float8.
  const rows = await db.$queryRaw<{ id: string; task_id: string; attempt: number; start_attempts: number; created_at: Date }[]>`
    UPDATE task_runs SET start_attempts = start_attempts + 1,
      next_start_at = now() + LEAST(${backoff.firstMs}::float8 * power(2, LEAST(start_attempts, 30)), ${backoff.maxMs}::float8) * interval '1 millisecond'
    WHERE id IN (
      SELECT id FROM task_runs
      WHERE status = 'queued' AND engine_id IS NULL AND created_at <= now() - ${ms(backoff.graceMs)}
        AND (next_start_at IS NULL OR next_start_at <= now())
      ORDER BY created_at LIMIT ${limit} FOR UPDATE SKIP LOCKED)
    RETURNING id, task_id, attempt, start_attempts, created_at`;
  return rows
    .sort((a, b) => a.created_at.getTime() - b.created_at.getTime())
    .map((row) => ({ taskId: row.task_id, runId: row.id, attempt: row.attempt, startAttempts: row.start_attempts }));
}

export interface StageLimits {
  /** How long a stage with an agent may go without progress. */
  agentMs: number;
  /** How long any other stage may (bookkeeping, publishing). */
  otherMs: number;
  /** Added to either before a run counts as stale. */
  marginMs: number;
}

export interface StaleRun {
  taskId: string;
  runId: string;
  attempt: number;
  engine: string | null;
  stageKey: string | null;
  stageName: string | null;
  quietMs: number;
}

// The run's last sign of life: its start, its task's newest event (stage entered, agent output,
// an operator's move), its newest recorded step — or when this process began watching, since
// nothing could progress while no engine was running.
const lastProgress = (watchingSince: Date | null) => Prisma.sql`GREATEST(
  r.created_at, r.started_at,
  (SELECT e.created_at FROM task_events e WHERE e.task_id = r.task_id ORDER BY e.id DESC LIMIT 1),
  (SELECT s.created_at FROM run_steps s WHERE s.run_id = r.id ORDER BY s.seq DESC LIMIT 1),
  ${watchingSince}::timestamptz)`;

const stageLimit = (limits: StageLimits) =>
  Prisma.sql`(CASE WHEN st.agent_role IS NOT NULL THEN ${ms(limits.agentMs)} ELSE ${ms(limits.otherMs)} END + ${ms(limits.marginMs)})`;

// A run waiting for a person's approval is not stuck, however long the wait.
const staleRunning = (limits: StageLimits, watchingSince: Date | null) => Prisma.sql`
  r.status = 'running' AND t.status <> 'waiting_approval' AND ${lastProgress(watchingSince)} < now() - ${stageLimit(limits)}`;

/** Running runs whose stage went without progress for longer than its limit, oldest first. */
export async function findStaleRunningRuns(db: Db, limits: StageLimits, watchingSince: Date | null, limit: number): Promise<StaleRun[]> {
  const rows = await db.$queryRaw<{ id: string; task_id: string; attempt: number; engine: string | null; stage_key: string | null; stage_name: string | null; quiet_ms: number }[]>`
    SELECT r.id, r.task_id, r.attempt, r.engine, st.key AS stage_key, st.name AS stage_name,
      (EXTRACT(EPOCH FROM (now() - ${lastProgress(watchingSince)})) * 1000)::float8 AS quiet_ms
    FROM task_runs r JOIN tasks t ON t.id = r.task_id LEFT JOIN stages st ON st.id = t.current_stage_id
    WHERE ${staleRunning(limits, watchingSince)}
    ORDER BY r.created_at LIMIT ${limit}`;
  return rows.map((row) => ({ taskId: row.task_id, runId: row.id, attempt: row.attempt, engine: row.engine, stageKey: row.stage_key, stageName: row.stage_name, quietMs: Number(row.quiet_ms) }));
}

/**
 * Fails the run and its task if it is still stale, with its event, in one transaction. False
 * when it moved on, finished, or another process failed it first.
 */
export async function failStaleRun(
  db: Db,
  run: { taskId: string; runId: string; stage: string | null; message: string; reason: string },
  limits: StageLimits,
  watchingSince: Date | null,
): Promise<boolean> {
  return db.$transaction(async (tx) => {
    const failed = await tx.$executeRaw`
      UPDATE task_runs r SET status = 'failed', finished_at = now(), error = ${run.message}
      FROM tasks t LEFT JOIN stages st ON st.id = t.current_stage_id
      WHERE r.id = ${run.runId}::uuid AND t.id = r.task_id AND ${staleRunning(limits, watchingSince)}`;
    if (failed !== 1) return false;
    await tx.task.updateMany({ where: { id: run.taskId, status: { notIn: ["completed", "cancelled", "failed"] } }, data: { status: "failed" } });
    await appendTaskEvent(tx, {
      taskId: run.taskId,
      runId: run.runId,
      type: "run_failed",
      message: run.message,
      data: { status: "failed", stage: run.stage, reason: run.reason, by: "reconciler" },
    });
    return true;
  });
}

/** The database's clock now: when a reconciler began watching. */
export async function databaseNow(db: Db): Promise<Date> {
  const rows = await db.$queryRaw<{ now: Date }[]>`SELECT now() AS now`;
  return rows[0]!.now;
}
