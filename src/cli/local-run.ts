// `tasks run`: the whole pipeline in this process against a local repository — an in-memory
// database with a throwaway team, the embedded runner, the configured sandbox and agent, and
// the local repository host. Nothing talks to a server or to GitHub.
import { stat } from "node:fs/promises";
import path from "node:path";
import { pino } from "pino";
import { composeLocalRun, startLocalModelGateway } from "../compose.ts";
import type { LocalPullRequestText } from "../repository-host/local-repository-host.ts";
import type { Config } from "../config.ts";
import { openDatabase } from "../db/open-database.ts";
import { listTaskEventsAfter } from "../db/task-events.ts";
import { listRunsOfTask } from "../db/task-runs.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { createGitRunner, type GitRunner } from "../git/git-runner.ts";
import { CliError, usageError } from "./cli-error.ts";

export interface LocalRunInput {
  repoPath: string;
  title: string;
  description: string;
}

export interface LocalRunResult {
  slug: string;
  status: string;
  stage: string | null;
  branch: string | null;
  note: string | null;
  error: string | null;
  pr: { title: string; body: string } | null;
}

const localUser = "local";

export async function runLocally(config: Config, input: LocalRunInput, progress: (line: string) => void): Promise<LocalRunResult> {
  // 1. The repository and the configuration, checked before anything starts.
  const runGit = createGitRunner({ env: { PATH: config.system.path, HOME: config.system.home } });
  const repoPath = await findRepository(runGit, input.repoPath);
  if (config.sandbox.kind === "e2b") {
    throw new CliError("config", "local_sandbox_only", "tasks run uses the local sandbox only: set TASKS_SANDBOX=local (E2B_API_KEY makes e2b the default)");
  }

  // 2. A throwaway world: in-memory database, one team, one user, the repository as its integration.
  const database = await openDatabase({ kind: "pglite", dataDir: "memory://" });
  const db = database.prisma;
  const log = pino({ level: "silent" });
  let proposed: LocalPullRequestText | null = null;
  const events = createEventPrinter(db, progress);
  // Progress is best effort while the run goes on; the last print, after the run, reports for real.
  const printSoon = () => events.print().catch(() => undefined);
  const gateway = await startLocalModelGateway(config, database, log);
  let composed: ReturnType<typeof composeLocalRun>;
  try {
    composed = composeLocalRun(config, { database, gatewayUrl: gateway.url, repoPath, runGit, onProposed: (text) => (proposed = text), report: printSoon, log });
  } catch (error) {
    // A configuration the sandbox refuses (no bwrap, no agent CLI): nothing may keep the CLI alive.
    await gateway.close();
    await database.close();
    throw error;
  }
  const { runner, tasks } = composed;
  const poll = setInterval(() => void printSoon(), 500);
  try {
    const repository = `local/${repositoryName(repoPath)}`;
    const team = await tasks.createTeam("Local");
    await tasks.addTeamMember(team.id, { externalId: localUser });
    await tasks.addIntegration(team.id, { installationId: 1, account: "local", repositories: [repository] });

    // 3. Create and run the task, printing its events as they happen.
    const { task } = await tasks.createAndRun({ teamId: team.id, title: input.title, description: input.description, originProduct: "user_created", userId: localUser, repository, source: "cli" });
    events.follow(task.id);
    progress(`${task.slug}: ${input.title} (${repoPath})`);
    await runner.idle();
    await events.print();

    // 4. Where it ended.
    const detail = await tasks.getTask(team.id, task.id);
    const [run] = await listRunsOfTask(db, task.id);
    const pr = proposed as LocalPullRequestText | null;
    return {
      slug: detail.slug,
      status: detail.status,
      stage: detail.stage?.key ?? null,
      branch: detail.branch,
      note: run?.completionNote ?? null,
      error: run?.error ?? null,
      pr: pr ? { title: pr.title, body: pr.body } : null,
    };
  } finally {
    clearInterval(poll);
    await runner.stop();
    await printSoon();
    await gateway.close();
    await database.close();
  }
}

/** The repository's top-level directory; anything but a git work tree with a commit on a branch is a usage error. */
async function findRepository(runGit: GitRunner, given: string): Promise<string> {
  const dir = path.resolve(given);
  const info = await stat(dir).catch(() => null);
  if (!info?.isDirectory()) throw usageError(`--repo-path ${given} is not a directory`);
  const top = await runGit({ cwd: dir, args: ["rev-parse", "--show-toplevel"], okExitCodes: [128] });
  if (top.exitCode !== 0 || top.stdout.trim() === "") throw usageError(`--repo-path ${given} is not a git repository (run "git init" and commit first)`);
  const root = top.stdout.trim();
  const head = await runGit({ cwd: root, args: ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"], okExitCodes: [1, 128] });
  if (head.exitCode !== 0) throw usageError(`--repo-path ${given} has no commits yet: commit something first`);
  const branch = await runGit({ cwd: root, args: ["symbolic-ref", "--quiet", "--short", "HEAD"], okExitCodes: [1] });
  if (branch.exitCode !== 0) throw usageError(`--repo-path ${given} has a detached HEAD: check out the branch Tasks should start from`);
  return root;
}

/** `local/<dir>` must be a valid repository name: the directory's name, reduced to what GitHub allows. */
function repositoryName(repoPath: string): string {
  const name = path.basename(repoPath).replace(/[^A-Za-z0-9._-]+/g, "-").slice(0, 100);
  return name === "" || name === "." || name === ".." ? "repository" : name;
}

/** Prints the task's new events (stages entered, agent output, the outcome) once each, in order. */
function createEventPrinter(db: PrismaClient, progress: (line: string) => void) {
  let taskId: string | null = null;
  let lastId = 0n;
  let printing: Promise<void> = Promise.resolve();
  const printNew = async () => {
    if (taskId === null) return;
    const events = await listTaskEventsAfter(db, taskId, lastId);
    for (const event of events) {
      lastId = event.id;
      if (event.type === "agent_output") for (const line of (event.message ?? "").split("\n")) progress(`  | ${line}`);
      else if (event.message) progress(`- ${event.message}`);
    }
  };
  return {
    /** Starts printing this task's events, from its first. */
    follow(id: string): void {
      taskId = id;
    },
    print(): Promise<void> {
      printing = printing.then(printNew, printNew);
      return printing;
    },
  };
}
