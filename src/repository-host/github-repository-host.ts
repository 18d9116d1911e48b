// The repository on GitHub, through the App: reads with installation clients, clones and
// pushes with tokens minted for the one repository and revoked straight after, a draft pull
// request, and each stage as a check run on the commit.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { findTaskPublication, saveTaskPullRequest } from "../db/run-workspace.ts";
import type { Logger } from "../lib/logger.ts";
import { taskPageUrl } from "../lib/task-page-url.ts";
import { upsertStageCheckRun, type CheckRunMemory } from "../github/check-runs.ts";
import { findSentCheckRun, saveSentCheckRun, type CheckRunKey } from "../db/check-runs.ts";
import { BranchConflictError, type Git } from "../git/git.ts";
import { mintRepositoryToken, publishPermissions, readPermissions, revokeToken, type RepositoryPermissions } from "../github/installation-token.ts";
import { openOrReusePullRequest, pullRequestOf, readPullRequestTemplate } from "../github/pull-requests.ts";
import type { GitHubClients, Octokit } from "../github/github-clients.ts";
import { repoConfigPath } from "../stage-work/repo-config.ts";
import type { ProposedChange, RepositoryHost, StageReport } from "../stage-work/repository-host.ts";
import type { RunContext } from "../stage-work/run-context.ts";
import { AppError, PermanentFailure } from "../lib/errors.ts";
import { withoutSecrets } from "../stage-work/without-secrets.ts";

export interface GitHubRepositoryHostDeps {
  db: PrismaClient;
  github: GitHubClients;
  git: Git;
  apiUrl: string;
  webUrl: string;
  publicUrl: string;
  log: Logger;
}

async function readFileAt(octokit: Octokit, owner: string, repo: string, path: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, mediaType: { format: "raw" } });
    return typeof data === "string" ? data : Buffer.from(data as unknown as ArrayBuffer).toString("utf8");
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

