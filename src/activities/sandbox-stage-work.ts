// The real stage work: agents run in the run's sandbox, and Complete turns the coder's working
// tree into a commit, a push and a draft pull request — made by the control plane, after the
// diff policy and the secret scan have passed.
import { rm } from "node:fs/promises";
import type { Logger } from "../lib/logger.ts";
import type { AgentRuntime } from "../agent/agent-runtime.ts";
import { buildPrompt } from "../agent/prompts.ts";
import { parseReviewVerdict } from "../agent/review-verdict.ts";
import { upsertStageCheckRun } from "../github/check-runs.ts";
import type { AgentOutput, PublishOutput } from "../pipeline/activities.ts";
import type { RunRef } from "../pipeline/types.ts";
import { SandboxGoneError } from "../sandbox/sandbox.ts";
import { createAgentLog } from "./agent-log.ts";
import { publishChanges } from "./publish-changes.ts";
import { withoutSecrets } from "./without-secrets.ts";
import { createRunContexts, type RunContext } from "./run-context.ts";
import { controlCloneDir, ensureSandbox, type CheckoutDeps } from "./sandbox-checkout.ts";
import { isPermanentFailure, type AgentRequest, type PublishRequest, type StageWork } from "./stage-work.ts";

export interface GitHubStageWorkDeps extends CheckoutDeps {
  publicUrl: string;
  /** The agent runtime for a repository's choice (tasks.yml `agent.runtime`), or the server's. */
  agentFor(runtime: "claude" | "codex" | "command" | undefined): AgentRuntime;
  agentTimeoutMs: number;
  log: Logger;
}


export function createGitHubStageWork(deps: GitHubStageWorkDeps): StageWork {
  const contexts = createRunContexts(deps.db, deps.github);

  async function stageName(taskId: string, key: string): Promise<string> {
    const task = await deps.db.task.findUniqueOrThrow({ where: { id: taskId }, select: { workflowId: true } });
    return (await deps.db.stage.findUnique({ where: { workflowId_key: { workflowId: task.workflowId, key } } }))?.name ?? key;
  }

  async function reportCheck(context: RunContext, stage: string, update: { status: "in_progress" | "completed"; conclusion?: "success" | "failure" | "cancelled"; summary: string }) {
    const run = await deps.db.taskRun.findUniqueOrThrow({ where: { id: context.runId }, select: { baseSha: true } });
    if (!run.baseSha) return;
    const summary = await withoutSecrets(`check run ${stage}`, update.summary);
    try {
      const octokit = await deps.github.auth(context.installationId);
      await upsertStageCheckRun(octokit, {
        owner: context.owner,
        repo: context.repo,
        headSha: run.baseSha,
        stageName: await stageName(context.taskId, stage),
        externalId: `${context.runId}:${stage}`,
        status: update.status,
        ...(update.conclusion ? { conclusion: update.conclusion } : {}),
        title: `${context.slug}: ${update.status === "in_progress" ? "running" : update.conclusion}`,
        summary,
        detailsUrl: `${deps.publicUrl}/api/tasks/${context.taskId}`,
      });
    } catch (error) {
      deps.log.warn({ err: error, runId: context.runId, stage }, "could not update the check run");
    }
  }

  async function inputsFor(request: AgentRequest) {
    const outputs = await deps.db.stageOutput.findMany({ where: { runId: request.runId }, orderBy: { createdAt: "asc" } });
    const plan = outputs.filter((o) => o.role === "planner").at(-1)?.text ?? null;
    const reviewNotes = request.reviewNotesRef ? ((await deps.db.stageOutput.findUnique({ where: { id: request.reviewNotesRef } }))?.text ?? null) : null;
    return { plan, reviewNotes };
  }

  return {
    async runAgent(request, signal): Promise<AgentOutput> {
      const context = await contexts.get(request);
      const sandbox = await ensureSandbox(deps, context, request.role === "planner");
      await reportCheck(context, request.stage, { status: "in_progress", summary: `${request.role} running` });
      const log = createAgentLog(deps.db, { taskId: request.taskId, runId: request.runId, stage: request.stage });
      const { plan, reviewNotes } = await inputsFor(request);
      const prompt = buildPrompt(request.role, {
        slug: context.slug,
        title: context.title,
        description: context.description,
        repository: context.repository,
        plan,
        reviewNotes,
        instructions: context.followupInstructions,
        iteration: request.iteration,
      });
      try {
        const result = await deps.agentFor(context.config.agent?.runtime).run({
          role: request.role,
          slug: context.slug,
          prompt,
          sandbox,
          timeoutMs: deps.agentTimeoutMs,
          signal,
          onOutput: (line) => log.line(line),
          model: context.config.agent?.model,
        });
        await log.flush();
        const stored = await deps.db.stageOutput.upsert({
          where: { runId_stage_iteration: { runId: request.runId, stage: request.stage, iteration: request.iteration } },
          create: { runId: request.runId, stage: request.stage, iteration: request.iteration, role: request.role, text: result.output },
          update: { text: result.output, role: request.role },
        });
        const verdict = request.role === "reviewer" ? parseReviewVerdict(result.output) : null;
        await reportCheck(context, request.stage, { status: "completed", conclusion: "success", summary: result.output });
        return { verdict, outputRef: stored.id };
      } catch (error) {
        await log.flush();
        const cancelled = signal.aborted;
        await reportCheck(context, request.stage, { status: "completed", conclusion: cancelled ? "cancelled" : "failure", summary: cancelled ? "cancelled" : (error as Error).message });
        throw error;
      }
    },

    async publish(request: PublishRequest, signal): Promise<PublishOutput> {
      const context = await contexts.get(request);
      const sandbox = await ensureSandbox(deps, context, false);
      try {
        return await publishChanges(deps, context, sandbox, request, signal);
      } catch (error) {
        if (isPermanentFailure(error)) await reportCheck(context, request.stage, { status: "completed", conclusion: "failure", summary: error.message });
        throw error;
      }
    },

    async cleanup(run: RunRef): Promise<void> {
      contexts.forget(run.runId);
      const row = await deps.db.taskRun.findUnique({ where: { id: run.runId }, select: { sandboxId: true } });
      if (row?.sandboxId) {
        try {
          const sandbox = await deps.sandboxes.connect(row.sandboxId, { taskId: run.taskId, runId: run.runId, timeoutMs: 60_000 });
          await sandbox.kill();
        } catch (error) {
          if (!(error instanceof SandboxGoneError)) throw error;
        }
      }
      await rm(controlCloneDir(deps, run.runId), { recursive: true, force: true });
    },
  };
}
