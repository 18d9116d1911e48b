-- The durable webhook inbox: a delivery is stored with its payload before GitHub gets its
-- answer, and handlers run from here (claimed under a lease, retried with backoff).

-- CreateEnum
CREATE TYPE "webhook_delivery_status" AS ENUM ('pending', 'processing', 'processed', 'failed');

-- AlterTable: rows from before the inbox were handled when they were recorded.
ALTER TABLE "webhook_deliveries" ADD COLUMN     "installation_id" BIGINT,
ADD COLUMN     "payload" JSONB,
ADD COLUMN     "status" "webhook_delivery_status" NOT NULL DEFAULT 'processed',
ADD COLUMN     "attempts" INTEGER NOT NULL DEFAULT 0,
ADD COLUMN     "next_attempt_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
ADD COLUMN     "lease_expires_at" TIMESTAMPTZ(3),
ADD COLUMN     "last_error" TEXT,
ADD COLUMN     "processed_at" TIMESTAMPTZ(3);

UPDATE "webhook_deliveries" SET "processed_at" = "received_at", "attempts" = 1;

ALTER TABLE "webhook_deliveries" ALTER COLUMN "status" SET DEFAULT 'pending';

-- CreateIndex
CREATE INDEX "webhook_deliveries_status_next_attempt_at_idx" ON "webhook_deliveries"("status", "next_attempt_at");
