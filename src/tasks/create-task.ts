// createAndRun (SEED.md "What Happens When You Create and Run"): validate, attach the team's
// integration and workflow, place the task in the first stage, number it, record a queued run
// and hand the run to the orchestrator.
import { AppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Prisma, TaskSource } from "../generated/prisma/client.ts";
import { lockingTransaction, type Db, type Tx } from "./db-types.ts";
import { tasksFlag, type FlagChecker } from "./feature-flags.ts";
import type { Orchestrator } from "./orchestrator.ts";
import { parseRepositoryName, repositoryKey } from "./repository-name.ts";
import { handOffRun } from "./hand-off-run.ts";
import { formatSlug } from "./team-prefix.ts";
import { taskInclude, toTaskView, type TaskView } from "./task-view.ts";

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

const activeStatuses = ["queued", "running", "waiting_approval"] as const;

/** The task still in flight for an issue, if any: an issue has at most one. */
export async function findActiveIssueTask(db: Db | Tx, repository: string, issueNumber: number): Promise<TaskView | undefined> {
  return findIssueTask(db, repository, issueNumber, true);
}

/** The task whose pull request this is, if any. */
export async function findTaskByPullRequest(db: Db, repository: string, prUrl: string): Promise<TaskView | undefined> {
  const row = await db.task.findFirst({ where: { repository: { equals: repository, mode: "insensitive" }, prUrl }, include: taskInclude, orderBy: { createdAt: "desc" } });
  return row ? toTaskView(row) : undefined;
}

/** The issue's newest task (active or not), or its active one. */
export async function findIssueTask(db: Db | Tx, repository: string, issueNumber: number, activeOnly: boolean): Promise<TaskView | undefined> {
  const row = await db.task.findFirst({
    where: {
      repository: { equals: repository, mode: "insensitive" },
      issueNumber,
      ...(activeOnly ? { status: { in: [...activeStatuses] } } : {}),
    },
    include: taskInclude,
    orderBy: { createdAt: "desc" },
  });
  return row ? toTaskView(row) : undefined;
}

export interface CreateTaskDeps {
  db: Db;
  flags: FlagChecker;
  orchestrator: Orchestrator;
  log: Logger;
}

export async function createAndRun(deps: CreateTaskDeps, input: CreateTaskInput): Promise<CreateTaskResult> {
  const { db } = deps;
  const replay = input.idempotency && (await findIdempotentTask(db, input.teamId, input.idempotency));
  if (replay) return { task: replay, created: false, existing: "idempotent_replay" };

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
    const number = await lockTeamCounter(tx, input.teamId);
    if (input.idempotency) {
      const raced = await findIdempotentTask(tx, input.teamId, input.idempotency);
      if (raced) return { task: raced, run: null, existing: "idempotent_replay" as const };
    }
    // Checked under the team lock, so two triggers on one issue cannot both start a task.
    const active = input.issueNumber === undefined ? undefined : await findActiveIssueTask(tx, repository, input.issueNumber);
    if (active) return { task: active, run: null, existing: "active_issue_task" as const };
    const { prefix, next } = await bumpTeamCounter(tx, input.teamId, number);
    const task = await tx.task.create({
      include: taskInclude,
      data: {
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
      },
    });
    const run = await tx.taskRun.create({ data: { taskId: task.id, attempt: 1, status: "queued" } });
    await tx.taskEvent.createMany({
      data: [
        { taskId: task.id, type: "task_created", message: `${task.slug} created`, data: { source: task.source, origin_product: task.originProduct } },
        { taskId: task.id, runId: run.id, type: "run_queued", message: "run 1 queued", data: { attempt: 1 } },
      ],
    });
    if (input.idempotency) {
      await tx.idempotencyKey.create({
        data: { teamId: input.teamId, key: input.idempotency.key, requestHash: input.idempotency.requestHash, taskId: task.id },
      });
    }
    return { task: toTaskView(task), run, existing: undefined };
  }, lockingTransaction);

  if (!outcome.run) return { task: outcome.task, created: false, existing: outcome.existing };
  // 3. Hand the run to the engine, after the commit, so an engine never sees a task that may roll back.
  await handOffRun(deps, { taskId: outcome.task.id, runId: outcome.run.id, attempt: 1 });
  return { task: outcome.task, created: true };
}

