// A real publishing path for hardening tests: the bubblewrap-isolated local sandbox, the
// `command` agent running a shell snippet as the coder, a real local repository as the host and
// real git. A test arranges the repository, lets the coder run, publishes, and looks at what
// reached the repository (nothing, when publishing was refused).
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { createCommandAgentRuntime } from "../../src/agent/command-agent.ts";
import { loadConfig } from "../../src/config.ts";
import { createGit } from "../../src/git/git.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { createLocalRepositoryHost } from "../../src/repository-host/local-repository-host.ts";
import { createSandboxProvider } from "../../src/sandbox/create-sandbox-provider.ts";
import type { SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { createSandboxStageWork } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const log = pino({ level: "silent" });
export const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
export const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Me", GIT_AUTHOR_EMAIL: "me@example.com", GIT_COMMITTER_NAME: "Me", GIT_COMMITTER_EMAIL: "me@example.com" } }).trim();

/** The coder's part of an agent script; every role writes its output file (the coder's is its summary). */
const agentScript = (coder: string, summary: string) => `if [ "$TASK_ROLE" = coder ]; then ${coder}; fi; printf '%s\\n' ${shellQuote(summary)} > "$TASK_OUTPUT_FILE"`;

export interface CoderRunOptions {
  /** Files of the base commit besides README.md and docs/ci.yml (path → content). */
  files?: Record<string, string | Buffer>;
  /** The coder's summary: what its output file says (the PR body and commit message come from it). */
  summary?: string;
  maxPatchBytes?: number;
}

export interface PublishHarness {
  root: string;
  coderRan(name: string, installationId: number, coder: string, options?: CoderRunOptions): Promise<CoderRun>;
  close(): Promise<void>;
}

export interface CoderRun {
  repoPath: string;
  publish(): Promise<unknown>;
  /** The repository's branches, `refs/heads/main` first. */
  branches(): string[];
  done(): Promise<void>;
}

export async function createPublishHarness(prefix: string): Promise<PublishHarness> {
  const db: TestDatabase = await openTestDatabase("pglite");
  const root = await mkdtemp(path.join(tmpdir(), `tasks-${prefix}-`));
  // Built as the server builds it; throws (never skips) when bubblewrap cannot run here.
  const config = loadConfig({ TASKS_DATA_DIR: path.join(root, "data"), TASKS_SANDBOX: "local", TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true", PATH: "/usr/bin:/bin" });
  const sandboxes: SandboxProvider = createSandboxProvider(config, { log });

  async function coderRan(name: string, installationId: number, coder: string, options: CoderRunOptions = {}): Promise<CoderRun> {
    const repoPath = path.join(root, name);
    await mkdir(path.join(repoPath, "docs"), { recursive: true });
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    const files: Record<string, string | Buffer> = { "README.md": "# App\n", "docs/ci.yml": "on: push\njobs: {}\n", ...options.files };
    for (const [file, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(repoPath, file)), { recursive: true });
      await writeFile(path.join(repoPath, file), content);
    }
    git(repoPath, "add", "--all");
    git(repoPath, "commit", "--quiet", "-m", "base");

    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam(`${prefix} ${name}`);
    await tasks.addTeamMember(team.id, { externalId: `${name}-user` });
    await tasks.addIntegration(team.id, { installationId, repositories: [`local/${name}`] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Tidy up", description: "d", originProduct: "user_created", userId: `${name}-user`, repository: `local/${name}` });
    const [run] = (await tasks.getTask(undefined, task.id)).runs;
    const ref = { taskId: task.id, runId: run!.id, attempt: run!.attempt };

    const controlGit = createGit({ env: gitEnv });
    const work = createSandboxStageWork({
      db: db.prisma,
      host: createLocalRepositoryHost({ repoPath, git: controlGit, runGit: createGitRunner({ env: gitEnv }) }),
      sandboxes,
      git: controlGit,
      workspaceRoot: path.join(root, `control-${name}`),
      sandboxTimeoutMs: 60_000,
      agentTimeoutMs: 60_000,
      publicUrl: null,
      webUrl: "https://github.com",
      agentFor: () => createCommandAgentRuntime({ command: agentScript(coder, options.summary ?? "done") }),
      log,
      ...(options.maxPatchBytes === undefined ? {} : { maxPatchBytes: options.maxPatchBytes }),
    });
    const signal = new AbortController().signal;
    await createPipelineActivities({ db: db.prisma, flags, work, log }).loadRun(ref);
    await work.runAgent({ ...ref, stage: "code", stageName: "Code", role: "coder", iteration: 0, reviewNotesRef: null }, signal);
    return {
      repoPath,
      publish: () => work.publish({ ...ref, stage: "complete", stageName: "Complete", reviewNotesRef: null }, signal),
      branches: () => git(repoPath, "for-each-ref", "--format=%(refname)", "refs/heads/").split("\n"),
      done: () => work.cleanup(ref),
    };
  }

  return {
    root,
    coderRan,
    async close() {
      await db.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
