// GitHub App installations as the domain sees them: which team an installation belongs to,
// which repositories it covers, and what happens to tasks when it goes away.
import type { Logger } from "../lib/logger.ts";
import { isUniqueViolation, type Db } from "../db/client.ts";
import {
  findInstallationIntegrationCovering,
  findIntegrationByInstallation,
  insertIntegration,
  unsuspendIntegrationOfInstallation,
  updateIntegration,
} from "../db/integrations.ts";
import { appendTaskEvents } from "../db/task-events.ts";
import { finishRuns, findRunsOfTasksIn } from "../db/task-runs.ts";
import { findTaskIdsOfIntegration, setTasksStatus } from "../db/tasks.ts";
import { findTeamByName } from "../db/teams.ts";
import { ensureTeamMembership, findUserByExternalId, findUserByGitHubLogin, insertUser } from "../db/users.ts";
import type { Orchestrator } from "./orchestrator.ts";
import { repositoryKey } from "./repository-name.ts";
import { createTeam } from "./teams.ts";
import { activeRunStatuses, activeTaskStatuses } from "./task-status.ts";

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
  const existing = await findIntegrationByInstallation(db, info.installationId);
  if (existing) {
    await updateIntegration(db, existing.id, { repositories, suspended: false, account: info.account });
    return { teamId: existing.teamId, integrationId: existing.id };
  }
  const team = (await findTeamByName(db, info.account)) ?? (await createTeamOrFind(db, info.account));
  try {
    const integration = await insertIntegration(db, { teamId: team.id, installationId: info.installationId, account: info.account, repositories });
    return { teamId: team.id, integrationId: integration.id };
  } catch (error) {
    // A redelivered or concurrent installation.created got there first.
    if (!isUniqueViolation(error)) throw error;
    const raced = await findIntegrationByInstallation(db, info.installationId);
    if (!raced) throw error;
    return { teamId: raced.teamId, integrationId: raced.id };
  }
}

async function createTeamOrFind(db: Db, name: string) {
  try {
    return await createTeam(db, name);
  } catch (error) {
    const team = await findTeamByName(db, name);
    if (team) return team;
    throw error;
  }
}

export async function changeInstallationRepositories(db: Db, installationId: number, added: string[], removed: string[]): Promise<void> {
  await db.$transaction(async (tx) => {
    const integration = await findIntegrationByInstallation(tx, installationId);
    if (!integration) return;
    const gone = new Set(removed.map(repositoryKey));
    const repositories = [...new Set([...integration.repositories, ...added.map(repositoryKey)])].filter((name) => !gone.has(name)).sort();
    await updateIntegration(tx, integration.id, { repositories });
  });
}

/** Deleted or suspended: the integration stops covering anything and its active tasks are cancelled. */
export async function disableInstallation(deps: InstallationDeps, installationId: number, reason: "deleted" | "suspended"): Promise<number> {
  const { db } = deps;
  const integration = await findIntegrationByInstallation(db, installationId);
  if (!integration) return 0;
  const runs = await db.$transaction(async (tx) => {
    await updateIntegration(tx, integration.id, { suspended: true });
    const taskIds = await findTaskIdsOfIntegration(tx, integration.id, activeTaskStatuses);
    const active = await findRunsOfTasksIn(tx, taskIds, activeRunStatuses);
    await setTasksStatus(tx, taskIds, "cancelled");
    await finishRuns(tx, active.map((run) => run.id), "cancelled", new Date());
    await appendTaskEvents(
      tx,
      taskIds.map((taskId) => ({ taskId, type: "task_cancelled", message: `cancelled: the GitHub App installation was ${reason}`, data: { reason } })),
    );
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
  await unsuspendIntegrationOfInstallation(db, installationId);
}

/** The active integration covering this repository for this installation, if any. */
export async function findInstalledRepository(db: Db, installationId: number, repository: string) {
  return findInstallationIntegrationCovering(db, installationId, repositoryKey(repository));
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
    const found = (await findUserByGitHubLogin(tx, sender.login)) ?? (await findUserByExternalId(tx, externalId));
    const user = found ?? (await insertUser(tx, { externalId, githubLogin: sender.login }));
    await ensureTeamMembership(tx, teamId, user.id);
    return user;
  });
  return user.externalId;
}
