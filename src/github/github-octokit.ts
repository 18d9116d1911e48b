// The Octokit class every GitHub call of Tasks goes through (webhook handlers and the control
// plane): Probot's, plus a per-installation write scheduler (priorities, coalescing, GitHub's
// write limits), waiting as GitHub asks on rate limits and a fresh installation token when GitHub
// stops accepting the cached one.
import type { ProbotOctokit } from "probot";
import { noMetrics, type Metrics } from "../lib/metrics.ts";
import { countGitHubCalls } from "./count-calls.ts";
import { refreshInstallationToken } from "./refresh-installation-token.ts";
import { doNotRetryStatuses, retryAfter } from "./retry-after.ts";
import { scheduleWrites } from "./schedule-writes.ts";

/** Rate-limit answers are left to {@link retryAfter} (reads) and the write scheduler (writes). */
const leaveToRetryAfter = () => false;

/**
 * The throttling plugin's write and notification limiters, let through: {@link scheduleWrites}
 * spaces writes per installation, by priority. (The plugin's own are first come, first served,
 * and space every comment 3 s apart.) This is the slice of a Bottleneck group the plugin uses.
 */
const unlimited = { key: () => ({ schedule: (_options: unknown, job: (...args: unknown[]) => unknown, ...args: unknown[]) => job(...args) }) };

export function withGitHubFaultHandling(Octokit: typeof ProbotOctokit, metrics: Metrics = noMetrics): typeof ProbotOctokit {
  // A function default, because Probot merges its own throttle handlers over plain-object defaults.
  // The write scheduler is outermost but for the call counter, so a write waits for its turn
  // before anything else happens, and a call is counted once with the status it ended with.
  return Octokit.plugin(retryAfter, refreshInstallationToken, scheduleWrites, countGitHubCalls(metrics)).defaults((options: Record<string, unknown>) => ({
    ...options,
    throttle: { ...(options["throttle"] as object), onSecondaryRateLimit: leaveToRetryAfter, onRateLimit: leaveToRetryAfter, write: unlimited, notifications: unlimited },
    retry: { ...(options["retry"] as object), doNotRetry: doNotRetryStatuses },
  }));
}
