-- The run reconciler: a queued run no engine took is handed over again with a backoff that
-- survives restarts and is shared by every web process.

-- AlterTable
ALTER TABLE "task_runs" ADD COLUMN     "start_attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "next_start_at" TIMESTAMPTZ(3);
