// The sandbox stage work with a real database, a real local repository and real git in a temp
// directory sandbox; only the agent is a stand-in that records the prompt it was given.
import { execFileSync } from "node:child_process";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPipelineActivities } from "../../src/activities/create-activities.ts";
import type { AgentRunRequest, AgentRuntime } from "../../src/agent/agent-runtime.ts";
import { createModelGateway } from "../../src/gateway/create-model-gateway.ts";
import { createGit } from "../../src/git/git.ts";
import { isPermanent, PermanentFailure } from "../../src/lib/errors.ts";
import { createGitRunner } from "../../src/git/git-runner.ts";
import { createLocalRepositoryHost } from "../../src/repository-host/local-repository-host.ts";
import { createSandboxStageWork, type SandboxStageWorkDeps } from "../../src/stage-work/sandbox-stage-work.ts";
import { createLocalFlagChecker } from "../../src/tasks/feature-flags.ts";
import { createTasksService } from "../../src/tasks/service.ts";
import { createTempDirProvider, failureOf } from "../agent/test-sandboxes.ts";
import { startFakeUpstream } from "../gateway/fake-upstream.ts";
import { openTestDatabase, testDatabases, type TestDatabase } from "../helpers/databases.ts";
import { createRecordingOrchestrator } from "../helpers/recording-orchestrator.ts";

const log = pino({ level: "silent" });
const gitEnv = { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: tmpdir() };
const git = (cwd: string, ...args: string[]) => execFileSync("git", args, { cwd, encoding: "utf8", env: { ...gitEnv, GIT_CONFIG_NOSYSTEM: "1", GIT_CONFIG_GLOBAL: "/dev/null" } }).trim();


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

  /** A local repository with one commit, and a task on it with its first run. */
  async function repositoryWithRun(name: string, installationId: number, title: string) {
    const repoPath = path.join(root, name);
    await mkdir(repoPath);
    git(repoPath, "init", "--quiet", "--initial-branch=main");
    await writeFile(path.join(repoPath, "README.md"), "# App\n");
    git(repoPath, "add", "README.md");
    git(repoPath, "-c", "user.name=Me", "-c", "user.email=me@example.com", "commit", "--quiet", "-m", "readme");
    const base = git(repoPath, "rev-parse", "HEAD");

    const flags = createLocalFlagChecker(db.prisma);
    const tasks = createTasksService({ db: db.prisma, flags, orchestrator: createRecordingOrchestrator(), log });
    const team = await tasks.createTeam(`Stage work ${name}`);
    await tasks.addTeamMember(team.id, { externalId: `${name}-user` });
    await tasks.addIntegration(team.id, { installationId, repositories: [`local/${name}`] });
    const { task } = await tasks.createAndRun({ teamId: team.id, title, description: "d", originProduct: "user_created", userId: `${name}-user`, repository: `local/${name}` });
    const [run] = (await tasks.getTask(undefined, task.id)).runs;
    const ref = { taskId: task.id, runId: run!.id, attempt: run!.attempt };
    return { repoPath, base, flags, tasks, task, ref };
  }

  /** The stage work over that repository, with temp-dir sandboxes and the given agent. */
  function stageWorkFor(repoPath: string, agent: AgentRuntime, extra: Partial<SandboxStageWorkDeps> = {}) {
    const sandboxes = createTempDirProvider();
    const controlGit = createGit({ env: gitEnv });
    const work = createSandboxStageWork({
      db: db.prisma,
      host: createLocalRepositoryHost({ repoPath, git: controlGit, runGit: createGitRunner({ env: gitEnv }) }),
      sandboxes,
      git: controlGit,
      workspaceRoot: path.join(root, `control-${path.basename(repoPath)}`),
      sandboxTimeoutMs: 60_000,
      agentTimeoutMs: 60_000,
      publicUrl: null,
      webUrl: "https://github.com",
      agentFor: () => agent,
      log,
      ...extra,
    });
    return { work, sandboxes };
  }

  it("tells the reviewer the commit the checkout started from, so it diffs against it", async () => {
    const { repoPath, base, flags, ref } = await repositoryWithRun("app", 31_337, "Review it");
    const agent = createRecordingAgent();
    const { work, sandboxes } = stageWorkFor(repoPath, agent);
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

  it("fails the stage with the token budget once the gateway refuses the run, and revokes the token at cleanup", async () => {
    const { repoPath, flags, tasks, task, ref } = await repositoryWithRun("budget", 31_338, "Spend it");
    await db.prisma.taskRun.update({ where: { id: ref.runId }, data: { status: "running" } });

    // A real gateway in front of a fake vendor whose one answer uses more than the budget.
    const upstream = await startFakeUpstream();
    upstream.answer((_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ type: "message", usage: { input_tokens: 900, output_tokens: 150 } })));
    const settings = { anthropic: { baseUrl: upstream.url, apiKey: "sk-ant-server" }, openai: { baseUrl: upstream.url, apiKey: undefined }, runTokenBudget: 1_000 };
    const handle = createModelGateway({ db: db.prisma, settings, log });
    const server = http.createServer((req, res) => void handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const gatewayUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const callModel = (token: string) => fetch(`${gatewayUrl}/model/anthropic/v1/messages`, { method: "POST", headers: { "x-api-key": token }, body: "{}" });

    // The agent's stand-in calls the model until the gateway refuses, as Claude Code would.
    const tokens: string[] = [];
    const agent: AgentRuntime = {
      name: "claude",
      async run(request) {
        expect(request.gateway?.url).toBe(gatewayUrl);
        tokens.push(request.gateway!.token);
        for (;;) {
          const answer = await callModel(request.gateway!.token);
          // Read to the end, as a real client does: the answer's usage is stored before its last byte.
          const text = await answer.text();
          if (!answer.ok) throw new PermanentFailure(`Claude Code failed: API Error: ${answer.status} ${text}`);
        }
      },
    };
    const { work, sandboxes } = stageWorkFor(repoPath, agent, { gateway: { url: gatewayUrl, runTokenBudget: 1_000 } });
    await createPipelineActivities({ db: db.prisma, flags, work, log }).loadRun(ref);

    try {
      const failure = await failureOf(work.runAgent({ ...ref, stage: "code", stageName: "Code", role: "coder", iteration: 0, reviewNotesRef: null }, new AbortController().signal));
      expect(isPermanent(failure)).toBe(true);
      expect(failure.message).toBe("token budget exceeded (1050 of 1000)");
      expect(upstream.requests).toHaveLength(1);
      expect(tokens).toHaveLength(1);
      expect(tokens[0]).toMatch(/^tgw_/);
      expect((await callModel(tokens[0]!)).status).toBe(402);
      await work.cleanup(ref);
      expect((await callModel(tokens[0]!)).status).toBe(401);
    } finally {
      await work.cleanup(ref);
      for (const sandbox of sandboxes.sandboxes) await sandbox.cleanup();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await upstream.close();
    }
    expect(await db.prisma.taskRun.findUniqueOrThrow({ where: { id: ref.runId }, select: { inputTokens: true, outputTokens: true } })).toEqual({ inputTokens: 900, outputTokens: 150 });
    expect((await tasks.trackingState(task.id)).view.usage).toEqual({ inputTokens: 900, outputTokens: 150 });
  });
});
