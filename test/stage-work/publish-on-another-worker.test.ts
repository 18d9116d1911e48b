// Publish on a worker that did not run the checkout (as Temporal may schedule it): the control
// plane's clone is not on its disk, so it is made again from the host's branch at the run's base
// sha, and an earlier attempt's pushed commit is adopted rather than pushed against. Real
// database, a real local repository as the host, real git, temp-directory sandboxes shared by
// the "workers" (the sandbox outlives any one of them); only the coder is a stand-in.
import { execFile, execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import type { AgentRuntime } from "../../src/agent/agent-runtime.ts";
import { createGit } from "../../src/git/git.ts";
import type { ExecFileFn } from "../../src/git/git-runner.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { isPermanent } from "../../src/lib/errors.ts";
import { createLocalRepositoryHost, type LocalPullRequestText } from "../../src/repository-host/local-repository-host.ts";
import type { RepositoryHost } from "../../src/stage-work/repository-host.ts";
import { createSandboxStageWork } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { createTempDirProvider, failureOf } from "../agent/test-sandboxes.ts";
import { openTestDatabase, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const log = pino({ level: "silent" });
const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
const git = (cwd: string, ...args: string[]) =>
  execFileSync("git", args, { cwd, encoding: "utf8", env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null", GIT_AUTHOR_NAME: "Me", GIT_AUTHOR_EMAIL: "me@example.com", GIT_COMMITTER_NAME: "Me", GIT_COMMITTER_EMAIL: "me@example.com" } }).trim();


/** The coder's stand-in: changes one file and adds one. */
const coder: AgentRuntime = {
  name: "command",
  async run(request) {
    await request.sandbox.writeFile(`${request.sandbox.workdir}/README.md`, "# App\n\nNow with dark mode.\n");
    await request.sandbox.writeFile(`${request.sandbox.workdir}/dark.css`, "body { background: black; }\n");
    return { output: "Added dark mode." };
  },
};

/** Control-plane git whose commits carry a fixed old date, so they differ from any made later of the same change. */
const backdatedExecFile: ExecFileFn = (file, args, options, callback) =>
  execFile(file, args, args[0] === "commit" ? { ...options, env: { ...options.env, GIT_AUTHOR_DATE: "2020-01-01T00:00:00Z", GIT_COMMITTER_DATE: "2020-01-01T00:00:00Z" } } : options, callback);

describe("publishing on another worker", () => {
  let db: TestDatabase;
  let root: string;
  beforeAll(async () => {
    db = await openTestDatabase("pglite");
    root = await mkdtemp(path.join(tmpdir(), "tasks-publish-worker-"));
  });
  afterAll(async () => {
    await db?.close();
    await rm(root, { recursive: true, force: true });
  });

  /** A local repository with one commit, a task on it, and the coder's stage run by worker 1. */
  async function coderRanOnWorker1(name: string, installationId: number) {
    const repoPath = path.join(root, name);
    await mkdir(repoPath);
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(repoPath, "README.md"), "# App\n");
    git(repoPath, "add", "README.md");
    git(repoPath, "commit", "--quiet", "-m", "readme");
    const base = git(repoPath, "rev-parse", "HEAD");

    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam(`Publish ${name}`);
    await tasks.addTeamMember(team.id, { externalId: `${name}-user` });
    await tasks.addIntegration(team.id, { installationId, repositories: [`local/${name}`] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title: "Dark mode", description: "d", originProduct: "user_created", userId: `${name}-user`, repository: `local/${name}` });
    const [run] = (await tasks.getTask(undefined, task.id)).runs;
    const ref = { taskId: task.id, runId: run!.id, attempt: run!.attempt };
    const branch = `tasks/${task.slug.toLowerCase()}-dark-mode`;

    const sandboxes = createTempDirProvider();
    const proposals: LocalPullRequestText[] = [];
    /** A worker: its own workspace directory, the shared sandboxes and repository. */
    const worker = (label: string, options: { execFile?: ExecFileFn; host?: (host: RepositoryHost) => RepositoryHost } = {}) => {
      const controlGit = createGit({ env: gitEnv, ...(options.execFile ? { execFile: options.execFile } : {}) });
      const host = createLocalRepositoryHost({ repoPath, git: controlGit, runGit: createGitRunner({ env: gitEnv }), onProposed: (text) => proposals.push(text) });
      const workspaceRoot = path.join(root, `${name}-${label}`);
      const work = createSandboxStageWork({
        db: db.prisma,
        host: options.host ? options.host(host) : host,
        sandboxes,
        git: controlGit,
        workspaceRoot,
        sandboxTimeoutMs: 60_000,
        agentTimeoutMs: 60_000,
        publicUrl: null,
        webUrl: "https://github.com",
        agentFor: () => coder,
        log,
      });
      return { work, clone: path.join(workspaceRoot, ref.runId) };
    };
    const publishRequest = { ...ref, stage: "complete", stageName: "Complete", reviewNotesRef: null };
    const signal = new AbortController().signal;

    const worker1 = worker("worker-1");
    await createPipelineActivities({ db: db.prisma, flags, work: worker1.work, log }).loadRun(ref);
    await worker1.work.runAgent({ ...ref, stage: "code", stageName: "Code", role: "coder", iteration: 0, reviewNotesRef: null }, signal);
    expect(git(worker1.clone, "rev-parse", "HEAD")).toBe(base);

    const done = async () => {
      for (const sandbox of sandboxes.sandboxes) await sandbox.cleanup();
    };
    return { repoPath, base, ref, branch, worker, worker1, proposals, publish: (w: { work: typeof worker1.work }) => w.work.publish(publishRequest, signal), done };
  }

  /** The task branch holds exactly one commit, on the run's base, with the coder's change. */
  function expectOneCommitOnBase(repoPath: string, branch: string, base: string): string {
    const head = git(repoPath, "rev-parse", `refs/heads/${branch}`);
    expect(git(repoPath, "rev-list", `${base}..${branch}`)).toBe(head);
    expect(git(repoPath, "rev-parse", `${branch}^`)).toBe(base);
    expect(git(repoPath, "show", `${branch}:README.md`)).toBe("# App\n\nNow with dark mode.");
    expect(git(repoPath, "show", `${branch}:dark.css`)).toBe("body { background: black; }");
    return head;
  }

  it("makes the clone again from the host at the run's base, though the base branch moved on", async () => {
    const run = await coderRanOnWorker1("moved", 41_001);
    try {
      // Someone merges to main between the coder and the publish.
      await writeFile(path.join(run.repoPath, "NEWS.md"), "news\n");
      git(run.repoPath, "add", "NEWS.md");
      git(run.repoPath, "commit", "--quiet", "-m", "news");

      const worker2 = run.worker("worker-2");
      expect(existsSync(worker2.clone)).toBe(false);
      const output = await run.publish(worker2);

      expect(output).toEqual({ prUrl: null, note: `branch ${run.branch} created` });
      const head = expectOneCommitOnBase(run.repoPath, run.branch, run.base);
      expect(git(run.repoPath, "ls-tree", "--name-only", run.branch)).not.toContain("NEWS.md");
      expect(git(worker2.clone, "rev-parse", "HEAD")).toBe(head);
      expect(run.proposals.map((p) => p.branch)).toEqual([run.branch]);
      expect((await db.prisma.task.findUniqueOrThrow({ where: { id: run.ref.taskId } })).branch).toBe(run.branch);
      // Worker 1's clone was never needed, nor touched.
      expect(git(run.worker1.clone, "rev-parse", "HEAD")).toBe(run.base);
    } finally {
      await run.done();
    }
  });

  it("fetches the base when the branch was rewritten without it, and fails for good when the host has lost it", async () => {
    const run = await coderRanOnWorker1("rewritten", 41_002);
    try {
      const keep = path.join(root, "rewritten-keep");
      git(root, "clone", "--quiet", run.repoPath, keep);
      // main is force-rewritten and the old history collected: the base is gone from the host.
      git(run.repoPath, "checkout", "--quiet", "--orphan", "fresh");
      git(run.repoPath, "commit", "--quiet", "-m", "fresh start");
      git(run.repoPath, "branch", "--quiet", "-M", "fresh", "main");
      git(run.repoPath, "reflog", "expire", "--expire=now", "--all");
      git(run.repoPath, "gc", "--quiet", "--prune=now");

      const worker2 = run.worker("worker-2");
      const lost = await failureOf(run.publish(worker2));
      expect(isPermanent(lost)).toBe(true);
      expect(lost.message).toBe(`the commit this run started from (${run.base}) is no longer in local/rewritten; retry the task`);
      expect(existsSync(worker2.clone)).toBe(false);
      expect(existsSync(`${worker2.clone}.recovering`)).toBe(false);

      // The old base comes back under a tag: main does not reach it, so it is fetched by sha.
      git(keep, "push", "--quiet", run.repoPath, `${run.base}:refs/tags/old-base`);
      await run.publish(worker2);
      expectOneCommitOnBase(run.repoPath, run.branch, run.base);
      expect(run.proposals).toHaveLength(1);
    } finally {
      await run.done();
    }
  });

  it("adopts the commit an earlier attempt pushed before it died, instead of pushing a twin", async () => {
    const run = await coderRanOnWorker1("adopt", 41_003);
    try {
      // Worker 1 commits (backdated, so any later commit of the same change differs) and pushes, then dies before recording anything.
      const died = new Error("worker 1 died after the push");
      const worker1 = run.worker("worker-1", {
        execFile: backdatedExecFile,
        host: (host) => ({ ...host, pushBranch: async (context, input) => (await host.pushBranch(context, input), Promise.reject(died)) }),
      });
      expect(await failureOf(run.publish(worker1))).toBe(died);
      const pushed = git(run.repoPath, "rev-parse", `refs/heads/${run.branch}`);
      expect(git(run.repoPath, "log", "-1", "--format=%ct", pushed)).toBe("1577836800");
      expect((await db.prisma.task.findUniqueOrThrow({ where: { id: run.ref.taskId } })).branch).toBeNull();
      expect(run.proposals).toEqual([]);

      const worker2 = run.worker("worker-2");
      await run.publish(worker2);

      expect(expectOneCommitOnBase(run.repoPath, run.branch, run.base)).toBe(pushed);
      expect(git(worker2.clone, "rev-parse", "HEAD")).toBe(pushed);
      expect(run.proposals.map((p) => p.branch)).toEqual([run.branch]);
      expect((await db.prisma.task.findUniqueOrThrow({ where: { id: run.ref.taskId } })).branch).toBe(run.branch);

    } finally {
      await run.done();
    }
  });

  it("adopts it over its own unpushed commit when the attempt that pushed ran elsewhere", async () => {
    const run = await coderRanOnWorker1("stale", 41_005);
    try {
      // Worker 1 commits, then dies before its push; worker 2 (backdated) pushes the same change and dies before recording it.
      const beforePush = new Error("worker 1 died before the push");
      await failureOf(run.publish(run.worker("worker-1", { host: (host) => ({ ...host, pushBranch: () => Promise.reject(beforePush) }) })));
      const unpushed = git(run.worker1.clone, "rev-parse", "HEAD");
      expect(git(run.worker1.clone, "rev-parse", "HEAD^")).toBe(run.base);
      const afterPush = new Error("worker 2 died after the push");
      const worker2 = run.worker("worker-2", {
        execFile: backdatedExecFile,
        host: (host) => ({ ...host, pushBranch: async (context, input) => (await host.pushBranch(context, input), Promise.reject(afterPush)) }),
      });
      expect(await failureOf(run.publish(worker2))).toBe(afterPush);
      const pushed = git(run.repoPath, "rev-parse", `refs/heads/${run.branch}`);
      expect(pushed).not.toBe(unpushed);

      // The retry lands on worker 1 again, whose clone still holds its own commit.
      await run.publish(run.worker("worker-1"));
      expect(expectOneCommitOnBase(run.repoPath, run.branch, run.base)).toBe(pushed);
      expect(git(run.worker1.clone, "rev-parse", "HEAD")).toBe(pushed);
      expect(run.proposals.map((p) => p.branch)).toEqual([run.branch]);
    } finally {
      await run.done();
    }
  });

  it("does not adopt a different change on the task branch, and overwrites nothing", async () => {
    const run = await coderRanOnWorker1("foreign", 41_004);
    try {
      const other = path.join(root, "foreign-other");
      git(root, "clone", "--quiet", run.repoPath, other);
      await writeFile(path.join(other, "README.md"), "# App\n\nSomething else.\n");
      git(other, "commit", "--quiet", "-am", "someone else's change");
      git(other, "push", "--quiet", "origin", `HEAD:refs/heads/${run.branch}`);
      const theirs = git(other, "rev-parse", "HEAD");

      const refused = await failureOf(run.publish(run.worker("worker-2")));
      expect(isPermanent(refused)).toBe(true);
      expect(refused.message).toContain(`the branch ${run.branch} already exists`);
      expect(git(run.repoPath, "rev-parse", `refs/heads/${run.branch}`)).toBe(theirs);
      expect(run.proposals).toEqual([]);
    } finally {
      await run.done();
    }
  });
});
