// An agent that runs forever, forks endlessly or fills the disk, against the real bubblewrap
// sandbox with small limits: each attack is stopped by the sandbox's limit or the stage's time
// limit (not by the attack running out), the command ends with a `[sandbox]` line saying which
// limit, nothing of it is left running, and the host can still start processes. Whole tasks run on
// the embedded engine with the real stage work, the `command` agent and a real local repository:
// they fail with a reason that says what stopped them, and their sandbox is gone. Every attack
// stops by itself far past the limit, so a broken limit fails the test without taking the machine
// down.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, statfs, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import { createCommandAgentRuntime } from "../../src/agent/command-agent.ts";
import { createGit } from "../../src/git/git.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { createLocalRepositoryHost } from "../../src/repository-host/local-repository-host.ts";
import { createEmbeddedRunner } from "../../src/runner/embedded-runner.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import type { SandboxLimits } from "../../src/sandbox/resource-limits.ts";
import type { Sandbox, SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { createSandboxStageWork } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { fakeAgentCommand } from "../fixtures/fake-agent.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/databases.ts";

const MiB = 1024 * 1024;
const limits: Partial<SandboxLimits> = { maxProcesses: 64, maxFileBytes: 8 * MiB, tmpBytes: 16 * MiB };

let root: string;
let provider: SandboxProvider;

/** A provider like the server's (isolation.ts with no agent CLIs), with `extra` limits over the small ones. */
function isolatedProvider(extra: Partial<SandboxLimits> = {}): SandboxProvider {
  return createLocalSandboxProvider({
    rootDir: path.join(root, "workspaces"),
    limits: { ...limits, ...extra },
    isolation: { bwrap: bwrapPath(), nodePath: process.execPath, programs: new Map(), stateDir: path.join(root, "sandbox"), egressAllow: [] },
  });
}

const bwrapPath = () => execFileSync("sh", ["-c", "command -v bwrap"], { encoding: "utf8" }).trim();

/** Host processes whose command line contains `marker`. */
function hostProcessesWith(marker: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").replaceAll("\0", " ");
      if (cmdline.includes(marker)) found.push(`${pid}: ${cmdline}`);
    } catch {
      // ended meanwhile
    }
  }
  return found;
}

async function withSandbox<T>(use: (sandbox: Sandbox) => Promise<T>, from = provider): Promise<T> {
  const sandbox = await from.create({ taskId: "t", runId: "abuse", timeoutMs: 60_000 });
  try {
    return await use(sandbox);
  } finally {
    await sandbox.kill();
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), "tasks-resource-abuse-"));
  provider = isolatedProvider();
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe("an agent that forks endlessly", () => {
  it("is stopped at the sandbox's process limit, far below where the bomb would stop, and the host stays usable", { timeout: 120_000 }, async () => {
    await withSandbox(async (sandbox) => {
      const lines: string[] = [];
      // 2^11 processes if nothing stops it; each counts itself, then waits (the leaves sleep).
      const bomb = `b() { echo x >> "${sandbox.scratchdir}/forks"; if [ "$1" -gt 0 ]; then b $(($1 - 1)) & b $(($1 - 1)) & wait; else exec sleep 2971; fi; }; b 10`;
      const result = await sandbox.exec(["sh", "-c", bomb], { timeoutMs: 90_000, onOutput: (chunk) => lines.push(chunk) });

      // Ended at the limit (dash gives up when a fork is refused; the watchdog stops what does not),
      // not by the timeout, and says so last, where a task's failure reason quotes it.
      expect(result.timedOut).toBe(false);
      expect(result.stderr.trimEnd().split("\n").at(-1)).toMatch(/^\[sandbox\] .*64 processes and threads/);
      expect(lines.join("")).toMatch(/\[sandbox\] .*64 processes and threads/);
      // Cut off far below its own 2,047: a shell whose fork is refused dies and frees its slot, so
      // a few more than 64 start over the run, but never more than 64 at once.
      const started = readFileSync(path.join(sandbox.scratchdir, "forks"), "utf8").split("\n").filter(Boolean).length;
      expect(started).toBeLessThan(512);
      expect(hostProcessesWith("sleep 2971")).toEqual([]);
    });
    // The host can still start processes, and the sandbox's next commands run as before.
    expect(execFileSync("true")).toBeDefined();
    await withSandbox(async (sandbox) => {
      expect(await sandbox.exec(["sh", "-c", "echo fine"], { timeoutMs: 20_000 })).toMatchObject({ exitCode: 0, stdout: "fine\n" });
    });
  });

  it("is stopped by the sandbox when it keeps retrying refused forks instead of giving up", { timeout: 120_000 }, async () => {
    await withSandbox(async (sandbox) => {
      // bash retries a refused fork for a while instead of failing: without the watchdog this
      // sits at the limit until the timeout. 2^11 processes if nothing stops it.
      const bomb = `b() { echo x >> "${sandbox.scratchdir}/forks"; if [ "$1" -gt 0 ]; then b $(($1 - 1)) & b $(($1 - 1)) & wait; else exec sleep 2971; fi; }; b 10`;
      const result = await sandbox.exec(["bash", "-c", bomb], { timeoutMs: 90_000 });
      expect(result).toMatchObject({ exitCode: 137, timedOut: false });
      expect(result.stderr.trimEnd().split("\n").at(-1)).toBe("[sandbox] the sandbox stopped the command: it reached the sandbox's limit of 64 processes and threads (a runaway fork?)");
      // No process of it ever ends, so all it started were alive at once: the limit, no more.
      const started = readFileSync(path.join(sandbox.scratchdir, "forks"), "utf8").split("\n").filter(Boolean).length;
      expect(started).toBeLessThanOrEqual(64);
      expect(hostProcessesWith("sleep 2971")).toEqual([]);
    });
  });

  it("lets a command with fewer processes than the limit run to its end", { timeout: 60_000 }, async () => {
    await withSandbox(async (sandbox) => {
      const result = await sandbox.exec(["sh", "-c", "for i in $(seq 20); do sleep 1 & done; wait; echo done"], { timeoutMs: 30_000 });
      expect(result).toMatchObject({ exitCode: 0, stdout: "done\n", timedOut: false });
      expect(result.stderr).not.toContain("[sandbox]");
    });
  });
});

