// Counts GitHub API requests by the HTTP status they ended with, for /metrics. Outermost of the
// plugins, so a request is counted once, as its caller saw it: after retries and waits.
import type { Metrics } from "../lib/metrics.ts";
import type { OctokitPlugin } from "./retry-after.ts";

/** The status of a RequestError; undefined when GitHub never answered (network, timeout). */
function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === "number" && status >= 100 && status < 600 ? status : undefined;
}

export function countGitHubCalls(metrics: Metrics): OctokitPlugin {
  return (octokit) => {
    octokit.hook.wrap("request", async (request, options) => {
      try {
        const response = await request(options);
        metrics.githubCall(response.status);
        return response;
      } catch (error) {
        metrics.githubCall(statusOf(error));
        throw error;
      }
    });
    return {};
  };
}
