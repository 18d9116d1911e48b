// The one tracking comment per issue: found again by a hidden marker and edited in place, so
// retries and later stages never add a second one.
import type { ProbotOctokit } from "probot";

type Octokit = InstanceType<typeof ProbotOctokit>;

export const trackingMarker = "<!-- tasks:tracking-comment -->";

export interface TrackingView {
  slug: string;
  title: string;
  status: string;
  stages: { key: string; name: string }[];
  currentStage: string | null;
  taskUrl: string;
  /** The planner's plan, once there is one. */
  plan?: string | null;
  prUrl?: string | null;
  /** Why the run failed, or what it ended with ("no changes: …"), in plain words. */
  note?: string | null;
}

export function renderTrackingComment(view: TrackingView): string {
  const currentIndex = view.stages.findIndex((stage) => stage.key === view.currentStage);
  const done = view.status === "completed";
  const checklist = view.stages.map((stage, index) => {
    const checked = done || index < currentIndex;
    const marker = index === currentIndex && !done ? " ← current" : "";
    return `- [${checked ? "x" : " "}] ${stage.name}${marker}`;
  });
  const lines = [trackingMarker, `**Tasks** · [${view.slug}](${view.taskUrl}) · \`${view.status}\``, "", ...checklist];
  if (view.prUrl) lines.push("", `Pull request: ${view.prUrl}`);
  if (view.note) lines.push("", view.status === "failed" ? `**Failed:** ${view.note}` : view.note);
  if (view.plan) lines.push("", "<details><summary>Plan</summary>", "", view.plan, "", "</details>");
  return lines.join("\n");
}

export interface IssueRef {
  owner: string;
  repo: string;
  issue_number: number;
}

/** Edits the app's own marked comment when there is one, else creates it. */
export async function upsertTrackingComment(octokit: Octokit, issue: IssueRef, body: string): Promise<{ id: number; created: boolean }> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
  // Only a comment the app wrote counts: anyone can paste the marker into theirs.
  const mine = comments.find((comment) => comment.user?.type === "Bot" && comment.body?.includes(trackingMarker));
  if (mine) {
    await octokit.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: mine.id, body });
    return { id: mine.id, created: false };
  }
  const created = await octokit.rest.issues.createComment({ ...issue, body });
  return { id: created.data.id, created: true };
}
