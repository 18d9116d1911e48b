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

// One update at a time per issue in this process: two concurrent first updates (the trigger's
// acknowledgement and the run's first stage) would otherwise both see no comment and create two.
const issueLocks = new Map<string, Promise<unknown>>();

async function serialised<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = issueLocks.get(key) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(work);
  issueLocks.set(key, next);
  try {
    return await next;
  } finally {
    if (issueLocks.get(key) === next) issueLocks.delete(key);
  }
}

/**
 * Edits the app's own marked comment when there is one, else creates it — unless told to only
 * update (engines in other processes leave creating it to the trigger, so it is never doubled).
 */
export async function upsertTrackingComment(
  octokit: Octokit,
  issue: IssueRef,
  body: string | (() => Promise<string>),
  options: { createIfMissing?: boolean } = {},
): Promise<{ id: number; created: boolean } | undefined> {
  return serialised(`${issue.owner}/${issue.repo}#${issue.issue_number}`.toLowerCase(), async () => {
    const text = typeof body === "string" ? body : await body();
    return upsertNow(octokit, issue, text, options.createIfMissing ?? true);
  });
}

async function upsertNow(octokit: Octokit, issue: IssueRef, body: string, createIfMissing: boolean): Promise<{ id: number; created: boolean } | undefined> {
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
  // Only a comment the app wrote counts: anyone can paste the marker into theirs.
  const mine = comments.find((comment) => comment.user?.type === "Bot" && comment.body?.includes(trackingMarker));
  if (mine) {
    await octokit.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: mine.id, body });
    return { id: mine.id, created: false };
  }
  if (!createIfMissing) return undefined;
  const created = await octokit.rest.issues.createComment({ ...issue, body });
  return { id: created.data.id, created: true };
}
