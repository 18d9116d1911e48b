-- AlterTable
ALTER TABLE "task_runs" ADD COLUMN     "kind" TEXT NOT NULL DEFAULT 'initial',
ADD COLUMN     "pipeline_input" JSONB;

-- CreateTable
CREATE TABLE "run_steps" (
    "run_id" UUID NOT NULL,
    "seq" INTEGER NOT NULL,
    "command" JSONB NOT NULL,
    "result" JSONB NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "run_steps_pkey" PRIMARY KEY ("run_id","seq")
);

-- CreateIndex
CREATE INDEX "task_runs_status_created_at_idx" ON "task_runs"("status", "created_at");

-- AddForeignKey
ALTER TABLE "run_steps" ADD CONSTRAINT "run_steps_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "task_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
