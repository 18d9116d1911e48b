-- What Tasks already sent to GitHub, kept so it is not asked for or sent again: each check run's
-- id per run, stage and commit (an update is one PATCH, never a listing to find it), with a hash
-- of the state last sent; and a hash of the tracking comment's last body (an unchanged comment
-- is not edited again, whichever process renders it).

-- AlterTable
ALTER TABLE "tasks" ADD COLUMN     "tracking_comment_hash" TEXT;

-- CreateTable
CREATE TABLE "check_runs" (
    "run_id" UUID NOT NULL,
    "stage" TEXT NOT NULL,
    "head_sha" TEXT NOT NULL,
    "check_run_id" BIGINT NOT NULL,
    "sent_hash" TEXT NOT NULL,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "check_runs_pkey" PRIMARY KEY ("run_id","stage","head_sha")
);

-- AddForeignKey
ALTER TABLE "check_runs" ADD CONSTRAINT "check_runs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "task_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
