// GitHub App installations as the domain sees them: which team an installation belongs to,
// which repositories it covers, and what happens to tasks when it goes away.
import type { Logger } from "../lib/logger.ts";
import { isUniqueViolation, type Db } from "./db-types.ts";
import type { Orchestrator } from "./orchestrator.ts";
import { repositoryKey } from "./repository-name.ts";
import { createTeam } from "./teams.ts";

export interface InstallationDeps {
  db: Db;
  orchestrator: Orchestrator;
  log: Logger;
}

export interface InstallationInfo {
  installationId: number;
  account: string;
  repositories: string[];
}

/** Links an installation to the team named after its account, creating the team if needed. */
export async function linkInstallation(deps: InstallationDeps, info: InstallationInfo): Promise<{ teamId: string; integrationId: string }> {
  const { db } = deps;
  const repositories = [...new Set(info.repositories.map(repositoryKey))].sort();
  const existing = await db.gitHubIntegration.findUnique({ where: { installationId: BigInt(info.installationId) } });
  if (existing) {
    await db.gitHubIntegration.update({ where: { id: existing.id }, data: { repositories, suspended: false, account: info.account } });
    return { teamId: existing.teamId, integrationId: existing.id };
  }
  const team = (await db.team.findUnique({ where: { name: info.account } })) ?? (await createTeamOrFind(db, info.account));
  try {
    const integration = await db.gitHubIntegration.create({
      data: { teamId: team.id, installationId: BigInt(info.installationId), account: info.account, repositories },
    });
    return { teamId: team.id, integrationId: integration.id };
  } catch (error) {
    // A redelivered or concurrent installation.created got there first.
    if (!isUniqueViolation(error)) throw error;
    const raced = await db.gitHubIntegration.findUniqueOrThrow({ where: { installationId: BigInt(info.installationId) } });
    return { teamId: raced.teamId, integrationId: raced.id };
  }
}

async function createTeamOrFind(db: Db, name: string) {
  try {
    return await createTeam(db, name);
  } catch (error) {
    const team = await db.team.findUnique({ where: { name } });
    if (team) return team;
    throw error;
  }
}

export async function changeInstallationRepositories(db: Db, installationId: number, added: string[], removed: string[]): Promise<void> {
  await db.$transaction(async (tx) => {
    const integration = await tx.gitHubIntegration.findUnique({ where: { installationId: BigInt(installationId) } });
    if (!integration) return;
    const gone = new Set(removed.map(repositoryKey));
    const repositories = [...new Set([...integration.repositories, ...added.map(repositoryKey)])].filter((name) => !gone.has(name)).sort();
    await tx.gitHubIntegration.update({ where: { id: integration.id }, data: { repositories } });
  });
}

/** Deleted or suspended: the integration stops covering anything and its active tasks are cancelled. */
export async function disableInstallation(deps: InstallationDeps, installationId: number, reason: "deleted" | "suspended"): Promise<number> {
  const { db } = deps;
  const integration = await db.gitHubIntegration.findUnique({ where: { installationId: BigInt(installationId) } });
  if (!integration) return 0;
  const runs = await db.$transaction(async (tx) => {
    await tx.gitHubIntegration.update({ where: { id: integration.id }, data: { suspended: true } });
    const tasks = await tx.task.findMany({ where: { integrationId: integration.id, status: { in: ["queued", "running", "waiting_approval"] } }, select: { id: true } });
    const taskIds = tasks.map((task) => task.id);
    const active = await tx.taskRun.findMany({ where: { taskId: { in: taskIds }, status: { in: ["queued", "running"] } } });
    await tx.task.updateMany({ where: { id: { in: taskIds } }, data: { status: "cancelled" } });
    await tx.taskRun.updateMany({ where: { id: { in: active.map((run) => run.id) } }, data: { status: "cancelled", finishedAt: new Date() } });
    await tx.taskEvent.createMany({
      data: taskIds.map((taskId) => ({ taskId, type: "task_cancelled", message: `cancelled: the GitHub App installation was ${reason}`, data: { reason } })),
    });
    return active;
  });
  for (const run of runs) {
    await deps.orchestrator.cancel({ taskId: run.taskId, runId: run.id, attempt: run.attempt }).catch((error: unknown) => {
      deps.log.error({ err: error, runId: run.id }, "engine could not be told to cancel");
    });
  }
  return runs.length;
}

export async function unsuspendInstallation(db: Db, installationId: number): Promise<void> {
  await db.gitHubIntegration.updateMany({ where: { installationId: BigInt(installationId) }, data: { suspended: false } });
}

/** The active integration covering this repository for this installation, if any. */
export async function findInstalledRepository(db: Db, installationId: number, repository: string) {
  return db.gitHubIntegration.findFirst({
    where: { installationId: BigInt(installationId), suspended: false, repositories: { has: repositoryKey(repository) } },
  });
}

/**
 * The team user behind a GitHub sender: the user an operator linked to this login, or one
 * created on first trigger with external id `github:<id>`. Either way a member of the team.
 */
export async function ensureGitHubUser(db: Db, teamId: string, sender: { login: string; id: number }): Promise<string> {
  try {
    return await upsertGitHubUser(db, teamId, sender);
  } catch (error) {
    // Two first triggers by one person raced to create the user; the second now finds it.
    if (!isUniqueViolation(error)) throw error;
    return upsertGitHubUser(db, teamId, sender);
  }
}

async function upsertGitHubUser(db: Db, teamId: string, sender: { login: string; id: number }): Promise<string> {
  const externalId = `github:${sender.id}`;
  const user = await db.$transaction(async (tx) => {
    const found = (await tx.user.findUnique({ where: { githubLogin: sender.login } })) ?? (await tx.user.findUnique({ where: { externalId } }));
    const user = found ?? (await tx.user.create({ data: { externalId, githubLogin: sender.login } }));
    await tx.teamMember.upsert({ where: { teamId_userId: { teamId, userId: user.id } }, create: { teamId, userId: user.id }, update: {} });
    return user;
  });
  return user.externalId;
}
