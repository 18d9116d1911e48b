// The sandbox stage work with a real database, a real local repository and real git in a temp
// directory sandbox; only the agent is a stand-in that records the prompt it was given.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import type { AgentRunRequest, AgentRuntime } from "../../src/agent/agent-runtime.ts";
import { createGit } from "../../src/git/git.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { createLocalRepositoryHost } from "../../src/repository-host/local-repository-host.ts";
import type { SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { createSandboxStageWork } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { createTempDirSandbox, type TempDirSandbox } from "../agent/test-sandboxes.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const log = pino({ level: "silent" });
const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } }).trim();

/** Sandboxes in temp directories, with real processes, kept so the test can end them. */
function createTempDirProvider(): SandboxProvider & { readonly sandboxes: TempDirSandbox[] } {
  const sandboxes: TempDirSandbox[] = [];
  return {
    kind: "local",
    sandboxes,
    async create() {
      const sandbox = await createTempDirSandbox();
      sandboxes.push(sandbox);
      return sandbox;
    },
    async connect(id) {
      const sandbox = sandboxes.find((s) => s.id === id);
      if (!sandbox) throw new Error(`no sandbox ${id}`);
      return sandbox;
    },
  };
}

/** The agent's stand-in: approves, and keeps every request. */
function createRecordingAgent(): AgentRuntime & { readonly requests: AgentRunRequest[] } {
  const requests: AgentRunRequest[] = [];
  return {
    name: "command",
    requests,
    async run(request) {
      requests.push(request);
      return { output: request.role === "reviewer" ? "APPROVE\nLooks good." : "done" };
    },
  };
}

describe.each(testDatabases)("sandbox stage work on %s", (kind) => {
  let db: TestDatabase;
  let root: string;
  beforeAll(async () => {
    db = await openTestDatabase(kind);
    root = await mkdtemp(path.join(tmpdir(), "tasks-stage-work-"));
  });
  afterAll(async () => {
    await db?.close();
    await rm(root, { recursive: true, force: true });
  });

  it("tells the reviewer the commit the checkout started from, so it diffs against it", async () => {
    const repoPath = path.join(root, "app");
    await mkdir(repoPath);
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(repoPath, "README.md"), "# App\n");
    git(repoPath, "add", "README.md");
    git(repoPath, "-c", "user.name=Me", "-c", "user.email=me@example.com", "commit", "--quiet", "-m", "readme");
    const base = git(repoPath, "rev-parse", "HEAD");

    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam("Stage work");
    await tasks.addTeamMember(team.id, { externalId: "stage-work-user" });
    await tasks.addIntegration(team.id, { installationId: 31_337, repositories: ["local/app"] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Review it", description: "d", originProduct: "user_created", userId: "stage-work-user", repository: "local/app" });
    const [run] = (await tasks.getTask(undefined, task.id)).runs;
    const ref = { taskId: task.id, runId: run!.id, attempt: run!.attempt };

    const sandboxes = createTempDirProvider();
    const agent = createRecordingAgent();
    const controlGit = createGit({ env: gitEnv });
    const work = createSandboxStageWork({
      db: db.prisma,
      host: createLocalRepositoryHost({ repoPath, git: controlGit, runGit: createGitRunner({ env: gitEnv }) }),
      sandboxes,
      git: controlGit,
      workspaceRoot: path.join(root, "control"),
      sandboxTimeoutMs: 60_000,
      agentTimeoutMs: 60_000,
      publicUrl: null,
      webUrl: "https://github.com",
      agentFor: () => agent,
      log,
    });
    await createPipelineActivities({ db: db.prisma, flags, work, log }).loadRun(ref);

    try {
      const review = await work.runAgent({ ...ref, stage: "review", stageName: "Review", role: "reviewer", iteration: 0, reviewNotesRef: null }, new AbortController().signal);
      expect(review.verdict).toBe("approve");
    } finally {
      await work.cleanup(ref);
      for (const sandbox of sandboxes.sandboxes) await sandbox.cleanup();
    }

    const [request] = agent.requests;
    expect(request!.role).toBe("reviewer");
    expect(request!.prompt).toContain(`Run \`git diff ${base}\` to see the change`);
    expect((await db.prisma.taskRun.findUniqueOrThrow({ where: { id: ref.runId } })).baseSha).toBe(base);
  });
});
