// What the issue's tracking comment shows, read in one query, and the comment's id once known.
import type { Prisma } from "../generated/prisma/client.ts";
import type { Tx } from "./client.ts";

const trackingSelect = {
  slug: true,
  title: true,
  status: true,
  prUrl: true,
  trackingCommentId: true,
  trackingCommentHash: true,
  // Its login is the one mention in agent text the comment leaves live.
  createdBy: { select: { githubLogin: true } },
  currentStage: { select: { key: true } },
  workflow: { select: { stages: { orderBy: { position: "asc" }, select: { key: true, name: true } } } },
  // The latest run, with its latest plan: the comment shows where the task is now.
  runs: {
    orderBy: { attempt: "desc" },
    take: 1,
    select: {
      error: true,
      completionNote: true,
      inputTokens: true,
      outputTokens: true,
      outputs: { where: { role: "planner" }, orderBy: { createdAt: "desc" }, take: 1, select: { text: true } },
    },
  },
} as const satisfies Prisma.TaskSelect;

export type TrackingRow = Prisma.TaskGetPayload<{ select: typeof trackingSelect }>;

export async function findTrackingRow(db: Tx, taskId: string): Promise<TrackingRow> {
  return db.task.findUniqueOrThrow({ where: { id: taskId }, select: trackingSelect });
}

/** Where the comment lives: the issue and the installation that may write on it. */
export async function findTrackingTarget(db: Tx, taskId: string) {
  return db.task.findUniqueOrThrow({
    where: { id: taskId },
    select: { slug: true, repository: true, issueNumber: true, integration: { select: { installationId: true } } },
  });
}

/**
 * The comment's id and the hash of the body just sent to it. A writer that does not give the
 * hash clears it, so a later render is never skipped against a body that is no longer there.
 */
export async function saveTrackingCommentId(db: Tx, taskId: string, commentId: number, bodyHash?: string): Promise<void> {
  await db.task.update({ where: { id: taskId }, data: { trackingCommentId: BigInt(commentId), trackingCommentHash: bodyHash ?? null } });
}
