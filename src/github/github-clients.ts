import type { ProbotOctokit } from "probot";

export type Octokit = InstanceType<typeof ProbotOctokit>;

/** Authenticated Octokits for the control plane: the app itself, or one installation. */
export interface GitHubClients {
  auth(installationId?: number): Promise<Octokit>;
}
