// The task as its issue's tracking comment shows it, loaded in one place for both writers of
// the comment: the trigger (app/) and the run's progress (activities/). Rendering it is the
// GitHub code's business; this only says what there is to show.
import { findTrackingRow, findTrackingTarget } from "../db/tracking-comments.ts";
import type { Tx } from "../db/client.ts";

export interface TrackingState {
  view: {
    slug: string;
    title: string;
    status: string;
    stages: { key: string; name: string }[];
    currentStage: string | null;
    /** The latest run's plan, once there is one. */
    plan: string | null;
    prUrl: string | null;
    /** Why the latest run failed, or what it ended with ("no changes: …"). */
    note: string | null;
    /** Model tokens the latest run used through the gateway. */
    usage: { inputTokens: number; outputTokens: number } | null;
    /** The GitHub login of the person the task is for: the one mention in agent text left live. */
    mentionable: string[];
  };
  /** The comment's id once it was found or created. */
  commentId: number | null;
  /** sha256 of the body last sent to it, when known. */
  sentHash: string | null;
}

export async function loadTrackingState(db: Tx, taskId: string): Promise<TrackingState> {
  const task = await findTrackingRow(db, taskId);
  const run = task.runs[0];
  return {
    view: {
      slug: task.slug,
      title: task.title,
      status: task.status,
      stages: task.workflow.stages,
      currentStage: task.currentStage?.key ?? null,
      plan: run?.outputs[0]?.text ?? null,
      prUrl: task.prUrl,
      note: (task.status === "failed" ? run?.error : run?.completionNote) ?? null,
      usage: run ? { inputTokens: run.inputTokens, outputTokens: run.outputTokens } : null,
      mentionable: task.createdBy?.githubLogin ? [task.createdBy.githubLogin] : [],
    },
    commentId: task.trackingCommentId === null ? null : Number(task.trackingCommentId),
    sentHash: task.trackingCommentHash,
  };
}

export interface TrackingTarget {
  slug: string;
  issue: { owner: string; repo: string; issue_number: number };
  installationId: number;
}

/** The issue a task's comment belongs on; null for a task without an issue or an installation. */
export async function findTaskIssue(db: Tx, taskId: string): Promise<TrackingTarget | null> {
  const task = await findTrackingTarget(db, taskId);
  if (task.issueNumber === null || !task.integration) return null;
  const [owner, repo] = task.repository.split("/") as [string, string];
  return { slug: task.slug, issue: { owner, repo, issue_number: task.issueNumber }, installationId: Number(task.integration.installationId) };
}
