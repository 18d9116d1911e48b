// createAndRun (SEED.md "What Happens When You Create and Run"): validate, attach the team's
// integration and workflow, place the task in the first stage, number it, record a queued run
// and hand the run to the orchestrator.
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import type { Prisma, TaskSource } from "../generated/prisma/client.ts";
import { lockingTransaction, type Db, type Tx } from "../db/client.ts";
import { findIdempotencyKeyWithTask, insertIdempotencyKey } from "../db/idempotency-keys.ts";
import { findTeamIntegrationCovering } from "../db/integrations.ts";
import { appendTaskEvents } from "../db/task-events.ts";
import { findQueuedRunWithoutEngine, insertQueuedRun } from "../db/task-runs.ts";
import { findNewestIssueTask, findNewestTaskByPullRequest, insertTask } from "../db/tasks.ts";
import { findTeamDefaultWorkflowId, lockTeamCounter, setTeamCounter } from "../db/teams.ts";
import { findUserWithMembership } from "../db/users.ts";
import { findTeamWorkflowWithFirstStage } from "../db/workflows.ts";
import { tasksFlag, type FlagChecker } from "./feature-flags.ts";
import type { Orchestrator } from "./orchestrator.ts";
import { parseRepositoryName, repositoryKey } from "./repository-name.ts";
import { handOffRun } from "./hand-off-run.ts";
import { formatSlug } from "./team-prefix.ts";
import { activeTaskStatuses } from "./task-status.ts";
import { toTaskView, type TaskView } from "./task-view.ts";

export interface CreateTaskInput {
  teamId: string;
  title: string;
  description: string;
  originProduct: string;
  /** The user's external id, as the calling product knows it. */
  userId: string;
  repository: string;
  workflowId?: string | undefined;
  source?: TaskSource;
  issueNumber?: number | undefined;
  triggerSnapshot?: Prisma.InputJsonValue | undefined;
  /** Said in the task_created event: what the trigger did to the request (hidden text removed …). */
  creationNote?: { message: string; data: Prisma.InputJsonObject } | undefined;
  /** Replaying the same key with the same request hash returns the first task. */
  idempotency?: { key: string; requestHash: string } | undefined;
}

export interface CreateTaskResult {
  task: TaskView;
  /** False when an existing task was returned instead of a new one. */
  created: boolean;
  /** Why an existing task was returned: an idempotent replay, or the issue's active task. */
  existing?: "idempotent_replay" | "active_issue_task";
}

/** The task still in flight for an issue, if any: an issue has at most one. */
export async function findActiveIssueTask(db: Db | Tx, repository: string, issueNumber: number): Promise<TaskView | undefined> {
  return findIssueTask(db, repository, issueNumber, true);
}

/** The task whose pull request this is, if any. */
export async function findTaskByPullRequest(db: Db, repository: string, prUrl: string): Promise<TaskView | undefined> {
  const row = await findNewestTaskByPullRequest(db, repository, prUrl);
  return row ? toTaskView(row) : undefined;
}

/** The issue's newest task (active or not), or its active one. */
export async function findIssueTask(db: Db | Tx, repository: string, issueNumber: number, activeOnly: boolean): Promise<TaskView | undefined> {
  const row = await findNewestIssueTask(db, repository, issueNumber, activeOnly ? activeTaskStatuses : undefined);
  return row ? toTaskView(row) : undefined;
}

export interface CreateTaskDeps {
  db: Db;
  flags: FlagChecker;
  orchestrator: Orchestrator;
  log: Logger;
  /** Counts created tasks by source. */
  metrics?: Pick<Metrics, "taskCreated">;
}

