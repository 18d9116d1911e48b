// Bounded retries for the embedded engine, as Temporal's retry policies give the other one:
// an activity that fails for a reason that may pass (a network blip, a 502) is tried again after
// a pause; a permanent failure or a cancelled run is not.
import { isRetryable } from "../lib/errors.ts";

export interface RetryPolicy {
  /** Pauses before the 2nd, 3rd … attempt; its length + 1 is the number of attempts. */
  delaysMs: number[];
}

export const bookkeepingRetries: RetryPolicy = { delaysMs: [500, 2_000, 8_000] };
export const agentRetries: RetryPolicy = { delaysMs: [10_000, 60_000] };

export async function withRetries<T>(policy: RetryPolicy, signal: AbortSignal, work: () => Promise<T>, onRetry: (error: unknown, attempt: number) => void): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await work();
    } catch (error) {
      const delay = policy.delaysMs[attempt - 1];
      if (delay === undefined || signal.aborted || !isRetryable(error)) throw error;
      onRetry(error, attempt);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        signal.addEventListener("abort", () => (clearTimeout(timer), resolve()), { once: true });
      });
      if (signal.aborted) throw error;
    }
  }
}
