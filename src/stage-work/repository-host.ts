// Where a run's repository lives. The stage work (checkout into a sandbox, agents, the diff
// policy, the secret scan, the commit) is the same wherever that is; only these steps differ:
// how the control plane reads and clones the base, how it pushes the task branch, and how it
// proposes the change. GitHub does them with short-lived installation tokens and a pull
// request; a local repository with plain git and the pull request's text handed back.
import type { PublishOutput } from "../pipeline/activities.ts";
import type { RunContext } from "./run-context.ts";

export interface RepositoryFacts {
  /** The branch a task starts from unless tasks.yml names `base_branch`. */
  defaultBranch: string;
  /** `.github/tasks.yml` on that branch, or null when there is none. */
  configText: string | null;
}

/** The task as the host needs it to find its repository. */
export interface HostedTask {
  repository: string;
  installationId: number;
}

export interface StageReport {
  stage: string;
  stageName: string;
  /** The commit the report is about: the run's start commit on the task branch, never one the task did not make. */
  headSha: string;
  status: "in_progress" | "completed";
  conclusion?: "success" | "failure" | "cancelled";
  summary: string;
}

export interface ProposedChange {
  branch: string;
  headSha: string;
  title: string;
  body: string;
  /**
   * What each stage came to, in workflow order, for hosts that show per-stage results: its
   * latest output, or null for the stage that publishes (it has no output of its own).
   */
  stageResults: readonly { stage: string; stageName: string; text: string | null }[];
}

export interface RepositoryHost {
  /**
   * The host shows stage progress on commits (GitHub's check runs): each run then gets a commit
   * of its own to show it on, pushed before its first stage (sandbox-checkout.ts).
   */
  readonly showsStageProgress: boolean;
  /** Read by the control plane from the default branch, never from an agent's branch. */
  readRepository(task: HostedTask): Promise<RepositoryFacts>;
  /** A full working clone of `branch` in `dir` (it is bundled for the sandbox, then committed in). */
  cloneBranch(context: RunContext, dir: string, branch: string): Promise<void>;
  /** Brings a commit the cloned branch no longer reaches into `dir` (a cloneBranch clone); false when the host lacks it. */
  fetchCommit(context: RunContext, dir: string, sha: string): Promise<boolean>;
  /** The branch's head at the host, its commits fetched into `dir`; null when there is no such branch. */
  fetchBranch(context: RunContext, dir: string, branch: string): Promise<string | null>;
  readPullRequestTemplate(context: RunContext): Promise<string | null>;
  /**
   * Makes `dir`'s HEAD the task branch at the host. Never a force push: a branch that holds
   * commits Tasks did not make is a PermanentFailure. Pushing the same commit again is a no-op.
   */
  pushBranch(context: RunContext, input: { dir: string; branch: string; headSha: string }): Promise<void>;
  /**
   * Deletes the task branch at the host while it is still at `expectedSha` (the run's start
   * commit: the run pushed nothing else); a branch that moved is left alone.
   */
  deleteBranch(context: RunContext, branch: string, expectedSha: string): Promise<void>;
  /** Puts the pushed branch up for review: a pull request on GitHub, the text alone locally. */
  proposeChange(context: RunContext, change: ProposedChange): Promise<PublishOutput>;
  /** Stage progress where the host shows it (GitHub check runs); never throws. */
  reportStage(context: RunContext, report: StageReport): Promise<void>;
}
