// What the stage work needs to know about a run, read from the database (one query) and the
// repository's host once per run and kept in memory (a restarted process reads it again: every
// read here is idempotent).
import type { PrismaClient } from "../generated/prisma/client.ts";
import { findRunWithTask } from "../db/run-workspace.ts";
import type { PipelineInput } from "../pipeline/types.ts";
import { parseRepoConfig, type RepoConfig } from "./repo-config.ts";
import type { RepositoryHost } from "./repository-host.ts";
import { PermanentFailure } from "../lib/errors.ts";

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
  /** The run's stages in order, as its pipeline input fixed them. */
  stages: readonly { key: string; name: string }[];
  /** GitHub login of the person the task is for, for the Co-authored-by trailer. */
  coAuthor: { login: string; id: number | null } | null;
  config: RepoConfig;
}

export function createRunContexts(db: PrismaClient, host: Pick<RepositoryHost, "readRepository">) {
  const cache = new Map<string, Promise<RunContext>>();

  async function load(ref: { taskId: string; runId: string }): Promise<RunContext> {
    const { task, ...run } = await findRunWithTask(db, ref.runId);
    if (!task.integration || task.integration.suspended) throw new PermanentFailure(`the GitHub App is no longer installed for ${task.repository}`);
    const [owner, repo] = task.repository.split("/") as [string, string];
    const installationId = Number(task.integration.installationId);
    const repository = await host.readRepository({ repository: task.repository, installationId });
    const config = parseRepoConfig(repository.configText);
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
      followupInstructions: run.followupInstructions,
      stages: ((run.pipelineInput as unknown as PipelineInput | null)?.stages ?? []).map(({ key, name }) => ({ key, name })),
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
