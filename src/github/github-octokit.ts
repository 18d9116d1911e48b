// The Octokit class every GitHub call of Tasks goes through (webhook handlers and the control
// plane): Probot's, plus waiting as GitHub asks on rate limits and a fresh installation token
// when GitHub stops accepting the cached one.
import type { ProbotOctokit } from "probot";
import { refreshInstallationToken } from "./refresh-installation-token.ts";
import { doNotRetryStatuses, retryAfter } from "./retry-after.ts";

/** The throttling plugin still spaces writes; it leaves rate-limit answers to {@link retryAfter}. */
const leaveToRetryAfter = () => false;

export function withGitHubFaultHandling(Octokit: typeof ProbotOctokit): typeof ProbotOctokit {
  // A function default, because Probot merges its own throttle handlers over plain-object defaults.
  return Octokit.plugin(retryAfter, refreshInstallationToken).defaults((options: Record<string, unknown>) => ({
    ...options,
    throttle: { ...(options["throttle"] as object), onSecondaryRateLimit: leaveToRetryAfter, onRateLimit: leaveToRetryAfter },
    retry: { ...(options["retry"] as object), doNotRetry: doNotRetryStatuses },
  }));
}
