// The domain's one entry point: everything app/, api/ and cli/ may ask of tasks.
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { createApiKey, verifyApiKey } from "./api-keys.ts";
import { createAndRun, findActiveIssueTask, findIssueTask, findTaskByPullRequest, type CreateTaskInput } from "./create-task.ts";
import {
  changeInstallationRepositories,
  disableInstallation,
  ensureGitHubUser,
  findInstalledRepository,
  linkInstallation,
  unsuspendInstallation,
  type InstallationInfo,
} from "./github-installations.ts";
import type { Db } from "../db/client.ts";
import { setLocalFlag, type FlagChecker } from "./feature-flags.ts";
import type { Orchestrator } from "./orchestrator.ts";
import { approveTask, cancelTask, moveTaskStage, requestFollowUp, runTask, type Actor } from "./task-actions.ts";
import { getTaskDetail, listTasks, type ListTasksQuery } from "./task-queries.ts";
import { loadTrackingState } from "./tracking-view.ts";
import { saveTrackingCommentId } from "../db/tracking-comments.ts";
import { countInWindow, deleteClosedThrottles } from "../db/trigger-throttles.ts";
import { addIntegration, addTeamMember, createTeam, findTeam, listTeams, type AddUserInput, type IntegrationInput } from "./teams.ts";

export interface TasksServiceDeps {
  db: Db;
  flags: FlagChecker;
  orchestrator: Orchestrator;
  log: Logger;
  /** Counts created tasks by source. */
  metrics?: Pick<Metrics, "taskCreated">;
}

export function createTasksService(deps: TasksServiceDeps) {
  const { db } = deps;
  return {
    flagSource: deps.flags.source,
    createAndRun: (input: CreateTaskInput) => createAndRun(deps, input),
    getTask: (teamId: string | undefined, ref: string) => getTaskDetail(db, teamId, ref),
    listTasks: (query: ListTasksQuery) => listTasks(db, query),
    runTask: (teamId: string | undefined, ref: string, actor: Actor) => runTask(deps, teamId, ref, actor),
    cancelTask: (teamId: string | undefined, ref: string, actor: Actor) => cancelTask(deps, teamId, ref, actor),
    moveTaskStage: (teamId: string | undefined, ref: string, stage: string, actor: Actor) => moveTaskStage(deps, teamId, ref, stage, actor),

    createTeam: (name: string) => createTeam(db, name),
    findTeam: (ref: string) => findTeam(db, ref),
    listTeams: () => listTeams(db),
    addTeamMember: async (teamRef: string, input: AddUserInput) => addTeamMember(db, (await findTeam(db, teamRef)).id, input),
    createApiKey: async (teamRef: string, name: string) => createApiKey(db, (await findTeam(db, teamRef)).id, name),
    verifyApiKey: (presented: string) => verifyApiKey(db, presented),
    setFlag: async (teamRef: string, flag: string, enabled: boolean) => {
      const team = await findTeam(db, teamRef);
      await setLocalFlag(db, team.id, flag, enabled);
      return { team: team.name, flag, enabled, source: deps.flags.source };
    },
    addIntegration: async (teamRef: string, input: IntegrationInput) => addIntegration(db, (await findTeam(db, teamRef)).id, input),

    // GitHub-facing operations (app/ handlers).
    linkInstallation: (info: InstallationInfo) => linkInstallation(deps, info),
    changeInstallationRepositories: (installationId: number, added: string[], removed: string[]) =>
      changeInstallationRepositories(db, installationId, added, removed),
    disableInstallation: (installationId: number, reason: "deleted" | "suspended") => disableInstallation(deps, installationId, reason),
    unsuspendInstallation: (installationId: number) => unsuspendInstallation(db, installationId),
    findInstalledRepository: (installationId: number, repository: string) => findInstalledRepository(db, installationId, repository),
    ensureGitHubUser: (teamId: string, sender: { login: string; id: number }) => ensureGitHubUser(db, teamId, sender),
    findActiveIssueTask: (repository: string, issueNumber: number) => findActiveIssueTask(db, repository, issueNumber),
    findLatestIssueTask: (repository: string, issueNumber: number) => findIssueTask(db, repository, issueNumber, false),
    approveTask: (teamId: string, ref: string, actor: Actor) => approveTask(deps, teamId, ref, actor),
    requestFollowUp: (teamId: string, ref: string, instructions: string, actor: Actor) => requestFollowUp(deps, teamId, ref, instructions, actor),
    findTaskByPullRequest: (repository: string, prUrl: string) => findTaskByPullRequest(db, repository, prUrl),
    trackingState: (taskId: string) => loadTrackingState(db, taskId),
    rememberTrackingComment: (taskId: string, commentId: number, bodyHash?: string) => saveTrackingCommentId(db, taskId, commentId, bodyHash),
    /** Durable counts that bound what the App answers on GitHub (app/trigger-limits.ts). */
    countTriggerEvent: (key: string, now: Date, windowMs: number) => countInWindow(db, key, now, windowMs),
    forgetClosedTriggerCounts: (before: Date) => deleteClosedThrottles(db, before),
  };
}

export type TasksService = ReturnType<typeof createTasksService>;
