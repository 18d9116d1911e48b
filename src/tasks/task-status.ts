// Which statuses count as what, for every rule that asks (one definition, not one per action).
import type { RunStatus, TaskStatus } from "../generated/prisma/client.ts";

/** A task still in flight: an issue has at most one, and losing its installation cancels it. */
export const activeTaskStatuses: readonly TaskStatus[] = ["queued", "running", "waiting_approval"];

/** A finished task can no longer be cancelled or moved. */
export const finishedTaskStatuses: readonly TaskStatus[] = ["completed", "cancelled"];

/** Runs an engine may still be working on: a task has at most one. */
export const activeRunStatuses: readonly RunStatus[] = ["queued", "running"];
