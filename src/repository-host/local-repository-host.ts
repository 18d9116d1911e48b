// A repository in a local directory (`tasks run --repo-path`): the control plane clones it
// with plain git and pushes the task branch back into it. No pull request: the change is the
// branch, and its pull request text goes to whoever asked (the CLI prints it). The person's
// working tree and checked-out branch are never touched: only a new `tasks/…` ref is written.
import { assertSafeBranchName } from "../git/branch-name.ts";
import type { Git } from "../git/git.ts";
import type { GitRunner } from "../git/git-runner.ts";
import { pullRequestTemplatePaths } from "../github/pull-requests.ts";
import { repoConfigPath } from "../stage-work/repo-config.ts";
import type { RepositoryHost } from "../stage-work/repository-host.ts";
import { AppError, PermanentFailure } from "../lib/errors.ts";

export interface LocalPullRequestText {
  branch: string;
  title: string;
  body: string;
}

export interface LocalRepositoryHostDeps {
  /** Absolute path of the repository's top-level directory. */
  repoPath: string;
  git: Git;
  runGit: GitRunner;
  /** Receives the pull request text once the branch is in the repository. */
  onProposed?: (text: LocalPullRequestText) => void;
}

export function createLocalRepositoryHost(deps: LocalRepositoryHostDeps): RepositoryHost {
  const { repoPath, runGit } = deps;

  /** A file at `ref` in the repository, or null when it is not there. */
  async function showFile(ref: string, file: string): Promise<string | null> {
    const listed = await runGit({ cwd: repoPath, args: ["ls-tree", "--name-only", ref, "--", file] });
    if (listed.stdout.trim() === "") return null;
    return (await runGit({ cwd: repoPath, args: ["show", `${ref}:${file}`] })).stdout;
  }

  async function branchSha(branch: string): Promise<string | null> {
    const found = await runGit({ cwd: repoPath, args: ["rev-parse", "--verify", "--quiet", `refs/heads/${branch}^{commit}`], okExitCodes: [1] });
    return found.exitCode === 0 ? found.stdout.trim() : null;
  }

  return {
    // The branch is the result: it gets the change alone, no start commit.
    showsStageProgress: false,

    async readRepository() {
      const head = await runGit({ cwd: repoPath, args: ["symbolic-ref", "--quiet", "--short", "HEAD"], okExitCodes: [1] });
      if (head.exitCode !== 0) throw new PermanentFailure(`${repoPath} has a detached HEAD: check out the branch Tasks should start from`);
      const defaultBranch = head.stdout.trim();
      return { defaultBranch, configText: await showFile(`refs/heads/${defaultBranch}`, repoConfigPath) };
    },

    async cloneBranch(_context, dir, branch) {
      assertSafeBranchName(branch);
      if ((await branchSha(branch)) === null) throw new PermanentFailure(`${repoPath} has no branch ${branch}`);
      // --no-hardlinks: the control plane's clone shares no files with the person's repository.
      await runGit({ args: ["clone", "--quiet", "--no-tags", "--no-hardlinks", "--single-branch", `--branch=${branch}`, "--", repoPath, dir] });
    },

    async fetchCommit(_context, dir, sha) {
      return deps.git.fetchCommit({ repoDir: dir, remote: repoPath, sha });
    },

    async fetchBranch(_context, dir, branch) {
      assertSafeBranchName(branch);
      const sha = await branchSha(branch);
      if (sha === null || (await deps.git.hasCommit(dir, sha))) return sha;
      if (await deps.git.fetchCommit({ repoDir: dir, remote: repoPath, sha })) return sha;
      throw new AppError("unavailable", "branch_moved", `the branch ${branch} moved while it was being read`);
    },

    async deleteBranch(_context, branch, expectedSha) {
      assertSafeBranchName(branch);
      // update-ref with the old value: deleted only while it is still the run's start commit.
      await runGit({ cwd: repoPath, args: ["update-ref", "-d", `refs/heads/${branch}`, expectedSha], okExitCodes: [1, 128] });
    },

    async readPullRequestTemplate(context) {
      for (const file of pullRequestTemplatePaths) {
        const text = await showFile(`refs/heads/${context.baseBranch}`, file);
        if (text !== null) return text;
      }
      return null;
    },

    async pushBranch(_context, { dir, branch, headSha }) {
      assertSafeBranchName(branch);
      const existing = await branchSha(branch);
      if (existing === headSha) return;
      if (existing !== null) throw new PermanentFailure(`the branch ${branch} already exists in ${repoPath} with commits Tasks did not make; not overwriting it`);
      // A plain push of a new ref, never a force: git refuses if the branch appeared meanwhile.
      const pushed = await runGit({ cwd: dir, args: ["push", "--porcelain", "--no-verify", "--", repoPath, `HEAD:refs/heads/${branch}`], okExitCodes: [1] });
      if (pushed.exitCode !== 0) {
        throw new PermanentFailure(`could not create the branch ${branch} in ${repoPath}: ${pushed.stderr.trim().split("\n").pop() ?? "rejected"}`);
      }
    },

    async proposeChange(_context, change) {
      deps.onProposed?.({ branch: change.branch, title: change.title, body: change.body });
      return { prUrl: null, note: `branch ${change.branch} created` };
    },

    async reportStage() {
      // Nowhere to show it: the task's events carry the progress, and the CLI prints them.
    },
  };
}
