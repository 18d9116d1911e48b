// The pipeline's activities for real: bookkeeping in the database (stage, status, events) and
// the stage work behind the StageWork port. Every activity is safe to run twice, and each reads
// what it needs once: stage names come with the command, not from the database.
import type { Logger } from "../lib/logger.ts";
import { noMetrics, secondsSince, type Metrics } from "../lib/metrics.ts";
import type { Prisma, PrismaClient } from "../generated/prisma/client.ts";
import { findFlagSubject, findRunStart, fixPipelineInput } from "../db/run-start.ts";
import { recordRunFinished, recordStageEntered, recordWaiting } from "../db/run-progress.ts";
import type { PipelineActivities } from "../pipeline/activities.ts";
import { defaultMaxReviewLoops } from "../pipeline/machine.ts";
import type { Outcome, PipelineInput, StageSpec } from "../pipeline/types.ts";
import { tasksFlag, type FlagChecker } from "../tasks/feature-flags.ts";
import type { StageWork } from "../stage-work/stage-work.ts";
import type { ProgressReporter } from "./github-progress.ts";

export interface ActivityDeps {
  db: PrismaClient;
  flags: FlagChecker;
  work: StageWork;
  log: Logger;
  /** Keeps GitHub (the tracking comment) in step with the database; optional without an app. */
  progress?: ProgressReporter;
  /** Times each stage's agent and publish steps, and counts finished runs by outcome. */
  metrics?: Metrics;
}

function outcomeMessage(outcome: Outcome, stageName: string): string {
  switch (outcome.status) {
    case "completed":
      return outcome.prUrl ? `completed: ${outcome.prUrl}` : `completed${outcome.note ? `: ${outcome.note}` : ""}`;
    case "failed":
      return `failed in ${stageName}: ${outcome.reason}`;
    case "cancelled":
      return `cancelled in ${stageName}`;
  }
}

export function createPipelineActivities(deps: ActivityDeps): PipelineActivities {
  const { db } = deps;
  const metrics = deps.metrics ?? noMetrics;
  /** Runs one step of a stage and records how long it took and whether it threw. */
  async function timed<T>(stage: string, step: "agent" | "publish", work: () => Promise<T>): Promise<T> {
    const startedAt = performance.now();
    let outcome: "ok" | "error" = "error";
    try {
      const result = await work();
      outcome = "ok";
      return result;
    } finally {
      metrics.stageStepFinished({ stage, step, outcome, seconds: secondsSince(startedAt) });
    }
  }

  return {
    async loadRun(run) {
      const start = await findRunStart(db, run.runId);
      if (start.pipelineInput) return start.pipelineInput as unknown as PipelineInput;
      const input: PipelineInput = {
        ...run,
        stages: start.stages.map((s): StageSpec => ({ key: s.key, name: s.name, agentRole: s.agentRole, requiresApproval: s.requiresApproval, opensPullRequest: s.opensPullRequest })),
        startStage: start.currentStageKey ?? start.stages[0]?.key ?? "",
        kind: start.kind === "followup" ? "followup" : "initial",
        maxReviewLoops: defaultMaxReviewLoops,
      };
      // First writer wins, so a retried load returns what the first one fixed.
      const stored = await fixPipelineInput(db, run.runId, input as unknown as Prisma.InputJsonValue);
      return (stored as unknown as PipelineInput | null) ?? input;
    },

    async checkFlag(run) {
      return { enabled: await deps.flags.isEnabled(tasksFlag, await findFlagSubject(db, run.taskId)) };
    },

    async enterStage({ taskId, runId, stage, stageName }) {
      await recordStageEntered(db, { taskId, runId, stage, stageName });
      // Not awaited: the stage's work need not wait for GitHub's write budget; finish waits for all.
      void deps.progress?.report({ taskId, runId });
    },

    async runAgent(args, signal) {
      return timed(args.stage, "agent", () => deps.work.runAgent(args, signal ?? new AbortController().signal));
    },

    async markWaiting({ taskId, runId, stage, stageName }) {
      await recordWaiting(db, { taskId, runId, stage, stageName });
      void deps.progress?.report({ taskId, runId });
    },

    async publish(args, signal) {
      return timed(args.stage, "publish", () => deps.work.publish(args, signal ?? new AbortController().signal));
    },

    async finish({ taskId, runId, outcome, stageName }) {
      // An engine failure names no real stage: its key is its name.
      const message = outcomeMessage(outcome, outcome.status === "completed" ? "" : (stageName ?? outcome.stage));
      const completed = outcome.status === "completed" ? outcome : null;
      // What the run's stages reported goes out before the run is recorded as over.
      await deps.work.progressSettled?.({ runId });
      await recordRunFinished(db, {
        taskId,
        runId,
        status: outcome.status,
        error: outcome.status === "failed" ? message : null,
        completionNote: completed?.note ?? null,
        prUrl: completed?.prUrl ?? null,
        message,
        outcome: outcome as unknown as Prisma.InputJsonObject,
      });
      metrics.runFinished(outcome.status);
      await deps.progress?.report({ taskId, runId });
    },

    async cleanup(run) {
      await deps.work.cleanup(run);
    },
  };
}
