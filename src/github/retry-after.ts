// GitHub's rate limits, answered the way GitHub asks: wait for `retry-after` (or the primary
// limit's reset) and try again, a bounded number of times. Probot's own handlers do not retry a
// secondary limit at all, and Octokit's retry plugin answers a 429 after 1, 4 and 9 seconds
// whatever GitHub said, so both are switched off for these answers and this plugin does the
// waiting instead, outside them, so a retried request goes through auth again. Writes of an
// installation client are the write scheduler's (schedule-writes.ts): it does their waiting.
import type { ProbotOctokit } from "probot";
import { isScheduledWrite } from "./scheduled-writes.ts";

/** An Octokit plugin, typed through Probot (which is what brings Octokit in). */
export type OctokitPlugin = Parameters<typeof ProbotOctokit.plugin>[0];

export interface RetryAfterSettings {
  /** Retries of one request after a rate-limit answer. */
  maxRetries: number;
  /** A longer wait than this is not waited for: the error goes up to the step's own retries. */
  maxWaitSeconds: number;
  /** Tests pass one that records the wait instead of sleeping. */
  sleep: (ms: number) => Promise<void>;
}

/** What `options.retryAfter` may override (tests shorten or record the waits). */
export type RetryAfterOptions = Partial<RetryAfterSettings>;

const defaults: RetryAfterSettings = {
  maxRetries: 3,
  maxWaitSeconds: 15 * 60,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** When GitHub gives no `retry-after` for a secondary limit, it asks for at least a minute. */
const secondaryLimitFallbackSeconds = 60;

/** The statuses Octokit's retry plugin must leave alone: 429 is answered here. */
export const doNotRetryStatuses = [400, 401, 403, 404, 410, 422, 429, 451];

type RequestError = { status?: number; message?: string; response?: { headers?: Record<string, string | number | undefined> } };

/** Seconds GitHub asked us to wait before trying again, or undefined when the error is not a rate limit. */
export function rateLimitWaitSeconds(error: unknown, nowMs: number): number | undefined {
  const failure = error as RequestError;
  if (failure.status !== 403 && failure.status !== 429) return undefined;
  const headers = failure.response?.headers ?? {};
  const retryAfter = headers["retry-after"];
  if (retryAfter !== undefined && /^\d+$/.test(String(retryAfter).trim())) return Number(retryAfter);
  if (String(headers["x-ratelimit-remaining"]) === "0" && headers["x-ratelimit-reset"] !== undefined) {
    return Math.max(0, Math.ceil(Number(headers["x-ratelimit-reset"]) - nowMs / 1000)) + 1;
  }
  if (/\bsecondary rate\b/i.test(failure.message ?? "")) return secondaryLimitFallbackSeconds;
  // A 429 always means "too many requests", even without a hint of how long to wait.
  return failure.status === 429 ? secondaryLimitFallbackSeconds : undefined;
}

export const retryAfter: OctokitPlugin = (octokit, options) => {
  const settings: RetryAfterSettings = { ...defaults, ...(options["retryAfter"] as RetryAfterOptions | undefined) };
  octokit.hook.wrap("request", async (request, requestOptions) => {
    // The write scheduler waits for its writes itself, pausing the installation's whole queue.
    if (isScheduledWrite(requestOptions)) return request(requestOptions);
    for (let retries = 0; ; retries += 1) {
      try {
        return await request(requestOptions);
      } catch (error) {
        const wait = rateLimitWaitSeconds(error, Date.now());
        if (wait === undefined || retries >= settings.maxRetries || wait > settings.maxWaitSeconds) throw error;
        octokit.log.warn(`GitHub rate limit on "${requestOptions.method} ${requestOptions.url}": retrying in ${wait} s (retry ${retries + 1} of ${settings.maxRetries})`);
        await settings.sleep(wait * 1000);
      }
    }
  });
  return {};
};
