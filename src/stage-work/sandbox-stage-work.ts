// The real stage work: agents run in the run's sandbox, and Complete turns the coder's working
// tree into a commit, a push and a proposed change (a draft pull request on GitHub) — made by
// the control plane, after the diff policy and the secret scan have passed. Where the
// repository lives (GitHub, a local directory) is the RepositoryHost's business.
import { rm } from "node:fs/promises";
import type { Logger } from "../lib/logger.ts";
import type { AgentRuntime } from "../agent/agent-runtime.ts";
import { buildPrompt } from "../agent/prompts.ts";
import { parseReviewVerdict } from "../agent/review-verdict.ts";
import type { AgentOutput, PublishOutput } from "../pipeline/activities.ts";
import type { RunRef } from "../pipeline/types.ts";
import { SandboxGoneError } from "../sandbox/sandbox.ts";
import { findRunCheckout, findTaskPublication } from "../db/run-workspace.ts";
import { listStageOutputs, saveStageOutput } from "../db/stage-outputs.ts";
import { createAgentLog, RunLogBudget } from "./agent-log.ts";
import { publishChanges } from "./publish-changes.ts";
import { createRunContexts } from "./run-context.ts";
import { controlCloneDir, ensureSandbox, type CheckoutDeps } from "./sandbox-checkout.ts";
import type { StageReport } from "./repository-host.ts";
import { type AgentRequest, type PublishRequest, type StageWork } from "./stage-work.ts";
import { isPermanent } from "../lib/errors.ts";
import { LatestWins } from "../lib/latest-wins.ts";
import { revokeRunToken } from "../gateway/run-tokens.ts";
import { explainFailure, modelAccessFor, type ModelGatewaySettings } from "./model-access.ts";

export interface SandboxStageWorkDeps extends CheckoutDeps {
  /** Base URL of the server's task pages, linked from the pull request; null without a server (local runs). */
  publicUrl: string | null;
  /** GitHub's web URL (GHES-aware), for co-authors' noreply addresses. */
  webUrl: string;
  /** The agent runtime for a repository's choice (tasks.yml `agent.runtime`), or the server's. */
  agentFor(runtime: "claude" | "codex" | "command" | undefined): AgentRuntime;
  agentTimeoutMs: number;
  /** The largest diff publishing moves out of a sandbox (default `maxPatchBytes`, 64 MiB); tests lower it. */
  maxPatchBytes?: number;
  /**
   * True where a run's next step may run in another process (Temporal workers): a stage's final
   * check run is then on GitHub when its step ends. In one process (the embedded runner) the
   * stage goes on at once, and the run's end waits for its check runs (progressSettled).
   */
  awaitStageReports?: boolean;
  /** Where model-backed agents reach the model gateway, and the run's budget; without it they cannot run. */
  gateway?: ModelGatewaySettings;
  log: Logger;
}

