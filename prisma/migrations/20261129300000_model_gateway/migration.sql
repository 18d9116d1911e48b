-- The model gateway: a run's token (stored hashed) and the model tokens it used.

-- AlterTable
ALTER TABLE "task_runs" ADD COLUMN     "model_token_hash" BYTEA,
ADD COLUMN     "input_tokens" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "output_tokens" INTEGER NOT NULL DEFAULT 0;

-- CreateIndex
CREATE UNIQUE INDEX "task_runs_model_token_hash_key" ON "task_runs"("model_token_hash");
