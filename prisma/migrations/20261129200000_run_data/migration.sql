-- Run data as columns instead of fields read back out of the event log, the event kind as an
-- enum, and the tracking comment's id kept once found.

-- CreateEnum
CREATE TYPE "task_event_kind" AS ENUM ('task_created', 'task_cancelled', 'run_queued', 'run_start_deferred', 'followup_requested', 'stage_entered', 'stage_moved', 'stage_approved', 'waiting_approval', 'agent_output', 'run_completed', 'run_failed', 'run_cancelled');

-- AlterTable
ALTER TABLE "task_runs" ADD COLUMN     "completion_note" TEXT,
ADD COLUMN     "followup_instructions" TEXT;

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "tracking_comment_id" BIGINT;

-- Backfill: a follow-up run's instructions from its `followup_requested` event (the first one).
UPDATE "task_runs" AS r
SET "followup_instructions" = e."data" ->> 'instructions'
FROM (
    SELECT DISTINCT ON ("run_id") "run_id", "data"
    FROM "task_events"
    WHERE "type" = 'followup_requested' AND "run_id" IS NOT NULL
    ORDER BY "run_id", "id" ASC
) AS e
WHERE e."run_id" = r."id" AND e."data" ->> 'instructions' IS NOT NULL;

-- Backfill: a completed run's note from its `run_completed` event (the last one).
UPDATE "task_runs" AS r
SET "completion_note" = e."data" ->> 'note'
FROM (
    SELECT DISTINCT ON ("run_id") "run_id", "data"
    FROM "task_events"
    WHERE "type" = 'run_completed' AND "run_id" IS NOT NULL
    ORDER BY "run_id", "id" DESC
) AS e
WHERE e."run_id" = r."id" AND e."data" ->> 'note' IS NOT NULL;

-- AlterTable: every kind written so far is a value of the enum, so the cast converts each row.
ALTER TABLE "task_events" ALTER COLUMN "type" TYPE "task_event_kind" USING ("type"::"task_event_kind");
