// What the stage work needs to know about a run, read from the database and GitHub once per
// run and kept in memory (a restarted process reads it again: every read here is idempotent).
import type { PrismaClient } from "../generated/prisma/client.ts";
import type { GitHubClients, Octokit } from "./github-clients.ts";
import { parseRepoConfig, repoConfigPath, type RepoConfig } from "./repo-config.ts";
import { PermanentFailure } from "./stage-work.ts";

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

async function readFileAt(octokit: Octokit, owner: string, repo: string, path: string): Promise<string | null> {
  try {
    const { data } = await octokit.rest.repos.getContent({ owner, repo, path, mediaType: { format: "raw" } });
    return typeof data === "string" ? data : Buffer.from(data as unknown as ArrayBuffer).toString("utf8");
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

export function createRunContexts(db: PrismaClient, github: GitHubClients) {
  const cache = new Map<string, Promise<RunContext>>();

  async function load(ref: { taskId: string; runId: string }): Promise<RunContext> {
    const task = await db.task.findUniqueOrThrow({ where: { id: ref.taskId }, include: { integration: true, createdBy: true } });
    if (!task.integration || task.integration.suspended) throw new PermanentFailure(`the GitHub App is no longer installed for ${task.repository}`);
    const run = await db.taskRun.findUniqueOrThrow({ where: { id: ref.runId } });
    const [owner, repo] = task.repository.split("/") as [string, string];
    const installationId = Number(task.integration.installationId);
    const octokit = await github.auth(installationId);
    // The control plane reads the config from the default branch, never from an agent's branch.
    const { data: repository } = await octokit.rest.repos.get({ owner, repo });
    const config = parseRepoConfig(await readFileAt(octokit, owner, repo, repoConfigPath));
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
      baseBranch: config.base_branch ?? repository.default_branch,
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