async function findIdempotentTask(db: Db | Tx, teamId: string, idempotency: { key: string; requestHash: string }): Promise<TaskView | null> {
  const row = await db.idempotencyKey.findUnique({
    where: { teamId_key: { teamId, key: idempotency.key } },
    include: { task: { include: taskInclude } },
  });
  if (!row) return null;
  if (row.requestHash !== idempotency.requestHash) {
    throw new AppError("conflict", "idempotency_key_reused", "this Idempotency-Key was already used with a different request body", { field: "Idempotency-Key" });
  }
  return toTaskView(row.task);
}

async function findTeamUser(db: Db, teamId: string, externalId: string) {
  const user = await db.user.findUnique({
    where: { externalId },
    include: { memberships: { where: { teamId }, select: { teamId: true } } },
  });
  if (!user) throw new AppError("unprocessable", "user_not_found", `user_id ${JSON.stringify(externalId)} names no user`, { field: "user_id" });
  if (user.memberships.length === 0) {
    throw new AppError("unprocessable", "user_not_in_team", `user_id ${JSON.stringify(externalId)} is not a member of this team`, { field: "user_id" });
  }
  return user;
}

async function findCoveringIntegration(db: Db, teamId: string, repository: string) {
  const integration = await db.gitHubIntegration.findFirst({
    where: { teamId, suspended: false, repositories: { has: repositoryKey(repository) } },
    orderBy: { createdAt: "asc" },
  });
  if (!integration) {
    throw new AppError("unprocessable", "repository_not_connected", `repository ${repository} is not covered by an active GitHub integration of this team; install the GitHub App on it first`, { field: "repository" });
  }
  return integration;
}

async function resolveWorkflow(db: Db, teamId: string, workflowId: string | undefined) {
  const team = await db.team.findUniqueOrThrow({ where: { id: teamId }, select: { defaultWorkflowId: true } });
  const id = workflowId ?? team.defaultWorkflowId;
  if (!id) throw new AppError("unprocessable", "no_workflow", "no workflow is configured for this team: set a default workflow or pass workflow_id", { field: "workflow_id" });
  const workflow = await db.workflow.findFirst({
    where: { id, teamId },
    include: { stages: { orderBy: { position: "asc" }, take: 1, select: { id: true } } },
  });
  if (!workflow) throw new AppError("unprocessable", "workflow_not_found", `workflow_id ${JSON.stringify(id)} names no workflow of this team`, { field: "workflow_id" });
  const first = workflow.stages[0];
  if (!first) throw new AppError("unprocessable", "workflow_has_no_stages", `workflow_id names workflow ${JSON.stringify(workflow.name)}, which has no stages`, { field: "workflow_id" });
  return { workflowId: workflow.id, firstStageId: first.id };
}

// The team row lock serialises creations within one team (gapless numbers, idempotency races)
// while other teams proceed; a rolled-back creation releases its number with the lock.
async function lockTeamCounter(tx: Tx, teamId: string): Promise<number> {
  const rows = await tx.$queryRaw<{ task_counter: number }[]>`SELECT task_counter FROM teams WHERE id = ${teamId}::uuid FOR UPDATE`;
  const row = rows[0];
  if (!row) throw new AppError("not_found", "team_not_found", "team no longer exists");
  return row.task_counter;
}

async function bumpTeamCounter(tx: Tx, teamId: string, current: number): Promise<{ prefix: string; next: number }> {
  const team = await tx.team.update({ where: { id: teamId }, data: { taskCounter: current + 1 }, select: { prefix: true, taskCounter: true } });
  return { prefix: team.prefix, next: team.taskCounter };
}