export function createSandboxStageWork(deps: SandboxStageWorkDeps): StageWork {
  const contexts = createRunContexts(deps.db, deps.host);
  // The agent log's cap is per run, across its stages; kept in memory (a restarted process starts afresh).
  const logBudgets = new Map<string, RunLogBudget>();
  const logBudgetFor = (runId: string): RunLogBudget => logBudgets.get(runId) ?? logBudgets.set(runId, new RunLogBudget()).get(runId)!;
  // A stage's check run is reported without the stage waiting on GitHub's write budget: one
  // report at a time per check run, "done" replacing a "running" that has not gone out yet.
  const stageReports = new LatestWins();
  const stageEnded = async (reported: Promise<void>) => {
    if (deps.awaitStageReports) await reported;
  };

  /** The plan and the review to address, from the run's outputs (review notes are one of them). */
  async function inputsFor(request: AgentRequest) {
    const outputs = await listStageOutputs(deps.db, request.runId);
    const plan = outputs.filter((o) => o.role === "planner").at(-1)?.text ?? null;
    const reviewNotes = request.reviewNotesRef ? (outputs.find((o) => o.id === request.reviewNotesRef)?.text ?? null) : null;
    return { plan, reviewNotes };
  }

  /**
   * A run that pushed nothing but its start commit (no changes, failed or cancelled before
   * publishing) leaves no branch behind, unless the task has a pull request on it. Never fails
   * the cleanup: a branch that stays is untidy, not wrong.
   */
  async function dropUnusedTaskBranch(run: RunRef, startSha: string): Promise<void> {
    if (!deps.host.showsStageProgress) return; // no start commit was pushed: the branch is the result
    try {
      const task = await findTaskPublication(deps.db, run.taskId);
      if (!task?.branch || task.prUrl !== null) return;
      await deps.host.deleteBranch(await contexts.get(run), task.branch, startSha);
    } catch (error) {
      deps.log.warn({ err: error, runId: run.runId }, "could not delete the task branch of a run that pushed no change");
    }
  }

  return {
    async runAgent(request, signal): Promise<AgentOutput> {
      const context = await contexts.get(request);
      const { sandbox, baseSha } = await ensureSandbox(deps, context, request.role === "planner");
      const report = (update: Pick<StageReport, "status" | "conclusion" | "summary">) =>
        stageReports.submit(`${request.runId}:${request.stage}:${baseSha}`, () =>
          deps.host.reportStage(context, { stage: request.stage, stageName: request.stageName, headSha: baseSha, ...update }),
        );
      void report({ status: "in_progress", summary: `${request.role} running` });
      const log = createAgentLog(deps.db, { taskId: request.taskId, runId: request.runId, stage: request.stage }, logBudgetFor(request.runId));
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
        // The reviewer diffs the working tree against the commit the checkout started from.
        baseRef: baseSha,
      });
      try {
        const runtime = deps.agentFor(context.config.agent?.runtime);
        const gateway = await modelAccessFor(deps.db, runtime, deps.gateway, request.runId);
        const result = await runtime.run({
          role: request.role,
          slug: context.slug,
          prompt,
          sandbox,
          timeoutMs: deps.agentTimeoutMs,
          signal,
          onOutput: (line) => log.line(line),
          model: context.config.agent?.model,
          gateway,
        });
        await log.flush();
        const { runId, stage, iteration, role } = request;
        const outputRef = await saveStageOutput(deps.db, { runId, stage, iteration, role, text: result.output });
        const verdict = role === "reviewer" ? parseReviewVerdict(result.output) : null;
        await stageEnded(report({ status: "completed", conclusion: "success", summary: result.output }));
        return { verdict, outputRef };
      } catch (thrown) {
        await log.flush();
        const cancelled = signal.aborted;
        const error = cancelled ? thrown : await explainFailure(deps.db, deps.gateway, request.runId, thrown);
        await stageEnded(report({ status: "completed", conclusion: cancelled ? "cancelled" : "failure", summary: cancelled ? "cancelled" : (error as Error).message }));
        throw error;
      }
    },

    async publish(request: PublishRequest, signal): Promise<PublishOutput> {
      const context = await contexts.get(request);
      const checkout = await ensureSandbox(deps, context, false);
      try {
        return await publishChanges(deps, context, checkout, request, signal);
      } catch (error) {
        if (isPermanent(error)) {
          const { stage, stageName } = request;
          await deps.host.reportStage(context, { stage, stageName, headSha: checkout.baseSha, status: "completed", conclusion: "failure", summary: error.message });
        }
        throw error;
      }
    },

    progressSettled: (run: Pick<RunRef, "runId">) => stageReports.settled(`${run.runId}:`),

    async cleanup(run: RunRef): Promise<void> {
      const row = await findRunCheckout(deps.db, run.runId);
      if (row?.baseSha) await dropUnusedTaskBranch(run, row.baseSha);
      contexts.forget(run.runId);
      // The run is over: its model token stops working now, not only once the run's status changes.
      await revokeRunToken(deps.db, run.runId);
      logBudgets.delete(run.runId);
      if (row?.sandboxId) {
        try {
          const sandbox = await deps.sandboxes.connect(row.sandboxId, { taskId: run.taskId, runId: run.runId, timeoutMs: 60_000 });
          await sandbox.kill();
        } catch (error) {
          if (!(error instanceof SandboxGoneError)) throw error;
        }
      }
      await rm(controlCloneDir(deps, run.runId), { recursive: true, force: true });
      // What a worker killed while recovering the clone on publish left behind.
      await rm(`${controlCloneDir(deps, run.runId)}.recovering`, { recursive: true, force: true });
    },
  };
}