describe("an agent that fills the disk", () => {
  it("cannot write a file larger than the sandbox's file size limit, and is told why", { timeout: 60_000 }, async () => {
    await withSandbox(async (sandbox) => {
      // 1 GiB if nothing stops it.
      const result = await sandbox.exec(["sh", "-c", "dd if=/dev/zero of=fill.bin bs=1M count=1024"], { timeoutMs: 50_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("[sandbox] the sandbox's file size limit (8 MiB) stopped a write");
      expect(statSync(path.join(sandbox.workdir, "fill.bin")).size).toBeLessThanOrEqual(8 * MiB);
    });
  });

  it("cannot fill /tmp past its size, and is told why", { timeout: 60_000 }, async () => {
    await withSandbox(async (sandbox) => {
      // 64 files of 4 MiB each (under the file size limit): 256 MiB if nothing stops it.
      const result = await sandbox.exec(["sh", "-c", "set -e; for i in $(seq 64); do head -c 4194304 /dev/zero > /tmp/fill$i; done; df -k /tmp"], { timeoutMs: 50_000 });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("No space left on device");
      expect(result.stderr).toContain("[sandbox] the sandbox ran out of space");
    });
  });

  it("is stopped once the disk holding the run directories runs low, with many files each under the file size limit", { timeout: 180_000 }, async () => {
    const workspaces = path.join(root, "workspaces");
    const stats = await statfs(root);
    const free = stats.bavail * stats.bsize;
    // The reserve sits 128 MiB below what is free now: the test writes at most that much and then some.
    const tight = isolatedProvider({ diskReserveBytes: Math.max(free - 128 * MiB, 0), maxFileBytes: 4 * MiB });
    await withSandbox(async (sandbox) => {
      // 1 GiB in 4 MiB files if nothing stops it.
      const script = "i=0; while [ $i -lt 256 ]; do head -c 4194304 /dev/zero > fill$i.bin || exit 1; i=$((i + 1)); done; echo wrote everything";
      const result = await sandbox.exec(["sh", "-c", script], { timeoutMs: 150_000 });
      expect(result.stdout).not.toContain("wrote everything");
      expect(result.timedOut).toBe(false);
      expect(result.stderr).toContain("[sandbox] the sandbox stopped the command: the disk holding the sandbox ran out of space");
      const written = (await readdir(sandbox.workdir)).filter((name) => name.startsWith("fill")).length;
      expect(written).toBeLessThan(256);
    }, tight);
    // Killing the sandbox gave the space back.
    expect((await readdir(workspaces)).filter((name) => name.startsWith("abuse"))).toEqual([]);
  });
});

describe("a task whose agent abuses the sandbox", () => {
  const log = pino({ level: "silent" });
  const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
  const git = (cwd: string, ...args: string[]) =>
    execFileSync("git", args, { cwd, encoding: "utf8", env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Me", GIT_AUTHOR_EMAIL: "me@example.com", GIT_COMMITTER_NAME: "Me", GIT_COMMITTER_EMAIL: "me@example.com" } }).trim();
  let db: TestDatabase;
  let installations = 61_000;
  beforeAll(async () => {
    db = await openTestDatabase("pglite");
  });
  afterAll(async () => {
    await db?.close();
  });

  /** Runs a whole task (Plan, then Code with the fake agent in `mode`) on the embedded engine; its detail once the run finished. */
  async function runTask(name: string, mode: string, agentTimeoutMs: number) {
    const repoPath = path.join(root, name);
    await mkdir(repoPath, { recursive: true });
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(repoPath, "README.md"), "# App\n");
    git(repoPath, "add", "--all");
    git(repoPath, "commit", "--quiet", "-m", "base");
    const sandboxRoot = path.join(root, `${name}-workspaces`);
    const sandboxes = createLocalSandboxProvider({
      rootDir: sandboxRoot,
      limits,
      isolation: { bwrap: bwrapPath(), nodePath: process.execPath, programs: new Map(), stateDir: path.join(root, `${name}-state`), egressAllow: [] },
    });
    const controlGit = createGit({ env: gitEnv });
    const work = createSandboxStageWork({
      db: db.prisma,
      host: createLocalRepositoryHost({ repoPath, git: controlGit, runGit: createGitRunner({ env: gitEnv }) }),
      sandboxes,
      git: controlGit,
      workspaceRoot: path.join(root, `${name}-control`),
      sandboxTimeoutMs: 120_000,
      agentTimeoutMs,
      publicUrl: null,
      webUrl: "https://github.com",
      agentFor: () => createCommandAgentRuntime({ command: fakeAgentCommand(mode) }),
      log,
    });
    const flags = createLocalFlagChecker(db.prisma);
    const runner = createEmbeddedRunner({ db: db.prisma, activities: createPipelineActivities({ db: db.prisma, flags, work, log }), concurrency: 1, log });
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: runner, log });
    const team = await tasks.createTeam(`Abuse ${name}`);
    await tasks.addTeamMember(team.id, { externalId: `${name}-user` });
    await tasks.addIntegration(team.id, { installationId: (installations += 1), repositories: [`local/${name}`] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Dark mode", description: "d", originProduct: "user_created", userId: `${name}-user`, repository: `local/${name}` });
    await runner.idle();
    await runner.stop();
    return { task: await tasks.getTask(undefined, task.id), sandboxRoot };
  }

  it("is stopped by the stage's time limit when it runs forever and ignores SIGTERM: timed out, nothing left running, sandbox gone", { timeout: 120_000 }, async () => {
    const { task, sandboxRoot } = await runTask("forever", "forever", 3_000);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toContain("failed in Code: the coder command timed out after 3 seconds and was stopped");
    expect(hostProcessesWith("FAKE_AGENT_MODE=forever")).toEqual([]);
    expect(await readdir(sandboxRoot)).toEqual([]);
  });

  it("fails, saying the sandbox's file size limit stopped it, when the agent fills the disk", { timeout: 120_000 }, async () => {
    const { task, sandboxRoot } = await runTask("fill", "fill-disk", 60_000);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toContain("failed in Code: the coder command exited with status 153");
    expect(task.runs[0]!.error).toContain("[sandbox] the sandbox's file size limit (8 MiB) stopped a write: a file grew too large");
    expect(hostProcessesWith("FAKE_AGENT_MODE=fill-disk")).toEqual([]);
    expect(await readdir(sandboxRoot)).toEqual([]);
  });

  it("fails, saying the sandbox's process limit stopped it, when the agent forks endlessly", { timeout: 120_000 }, async () => {
    const { task, sandboxRoot } = await runTask("bomb", "fork-bomb", 60_000);
    expect(task.status).toBe("failed");
    expect(task.runs[0]!.error).toContain("failed in Code: the coder command exited with status 137");
    expect(task.runs[0]!.error).toContain("[sandbox] the sandbox stopped the command: it reached the sandbox's limit of 64 processes and threads");
    expect(hostProcessesWith("sleep 2971")).toEqual([]);
    expect(hostProcessesWith("FAKE_AGENT_MODE=fork-bomb")).toEqual([]);
    expect(await readdir(sandboxRoot)).toEqual([]);
  });
});
