-- Model usage per run and model, so a run's cost can be priced per model: the run's totals in
-- task_runs stay (the budget counts them), this table splits them by the model that answered.

-- CreateTable
CREATE TABLE "run_model_usage" (
    "run_id" UUID NOT NULL,
    "model" TEXT NOT NULL,
    "input_tokens" INTEGER NOT NULL DEFAULT 0,
    "output_tokens" INTEGER NOT NULL DEFAULT 0,
    "cache_read_tokens" INTEGER NOT NULL DEFAULT 0,
    "cache_write_tokens" INTEGER NOT NULL DEFAULT 0,

    CONSTRAINT "run_model_usage_pkey" PRIMARY KEY ("run_id","model")
);

-- AddForeignKey
ALTER TABLE "run_model_usage" ADD CONSTRAINT "run_model_usage_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "task_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
