-- Durable counts behind what the App answers on GitHub: a refused sender is answered at most
-- once per issue per hour and never twice for one delivery, and comment commands are limited
-- per user and per repository, whichever process takes the delivery.

-- CreateTable
CREATE TABLE "trigger_throttles" (
    "key" TEXT NOT NULL,
    "count" INTEGER NOT NULL DEFAULT 0,
    "window_start" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "trigger_throttles_pkey" PRIMARY KEY ("key")
);

-- CreateIndex
CREATE INDEX "trigger_throttles_expires_at_idx" ON "trigger_throttles"("expires_at");
