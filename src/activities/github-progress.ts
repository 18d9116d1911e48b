// Progress on GitHub: the issue's tracking comment, edited in place as the run moves, with the
// plan, the PR link and any failure reason. The comment is rendered (and secret-scanned) by
// github/; the task's state comes from the one loader both writers of the comment share.
import type { Logger } from "../lib/logger.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { upsertTrackingComment } from "../github/tracking-comment.ts";
import type { RunRef } from "../pipeline/types.ts";
import type { GitHubClients } from "../github/github-clients.ts";
import { saveTrackingCommentId } from "../db/tracking-comments.ts";
import { findTaskIssue, loadTrackingState } from "../tasks/tracking-view.ts";
import { taskPageUrl } from "../lib/task-page-url.ts";
import { LatestWins } from "../lib/latest-wins.ts";

export interface ProgressReporter {
  /**
   * Brings the task's GitHub surfaces up to date with the database; never throws. Resolves once
   * they show at least the state of the moment of the call. A step that need not wait for GitHub
   * (entering a stage) does not: the update waits for the installation's write budget, not the run.
   */
  report(run: Pick<RunRef, "taskId" | "runId">): Promise<void>;
}

export interface GitHubProgressDeps {
  db: PrismaClient;
  github: GitHubClients;
  publicUrl: string;
  log: Logger;
  /** False where the trigger runs in another process (Temporal workers): only it creates the comment. */
  createComment: boolean;
  /** Shown on every tracking comment when agents run without isolation (sandboxWarning). */
  warning?: string | undefined;
}

export function createGitHubProgress(deps: GitHubProgressDeps): ProgressReporter {
  const { db } = deps;
  // One update per task at a time; one that a newer one replaces while it waits is never sent,
  // since each update renders the task as the database has it when it runs.
  const updates = new LatestWins();
  const refresh = async (taskId: string) => {
    try {
      const target = await findTaskIssue(db, taskId);
      if (!target) return;
      const octokit = await deps.github.auth(target.installationId);
      await upsertTrackingComment(octokit, target.issue, () => loadTrackingState(db, taskId), {
        taskUrl: taskPageUrl(deps.publicUrl, target.slug),
        createIfMissing: deps.createComment,
        warning: deps.warning,
        remember: (commentId, bodyHash) => saveTrackingCommentId(db, taskId, commentId, bodyHash),
      });
    } catch (error) {
      deps.log.warn({ err: error, taskId }, "could not update the tracking comment");
    }
  };
  return {
    report: ({ taskId }) => updates.submit(taskId, () => refresh(taskId)),
  };
}
