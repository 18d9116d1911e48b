// Named timeout and retry profiles for the workflow's activities (STYLE.md, Temporal samples).
// Imported by workflow code, so it may import only types and the pure pipeline modules.
import type { ActivityOptions } from "@temporalio/workflow";
import { permanentFailureType } from "../pipeline/activities.ts";

/**
 * Error types retrying cannot fix. Activities mark their own permanent failures with
 * `permanentFailureType` (src/temporal/activities.ts converts them); the rest are the names of
 * validation, permission and not-found errors that may escape a library unconverted.
 */
export const nonRetryableErrorTypes = [
  permanentFailureType,
  "ValidationError",
  "ZodError",
  "PrismaClientValidationError",
  "PermissionError",
  "ForbiddenError",
  "NotFoundError",
] as const;

export const activityProfiles = {
  /** Database bookkeeping: quick, idempotent, worth a few retries through a blip. */
  quick: {
    startToCloseTimeout: "30 seconds",
    retry: { initialInterval: "1 second", backoffCoefficient: 2, maximumInterval: "30 seconds", maximumAttempts: 5, nonRetryableErrorTypes: [...nonRetryableErrorTypes] },
  },
  /**
   * Agent runs and publishing: long, so they heartbeat; a missed heartbeat (worker gone) fails
   * the attempt in minutes rather than hours. Few attempts: each one is expensive.
   * WAIT_CANCELLATION_COMPLETED: on cancellation the workflow waits until the activity has
   * acknowledged it (through its heartbeat) before cleanup releases the sandbox under it.
   */
  agent: {
    startToCloseTimeout: "2 hours",
    heartbeatTimeout: "2 minutes",
    cancellationType: "WAIT_CANCELLATION_COMPLETED",
    retry: { initialInterval: "10 seconds", backoffCoefficient: 2, maximumInterval: "5 minutes", maximumAttempts: 3, nonRetryableErrorTypes: [...nonRetryableErrorTypes] },
  },
} satisfies Record<string, ActivityOptions>;
