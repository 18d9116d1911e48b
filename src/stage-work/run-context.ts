// What the stage work needs to know about a run, read from the database and the repository's
// host once per run and kept in memory (a restarted process reads it again: every read here is
// idempotent).
import type { PrismaClient } from "../generated/prisma/client.ts";
import { parseRepoConfig, type RepoConfig } from "./repo-config.ts";
import type { RepositoryHost } from "./repository-host.ts";
import { PermanentFailure } from "../lib/permanent-failure.ts";

export interface RunContext {
  taskId: string;
  runId: string;
  slug: string;
  title: string;
  description: string;
  owner: string;
  repo: string;
  repository: string;
  installationId: number;
  issueNumber: number | null;
  /** The task branch (`tasks/<slug>-<title>`), set once the first publish pushed it. */
  branch: string | null;
  baseBranch: string;
  followup: boolean;
  followupInstructions: string | null;
  /** GitHub login of the person the task is for, for the Co-authored-by trailer. */
  coAuthor: { login: string; id: number | null } | null;
  config: RepoConfig;
}

export function createRunContexts(db: PrismaClient, host: Pick<RepositoryHost, "readRepository">) {
  const cache = new Map<string, Promise<RunContext>>();

  async function load(ref: { taskId: string; runId: string }): Promise<RunContext> {
    const task = await db.task.findUniqueOrThrow({ where: { id: ref.taskId }, include: { integration: true, createdBy: true } });
    if (!task.integration || task.integration.suspended) throw new PermanentFailure(`the GitHub App is no longer installed for ${task.repository}`);
    const run = await db.taskRun.findUniqueOrThrow({ where: { id: ref.runId } });
    const [owner, repo] = task.repository.split("/") as [string, string];
    const installationId = Number(task.integration.installationId);
    const repository = await host.readRepository({ repository: task.repository, installationId });
    const config = parseRepoConfig(repository.configText);
    const followup = await db.taskEvent.findFirst({ where: { runId: ref.runId, type: "followup_requested" } });
    const githubId = task.createdBy?.externalId.startsWith("github:") ? Number(task.createdBy.externalId.slice("github:".length)) : null;
    return {
      taskId: task.id,
      runId: run.id,
      slug: task.slug,
      title: task.title,
      description: task.description,
      owner,
      repo,
      repository: task.repository,
      installationId,
      issueNumber: task.issueNumber,
      branch: task.branch,
      baseBranch: config.base_branch ?? repository.defaultBranch,
      followup: run.kind === "followup",
      followupInstructions: (followup?.data as { instructions?: string } | null)?.instructions ?? null,
      coAuthor: task.createdBy?.githubLogin ? { login: task.createdBy.githubLogin, id: githubId } : null,
      config,
    };
  }

  return {
    get(ref: { taskId: string; runId: string }): Promise<RunContext> {
      let context = cache.get(ref.runId);
      if (!context) {
        context = load(ref);
        cache.set(ref.runId, context);
        context.catch(() => cache.delete(ref.runId));
      }
      return context;
    },
    forget(runId: string): void {
      cache.delete(runId);
    },
  };
}

export type RunContexts = ReturnType<typeof createRunContexts>;
