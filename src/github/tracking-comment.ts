// The one tracking comment per issue, edited in place so retries and later stages never add a
// second one. Its id is kept once found or created, so an update is one edit; only when that
// comment is gone (deleted on GitHub) is it looked for again by its hidden marker among this
// App's own comments (never another bot's, never a person's), or created. A hash of the body
// last sent is kept with the id: a render that comes out the same is not sent again.
import { createHash } from "node:crypto";
import type { ProbotOctokit } from "probot";
import { renderTrackingComment, trackingMarker, type TrackingView } from "./tracking-comment-body.ts";
import { writeHint } from "./write-hint.ts";

type Octokit = InstanceType<typeof ProbotOctokit>;

export { trackingMarker, type TrackingView };

export interface IssueRef {
  owner: string;
  repo: string;
  issue_number: number;
}

/** The task as the comment shows it, and the comment's id when it is already known. */
export interface TrackingState {
  view: Omit<TrackingView, "taskUrl">;
  commentId: number | null;
  /** sha256 of the body last sent to the comment, when known. */
  sentHash?: string | null;
}

export interface TrackingOptions {
  taskUrl: string;
  /** False where another process creates the comment (Temporal workers leave it to the trigger). */
  createIfMissing?: boolean;
  /**
   * Keeps the id of the comment just written and the hash of the body sent to it, so the next
   * update goes straight to it and an unchanged body is not sent again.
   */
  remember(commentId: number, bodyHash: string): Promise<void>;
  /** A warning the server shows on every task's comment (sandboxWarning). */
  warning?: string | undefined;
  /**
   * Only make sure the comment exists (a trigger's acknowledgement): once it does, the run keeps
   * it up to date, and the trigger does not wait for an edit queued behind the write budget.
   */
  ensureOnly?: boolean;
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
 * Brings the issue's tracking comment up to date with `load()`, read under the issue's lock so
 * the last writer shows the latest state. Returns the comment's id, or undefined when there is
 * none and this caller may not create it.
 */
export async function upsertTrackingComment(octokit: Octokit, issue: IssueRef, load: () => Promise<TrackingState>, options: TrackingOptions): Promise<number | undefined> {
  return serialised(`${issue.owner}/${issue.repo}#${issue.issue_number}`.toLowerCase(), async () => {
    const state = await load();
    if (options.ensureOnly && state.commentId !== null) return state.commentId;
    const body = await renderTrackingComment({ ...state.view, taskUrl: options.taskUrl, warning: options.warning });
    const bodyHash = createHash("sha256").update(body).digest("hex");
    if (state.commentId !== null && state.sentHash === bodyHash) return state.commentId;
    if (state.commentId !== null && (await editComment(octokit, issue, state.commentId, body))) {
      await options.remember(state.commentId, bodyHash);
      return state.commentId;
    }
    const id = await findOrCreate(octokit, issue, body, options.createIfMissing ?? true);
    if (id !== undefined) await options.remember(id, bodyHash);
    return id;
  });
}

/** False when the comment is gone. */
async function editComment(octokit: Octokit, issue: IssueRef, commentId: number, body: string): Promise<boolean> {
  try {
    await octokit.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: commentId, body, ...writeHint("progress", `comment:${commentId}`) });
    return true;
  } catch (error) {
    if ((error as { status?: number }).status === 404) return false;
    throw error;
  }
}

async function findOrCreate(octokit: Octokit, issue: IssueRef, body: string, createIfMissing: boolean): Promise<number | undefined> {
  const appId = await ownAppId(octokit);
  const comments = await octokit.paginate(octokit.rest.issues.listComments, { ...issue, per_page: 100 });
  // Only a comment this app's bot wrote counts: anyone can paste the marker into theirs, another
  // App's bot included. GitHub stamps every comment an App writes with that App's id.
  const mine = appId === undefined ? undefined : comments.find((comment) => comment.user?.type === "Bot" && comment.performed_via_github_app?.id === appId && comment.body?.includes(trackingMarker));
  if (mine) {
    await octokit.rest.issues.updateComment({ owner: issue.owner, repo: issue.repo, comment_id: mine.id, body, ...writeHint("progress", `comment:${mine.id}`) });
    return mine.id;
  }
  if (!createIfMissing) return undefined;
  // The issue's first sign of life (or its return after a deletion): it goes before progress.
  const created = await octokit.rest.issues.createComment({ ...issue, body, ...writeHint("acknowledge") });
  return created.data.id;
}

/**
 * This App's id, from the client's own credentials (the App id it signs its JWT with): no call
 * to GitHub, and the same for the life of the process. Undefined for a client that is not the
 * App's (then no comment is trusted as ours).
 */
async function ownAppId(octokit: Octokit): Promise<number | undefined> {
  try {
    const auth = (await octokit.auth({ type: "app" })) as { appId?: unknown };
    return typeof auth.appId === "number" ? auth.appId : typeof auth.appId === "string" && /^\d+$/.test(auth.appId) ? Number(auth.appId) : undefined;
  } catch {
    return undefined;
  }
}
