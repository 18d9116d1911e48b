// When a failed delivery runs again, and why it failed, in words an operator can act on.
import { errorMessage, isRetryable } from "../lib/errors.ts";

/** Pauses before the 2nd, 3rd … run: `count` pauses, each `factor` times the one before. */
export function exponentialDelays(firstMs: number, factor: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => firstMs * factor ** index);
}

/** 30 s, 2 min, 8 min, 32 min: five runs over about 45 minutes ride out a GitHub incident. */
export const defaultRetryDelaysMs = exponentialDelays(30_000, 4, 4);

// Probot runs every handler of an event and throws one AggregateError holding their errors.
const causesOf = (error: unknown): unknown[] => (error instanceof AggregateError && error.errors.length > 0 ? error.errors : [error]);

/** Whether running the handlers again could not help (lib/errors.ts decides for each cause). */
export const willFailAgain = (error: unknown): boolean => causesOf(error).every((cause) => !isRetryable(cause));

const maxReasonLength = 2_000;

export function describeFailure(error: unknown): string {
  const reason = causesOf(error).map(errorMessage).join("; ") || "the handler failed without a message";
  return reason.length > maxReasonLength ? `${reason.slice(0, maxReasonLength - 1)}…` : reason;
}
