// The pipeline's activities as the Temporal worker registers them: the same methods, with the
// Temporal habits added — long steps heartbeat (so a dead worker is noticed in minutes and a
// cancellation reaches the step), and permanent failures become non-retryable ApplicationFailures.
import { Context } from "@temporalio/activity";
import { ApplicationFailure } from "@temporalio/common";
import { errorMessage, isPermanent } from "../lib/errors.ts";
import { permanentFailureType, type PipelineActivities } from "../pipeline/activities.ts";

/** Well under the agent profile's 2-minute heartbeat timeout; the SDK throttles sends anyway. */
export const defaultHeartbeatIntervalMs = 20_000;

export interface WrapOptions {
  heartbeatIntervalMs?: number;
}

/** The one predicate (lib/errors.ts), plus the flag an ApplicationFailure a step made itself carries. */
export function isPermanentFailure(error: unknown): boolean {
  return (error instanceof ApplicationFailure && error.nonRetryable) || isPermanent(error);
}

/** Rethrows a permanent failure as non-retryable, anything else unchanged (Temporal retries it). */
async function classifyFailure<T>(step: () => Promise<T>): Promise<T> {
  try {
    return await step();
  } catch (error) {
    if (error instanceof ApplicationFailure || !isPermanentFailure(error)) throw error;
    throw ApplicationFailure.nonRetryable(errorMessage(error), permanentFailureType);
  }
}

/**
 * Runs a long step while heartbeating progress. Cancellation reaches an activity only through its
 * heartbeats; the step gets the activity's abort signal, and the activity reports the
 * cancellation at once even if the step is slow to stop (cleanup then releases its sandbox).
 */
async function withHeartbeat<R>(step: (signal: AbortSignal) => Promise<R>, progress: Record<string, unknown>, intervalMs: number): Promise<R> {
  const context = Context.current();
  const startedAt = Date.now();
  const beat = () => context.heartbeat({ ...progress, elapsedSeconds: Math.round((Date.now() - startedAt) / 1000) });
  beat();
  const timer = setInterval(beat, intervalMs);
  try {
    const running = step(context.cancellationSignal);
    // Once cancelled, the step's own ending (usually an abort error) has no one left to report to.
    running.catch((error: unknown) => {
      if (context.cancellationSignal.aborted) context.log.debug("a cancelled step has ended", { ...progress, error: String(error) });
    });
    return await Promise.race([running, context.cancelled]);
  } finally {
    clearInterval(timer);
  }
}

export function wrapActivities(activities: PipelineActivities, options: WrapOptions = {}): PipelineActivities {
  const intervalMs = options.heartbeatIntervalMs ?? defaultHeartbeatIntervalMs;
  return {
    loadRun: (run) => classifyFailure(() => activities.loadRun(run)),
    checkFlag: (run) => classifyFailure(() => activities.checkFlag(run)),
    enterStage: (args) => classifyFailure(() => activities.enterStage(args)),
    runAgent: (args) =>
      classifyFailure(() =>
        withHeartbeat((signal) => activities.runAgent(args, signal), { step: "runAgent", stage: args.stage, role: args.role, iteration: args.iteration }, intervalMs),
      ),
    markWaiting: (args) => classifyFailure(() => activities.markWaiting(args)),
    publish: (args) => classifyFailure(() => withHeartbeat((signal) => activities.publish(args, signal), { step: "publish", stage: args.stage }, intervalMs)),
    finish: (args) => classifyFailure(() => activities.finish(args)),
    cleanup: (run) => classifyFailure(() => activities.cleanup(run)),
  };
}