export function createGitHubRepositoryHost(deps: GitHubRepositoryHostDeps): RepositoryHost {
  // A stage's check run on a commit is created once and then updated by its kept id.
  const checkRunMemory = (key: CheckRunKey): CheckRunMemory => ({
    recall: () => findSentCheckRun(deps.db, key),
    remember: (sent) => saveSentCheckRun(deps.db, key, sent),
  });
  const remoteUrl = (context: RunContext) => `${deps.webUrl}/${context.repository}.git`;
  const taskUrl = (context: RunContext) => taskPageUrl(deps.publicUrl, context.slug);

  async function withToken<T>(context: RunContext, permissions: RepositoryPermissions, use: (token: string) => Promise<T>): Promise<T> {
    const token = await mintRepositoryToken(await deps.github.auth(), { installationId: context.installationId, repository: context.repository, permissions });
    try {
      return await use(token.token);
    } finally {
      await revokeToken(token.token, deps.apiUrl).catch(() => undefined);
    }
  }

  async function postFinalChecks(context: RunContext, change: ProposedChange): Promise<void> {
    const octokit = await deps.github.auth(context.installationId);
    for (const result of change.stageResults) {
      await upsertStageCheckRun(octokit, {
        owner: context.owner,
        repo: context.repo,
        headSha: change.headSha,
        stageName: result.stageName,
        externalId: `${context.runId}:${result.stage}`,
        status: "completed",
        conclusion: "success",
        title: `${context.slug}: ${result.stageName} done`,
        summary: await withoutSecrets(`check run ${result.stageName}`, result.text ?? "Pull request opened."),
        detailsUrl: taskUrl(context),
        memory: checkRunMemory({ runId: context.runId, stage: result.stage, headSha: change.headSha }),
        priority: "publish",
      });
    }
  }

  return {
    showsStageProgress: true,

    async readRepository(task) {
      const [owner, repo] = task.repository.split("/") as [string, string];
      const octokit = await deps.github.auth(task.installationId);
      const { data: repository } = await octokit.rest.repos.get({ owner, repo });
      return { defaultBranch: repository.default_branch, configText: await readFileAt(octokit, owner, repo, repoConfigPath) };
    },

    async cloneBranch(context, dir, branch) {
      await withToken(context, readPermissions, (token) => deps.git.cloneMirror({ url: remoteUrl(context), dir, token, branch }));
    },

    async fetchCommit(context, dir, sha) {
      return withToken(context, readPermissions, (token) => deps.git.fetchCommit({ repoDir: dir, remote: remoteUrl(context), sha, token }));
    },

    async fetchBranch(context, dir, branch) {
      return withToken(context, readPermissions, async (token) => {
        const sha = await deps.git.remoteBranchSha({ remoteUrl: remoteUrl(context), branch, token });
        if (sha === null || (await deps.git.hasCommit(dir, sha))) return sha;
        if (await deps.git.fetchCommit({ repoDir: dir, remote: remoteUrl(context), sha, token })) return sha;
        throw new AppError("unavailable", "branch_moved", `the branch ${branch} moved while it was being read`);
      });
    },

    async deleteBranch(context, branch, expectedSha) {
      await withToken(context, publishPermissions, (token) => deps.git.deleteRemoteBranch({ remoteUrl: remoteUrl(context), branch, token, expectedSha }));
    },

    async readPullRequestTemplate(context) {
      const octokit = await deps.github.auth(context.installationId);
      return readPullRequestTemplate(octokit, { owner: context.owner, repo: context.repo, ref: context.baseBranch });
    },

    async pushBranch(context, { dir, branch, headSha }) {
      await withToken(context, publishPermissions, async (token) => {
        const remoteSha = await deps.git.remoteBranchSha({ remoteUrl: remoteUrl(context), branch, token });
        if (remoteSha === headSha) return;
        try {
          // A follow-up's clone is the branch itself, so its commit fast-forwards; a first publish creates the branch.
          await deps.git.pushBranch({ repoDir: dir, remoteUrl: remoteUrl(context), branch, token, expectedRemoteSha: null });
        } catch (error) {
          if (error instanceof BranchConflictError) throw new PermanentFailure(`the branch ${branch} has commits Tasks did not make; not overwriting them`);
          throw error;
        }
      });
    },

    async proposeChange(context, change) {
      const octokit = await deps.github.auth(context.installationId);
      // The PR the task already has (a follow-up, a retried step) is updated by its number: no listing.
      const known = await findTaskPublication(deps.db, context.taskId);
      const pr = await openOrReusePullRequest(octokit, {
        existing: known?.branch === change.branch ? pullRequestOf(known.prUrl) : null,
        owner: context.owner,
        repo: context.repo,
        head: change.branch,
        base: context.baseBranch,
        title: change.title,
        body: change.body,
        draft: context.config.pull_request?.draft ?? true,
        labels: context.config.pull_request?.labels ?? [],
      });
      // The PR's url is what the task records; recorded before the checks so a failed check post cannot lose it.
      await saveTaskPullRequest(deps.db, context.taskId, pr.url);
      await postFinalChecks(context, change);
      return { prUrl: pr.url, note: null };
    },

    async reportStage(context, report: StageReport) {
      // Progress must never fail the stage it reports on: every step is inside the try.
      try {
        const summary = await withoutSecrets(`check run ${report.stage}`, report.summary);
        const octokit = await deps.github.auth(context.installationId);
        await upsertStageCheckRun(octokit, {
          owner: context.owner,
          repo: context.repo,
          headSha: report.headSha,
          stageName: report.stageName,
          externalId: `${context.runId}:${report.stage}`,
          status: report.status,
          ...(report.conclusion ? { conclusion: report.conclusion } : {}),
          title: `${context.slug}: ${report.status === "in_progress" ? "running" : report.conclusion}`,
          summary,
          detailsUrl: taskUrl(context),
          memory: checkRunMemory({ runId: context.runId, stage: report.stage, headSha: report.headSha }),
        });
      } catch (error) {
        deps.log.warn({ err: error, runId: context.runId, stage: report.stage }, "could not update the check run");
      }
    },
  };
}