export async function createAndRun(deps: CreateTaskDeps, input: CreateTaskInput): Promise<CreateTaskResult> {
  const { db } = deps;
  const replay = input.idempotency && (await findIdempotentTask(db, input.teamId, input.idempotency));
  if (replay) return replayed(deps, replay);

  // 1. Validate, naming the field at fault.
  const repository = parseRepositoryName(input.repository);
  const user = await findTeamUser(db, input.teamId, input.userId);
  if (!(await deps.flags.isEnabled(tasksFlag, { teamId: input.teamId, distinctId: user.externalId }))) {
    throw new AppError("forbidden", "feature_disabled", `the "${tasksFlag}" feature flag is not enabled for this team`);
  }
  const integration = await findCoveringIntegration(db, input.teamId, repository);
  const { workflowId, firstStageId } = await resolveWorkflow(db, input.teamId, input.workflowId);

  // 2. Number the task and record it with its queued run, atomically.
  const outcome = await db.$transaction(async (tx) => {
    const number = await lockTeamNumbering(tx, input.teamId);
    if (input.idempotency) {
      const raced = await findIdempotentTask(tx, input.teamId, input.idempotency);
      if (raced) return { task: raced, run: null, existing: "idempotent_replay" as const };
    }
    // Checked under the team lock, so two triggers on one issue cannot both start a task.
    const active = input.issueNumber === undefined ? undefined : await findActiveIssueTask(tx, repository, input.issueNumber);
    if (active) return { task: active, run: null, existing: "active_issue_task" as const };
    const { prefix, next } = await bumpTeamCounter(tx, input.teamId, number);
    const task = await insertTask(tx, {
      teamId: input.teamId,
      number: next,
      slug: formatSlug(prefix, next),
      title: input.title,
      description: input.description,
      originProduct: input.originProduct,
      repository,
      integrationId: integration.id,
      workflowId,
      currentStageId: firstStageId,
      status: "queued",
      source: input.source ?? "api",
      issueNumber: input.issueNumber ?? null,
      ...(input.triggerSnapshot === undefined ? {} : { triggerSnapshot: input.triggerSnapshot }),
      createdById: user.id,
    });
    const run = await insertQueuedRun(tx, { taskId: task.id, attempt: 1 });
    await appendTaskEvents(tx, [
      {
        taskId: task.id,
        type: "task_created",
        message: input.creationNote ? `${task.slug} created; ${input.creationNote.message}` : `${task.slug} created`,
        data: { source: task.source, origin_product: task.originProduct, ...input.creationNote?.data },
      },
      { taskId: task.id, runId: run.id, type: "run_queued", message: "run 1 queued", data: { attempt: 1 } },
    ]);
    if (input.idempotency) {
      await insertIdempotencyKey(tx, { teamId: input.teamId, key: input.idempotency.key, requestHash: input.idempotency.requestHash, taskId: task.id });
    }
    return { task: toTaskView(task), run, existing: undefined };
  }, lockingTransaction);

  if (outcome.existing === "idempotent_replay") return replayed(deps, outcome.task);
  if (!outcome.run) return { task: outcome.task, created: false, existing: outcome.existing };
  deps.metrics?.taskCreated(outcome.task.source);
  // 3. Hand the run to the engine, after the commit, so an engine never sees a task that may roll back.
  await handOffRun(deps, { taskId: outcome.task.id, runId: outcome.run.id, attempt: 1 });
  return { task: outcome.task, created: true };
}

/**
 * An idempotent replay returns the task it created before — and finishes that creation's work
 * if the process died between the commit and the hand-off (a webhook delivery re-run after a
 * crash, a client retrying after a timeout), so a replay never leaves a run no engine knows of.
 */
async function replayed(deps: CreateTaskDeps, task: TaskView): Promise<CreateTaskResult> {
  const stranded = await findQueuedRunWithoutEngine(deps.db, task.id);
  if (stranded) await handOffRun(deps, { taskId: task.id, runId: stranded.id, attempt: stranded.attempt });
  return { task, created: false, existing: "idempotent_replay" };
}

async function findIdempotentTask(db: Db | Tx, teamId: string, idempotency: { key: string; requestHash: string }): Promise<TaskView | null> {
  const row = await findIdempotencyKeyWithTask(db, teamId, idempotency.key);
  if (!row) return null;
  if (row.requestHash !== idempotency.requestHash) {
    throw new AppError("conflict", "idempotency_key_reused", "this Idempotency-Key was already used with a different request body", { field: "Idempotency-Key" });
  }
  return toTaskView(row.task);
}

async function findTeamUser(db: Db, teamId: string, externalId: string) {
  const user = await findUserWithMembership(db, externalId, teamId);
  if (!user) throw new AppError("unprocessable", "user_not_found", `user_id ${JSON.stringify(externalId)} names no user`, { field: "user_id" });
  if (user.memberships.length === 0) {
    throw new AppError("unprocessable", "user_not_in_team", `user_id ${JSON.stringify(externalId)} is not a member of this team`, { field: "user_id" });
  }
  return user;
}

async function findCoveringIntegration(db: Db, teamId: string, repository: string) {
  const integration = await findTeamIntegrationCovering(db, teamId, repositoryKey(repository));
  if (!integration) {
    throw new AppError("unprocessable", "repository_not_connected", `repository ${repository} is not covered by an active GitHub integration of this team; install the GitHub App on it first`, { field: "repository" });
  }
  return integration;
}

async function resolveWorkflow(db: Db, teamId: string, workflowId: string | undefined) {
  const id = workflowId ?? (await findTeamDefaultWorkflowId(db, teamId));
  if (!id) throw new AppError("unprocessable", "no_workflow", "no workflow is configured for this team: set a default workflow or pass workflow_id", { field: "workflow_id" });
  const workflow = await findTeamWorkflowWithFirstStage(db, teamId, id);
  if (!workflow) throw new AppError("unprocessable", "workflow_not_found", `workflow_id ${JSON.stringify(id)} names no workflow of this team`, { field: "workflow_id" });
  const first = workflow.stages[0];
  if (!first) throw new AppError("unprocessable", "workflow_has_no_stages", `workflow_id names workflow ${JSON.stringify(workflow.name)}, which has no stages`, { field: "workflow_id" });
  return { workflowId: workflow.id, firstStageId: first.id };
}

// The team row lock serialises creations within one team (gapless numbers, idempotency races)
// while other teams proceed; a rolled-back creation releases its number with the lock.
async function lockTeamNumbering(tx: Tx, teamId: string): Promise<number> {
  const counter = await lockTeamCounter(tx, teamId);
  if (counter === undefined) throw new AppError("not_found", "team_not_found", "team no longer exists");
  return counter;
}

async function bumpTeamCounter(tx: Tx, teamId: string, current: number): Promise<{ prefix: string; next: number }> {
  const team = await setTeamCounter(tx, teamId, current + 1);
  return { prefix: team.prefix, next: team.taskCounter };
}
