// Progress on GitHub: the issue's tracking comment, edited in place as the run moves, with the
// plan, the PR link and any failure reason. Everything is secret-scanned before it is posted.
import type { Logger } from "../lib/logger.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { renderTrackingComment, upsertTrackingComment } from "../github/tracking-comment.ts";
import { maxBodyChars, truncateMarkdown } from "../github/github-limits.ts";
import { scanForSecrets } from "../publish/secret-scan.ts";
import type { RunRef } from "../pipeline/types.ts";
import type { GitHubClients } from "../github/github-clients.ts";

export interface ProgressReporter {
  /** Brings the task's GitHub surfaces up to date with the database; never throws. */
  report(run: Pick<RunRef, "taskId" | "runId">): Promise<void>;
}

export interface GitHubProgressDeps {
  db: PrismaClient;
  github: GitHubClients;
  publicUrl: string;
  log: Logger;
  /** False where the trigger runs in another process (Temporal workers): only it creates the comment. */
  createComment: boolean;
}

export function createGitHubProgress(deps: GitHubProgressDeps): ProgressReporter {
  const { db } = deps;
  async function render(run: Pick<RunRef, "taskId" | "runId">): Promise<string> {
    const task = await db.task.findUniqueOrThrow({ where: { id: run.taskId }, include: { currentStage: true } });
    const stages = await db.stage.findMany({ where: { workflowId: task.workflowId }, orderBy: { position: "asc" }, select: { key: true, name: true } });
    const plan = await db.stageOutput.findFirst({ where: { runId: run.runId, role: "planner" }, orderBy: { createdAt: "desc" } });
    const runRow = await db.taskRun.findUniqueOrThrow({ where: { id: run.runId } });
    const finished = await db.taskEvent.findFirst({ where: { runId: run.runId, type: "run_completed" }, orderBy: { id: "desc" } });
    const base = {
      slug: task.slug,
      title: task.title,
      status: task.status,
      stages,
      currentStage: task.currentStage?.key ?? null,
      taskUrl: `${deps.publicUrl}/api/tasks/${task.id}`,
      prUrl: task.prUrl,
    };
    const note = task.status === "failed" ? runRow.error : ((finished?.data as { note?: string | null } | null)?.note ?? null);
    const body = renderTrackingComment({ ...base, plan: plan?.text ?? null, note });
    // Agent text that looks like a secret never reaches GitHub; the checklist still does.
    if ((await scanForSecrets([{ where: "tracking comment", text: body }])).length > 0) {
      return renderTrackingComment({ ...base, note: "Details withheld: they looked like they contained a secret." });
    }
    return truncateMarkdown(body, { maxChars: maxBodyChars, keep: "head" });
  }

  return {
    async report(run) {
      try {
        const task = await db.task.findUniqueOrThrow({ where: { id: run.taskId }, include: { integration: true } });
        if (!task.issueNumber || !task.integration) return;
        const [owner, repo] = task.repository.split("/") as [string, string];
        const octokit = await deps.github.auth(Number(task.integration.installationId));
        // Rendered under the issue's lock, from the database as it is then: the last writer shows the latest state.
        await upsertTrackingComment(octokit, { owner, repo, issue_number: task.issueNumber }, () => render(run), { createIfMissing: deps.createComment });
      } catch (error) {
        deps.log.warn({ err: error, taskId: run.taskId }, "could not update the tracking comment");
      }
    },
  };
}
