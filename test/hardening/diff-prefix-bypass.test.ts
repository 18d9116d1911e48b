// The coder owns its checkout's .git/config, and the diff the control plane reads is made there:
// `diff.mnemonicPrefix` turned `b/.github/workflows/evil.yml` into `i/.github/...`, which the
// workflow policy let through while `git apply` (stripping any first component) committed the
// workflow. Through the real stage work: the bubblewrap-isolated local sandbox, the `command`
// agent, a real local repository as the host and real git; nothing that is refused is pushed.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { createCommandAgentRuntime } from "../../src/agent/command-agent.ts";
import { loadConfig } from "../../src/config.ts";
import { createGit } from "../../src/git/git.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { isPermanent } from "../../src/lib/errors.ts";
import { refuseCommittedPaths } from "../../src/publish/committed-paths.ts";
import { createLocalRepositoryHost } from "../../src/repository-host/local-repository-host.ts";
import { createSandboxProvider } from "../../src/sandbox/create-sandbox-provider.ts";
import type { SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { createSandboxStageWork } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { failureOf } from "../agent/test-sandboxes.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const log = pino({ level: "silent" });
const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Me", GIT_AUTHOR_EMAIL: "me@example.com", GIT_COMMITTER_NAME: "Me", GIT_COMMITTER_EMAIL: "me@example.com" } }).trim();

/** The coder's part of an agent script; every role writes its output file. */
const agentScript = (coder: string) => `if [ "$TASK_ROLE" = coder ]; then ${coder}; fi; echo done > "$TASK_OUTPUT_FILE"`;

const evilWorkflow = "mkdir -p .github/workflows && printf 'on: push\\njobs: {}\\n' > .github/workflows/evil.yml";

describe("the workflow policy reads paths as git applies them, whatever the sandbox's git config says", () => {
  let db: TestDatabase;
  let root: string;
  let sandboxes: SandboxProvider;
  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    root = await mkdtemp(path.join(tmpdir(), "tasks-diff-prefix-"));
    // Built as the server builds it; throws (never skips) when bubblewrap cannot run here.
    const config = loadConfig({ TASKS_DATA_DIR: path.join(root, "data"), TASKS_SANDBOX: "local", TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "true", PATH: "/usr/bin:/bin" });
    sandboxes = createSandboxProvider(config, { log });
  });
  afterAll(async () => {
    await db?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** A repository with a README and an allowed YAML file, a task on it, and the coder's stage run by `coder` (a shell snippet). */
  async function coderRan(name: string, installationId: number, coder: string) {
    const repoPath = path.join(root, name);
    await mkdir(path.join(repoPath, "docs"), { recursive: true });
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(repoPath, "README.md"), "# App\n");
    await writeFile(path.join(repoPath, "docs", "ci.yml"), "on: push\njobs: {}\n");
    git(repoPath, "add", "--all");
    git(repoPath, "commit", "--quiet", "-m", "base");

    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam(`Diff prefix ${name}`);
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
      agentFor: () => createCommandAgentRuntime({ command: agentScript(coder) }),
      log,
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

  async function expectRefused(run: Awaited<ReturnType<typeof coderRan>>, path: string) {
    const refused = await failureOf(run.publish());
    expect(isPermanent(refused)).toBe(true);
    expect(refused.message).toContain("Tasks does not change CI workflows");
    expect(refused.message).toContain(path);
    expect(run.branches()).toEqual(["refs/heads/main"]);
  }

  it("refuses a workflow written with diff.mnemonicPrefix set, and pushes nothing", { timeout: 120_000 }, async () => {
    const run = await coderRan("mnemonic", 51_001, `git config diff.mnemonicPrefix true && ${evilWorkflow}`);
    try {
      await expectRefused(run, ".github/workflows/evil.yml");
    } finally {
      await run.done();
    }
  });

  it("refuses a workflow written with diff.noprefix set, and pushes nothing", { timeout: 120_000 }, async () => {
    const run = await coderRan("noprefix", 51_002, `git config diff.noprefix true && ${evilWorkflow}`);
    try {
      await expectRefused(run, ".github/workflows/evil.yml");
    } finally {
      await run.done();
    }
  });

  it("refuses a rename of an allowed file into .github/workflows", { timeout: 120_000 }, async () => {
    const run = await coderRan("rename", 51_003, "git config diff.renames copies && mkdir -p .github/workflows && mv docs/ci.yml .github/workflows/ci.yml");
    try {
      await expectRefused(run, ".github/workflows/ci.yml");
    } finally {
      await run.done();
    }
  });

  it("commits a file at the path the coder wrote, not one component shorter, under diff.noprefix", { timeout: 120_000 }, async () => {
    // Without prefixes, `git apply` strips `x/` and would commit `.github/workflows/evil.yml`.
    const run = await coderRan("nested", 51_004, "git config diff.noprefix true && mkdir -p x/.github/workflows && printf 'on: push\\n' > x/.github/workflows/evil.yml");
    try {
      await run.publish();
      const [, branch] = run.branches();
      expect(branch).toMatch(/^refs\/heads\/tasks\//);
      expect(git(run.repoPath, "ls-tree", "-r", "--name-only", branch!).split("\n").sort()).toEqual(["README.md", "docs/ci.yml", "x/.github/workflows/evil.yml"]);
    } finally {
      await run.done();
    }
  });

  it("refuses a diff whose text names other files than git applies from it", async () => {
    const repo = path.join(root, "mismatch");
    await mkdir(path.join(repo, "src"), { recursive: true });
    git(repo, "init", "--quiet", "--initial-branch=main");
    git(repo, "commit", "--quiet", "--allow-empty", "-m", "base");
    const base = git(repo, "rev-parse", "HEAD");
    const clone = path.join(root, "mismatch-clone");
    git(root, "clone", "--quiet", repo, clone);
    await writeFile(path.join(repo, "src", "a.ts"), "export {};\n");
    git(repo, "add", "--all");
    const patch = `${git(repo, "-c", "diff.mnemonicPrefix=true", "diff", "--cached", "--binary", base)}\n`;
    expect(patch).toContain("+++ i/src/a.ts");

    const controlGit = createGit({ env: gitEnv });
    await controlGit.applyPatch(clone, patch);
    const refusal = refuseCommittedPaths(patch, await controlGit.stagedNameStatus(clone, base));
    expect(refusal).toContain("does not name the files git applies");
    expect(refusal).toContain('applied but not named: "src/a.ts"');
    expect(refusal).toContain('named but not applied: "i/src/a.ts"');
  });
});
