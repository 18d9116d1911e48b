-- AlterTable
ALTER TABLE "task_runs" ADD COLUMN     "base_sha" TEXT,
ADD COLUMN     "sandbox_id" TEXT;

-- CreateTable
CREATE TABLE "stage_outputs" (
    "id" UUID NOT NULL,
    "run_id" UUID NOT NULL,
    "stage" TEXT NOT NULL,
    "iteration" INTEGER NOT NULL,
    "role" "agent_role" NOT NULL,
    "text" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "stage_outputs_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "stage_outputs_run_id_stage_iteration_key" ON "stage_outputs"("run_id", "stage", "iteration");

-- AddForeignKey
ALTER TABLE "stage_outputs" ADD CONSTRAINT "stage_outputs_run_id_fkey" FOREIGN KEY ("run_id") REFERENCES "task_runs"("id") ON DELETE CASCADE ON UPDATE CASCADE;
