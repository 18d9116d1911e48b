// Probot's Octokit for tests, in a module of its own so a child process can use it without
// loading nock (which test/helpers/github.ts does).
import { ProbotOctokit } from "probot";

/**
 * Probot's Octokit without retries and throttling, so a mocked failure fails at once and writes
 * are not spaced a second apart. A function default, because Probot merges its own throttle
 * options over plain-object defaults.
 */
export const TestOctokit = ProbotOctokit.defaults((options: Record<string, unknown>) => ({
  ...options,
  retry: { enabled: false },
  throttle: { ...(options["throttle"] as object), enabled: false },
}));
