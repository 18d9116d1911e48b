// The pipeline's activities for real: bookkeeping in the database (stage, status, events) and
// the stage work behind the StageWork port. Every activity is safe to run twice.
import type { Logger } from "../lib/logger.ts";
import { Prisma, type PrismaClient } from "../generated/prisma/client.ts";
import type { PipelineActivities } from "../pipeline/activities.ts";
import { defaultMaxReviewLoops } from "../pipeline/machine.ts";
import type { Outcome, PipelineInput, RunRef, StageSpec } from "../pipeline/types.ts";
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
}

const stillOpen = { notIn: ["completed", "cancelled", "failed"] as ("completed" | "cancelled" | "failed")[] };

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

  async function stageId(taskId: string, key: string): Promise<{ id: string; name: string }> {
    const task = await db.task.findUniqueOrThrow({ where: { id: taskId }, select: { workflowId: true } });
    return db.stage.findUniqueOrThrow({ where: { workflowId_key: { workflowId: task.workflowId, key } }, select: { id: true, name: true } });
  }

  return {
    async loadRun(run) {
      const row = await db.taskRun.findUniqueOrThrow({ where: { id: run.runId }, include: { task: { include: { currentStage: true } } } });
      if (row.pipelineInput) return row.pipelineInput as unknown as PipelineInput;
      const stages = await db.stage.findMany({ where: { workflowId: row.task.workflowId }, orderBy: { position: "asc" } });
      const input: PipelineInput = {
        ...run,
        stages: stages.map((s): StageSpec => ({ key: s.key, name: s.name, agentRole: s.agentRole, requiresApproval: s.requiresApproval, opensPullRequest: s.opensPullRequest })),
        startStage: row.task.currentStage?.key ?? stages[0]?.key ?? "",
        kind: row.kind === "followup" ? "followup" : "initial",
        maxReviewLoops: defaultMaxReviewLoops,
      };
      // First writer wins, so a retried load returns what the first one fixed.
      await db.taskRun.updateMany({ where: { id: run.runId, pipelineInput: { equals: Prisma.DbNull } }, data: { pipelineInput: input as unknown as Prisma.InputJsonValue } });
      const stored = await db.taskRun.findUniqueOrThrow({ where: { id: run.runId }, select: { pipelineInput: true } });
      return (stored.pipelineInput as unknown as PipelineInput | null) ?? input;
    },

    async checkFlag(run) {
      const task = await db.task.findUniqueOrThrow({ where: { id: run.taskId }, include: { createdBy: true } });
      return { enabled: await deps.flags.isEnabled(tasksFlag, { teamId: task.teamId, distinctId: task.createdBy?.externalId ?? task.teamId }) };
    },

    async enterStage({ taskId, runId, stage }) {
      const { id, name } = await stageId(taskId, stage);
      await db.$transaction([
        db.taskRun.updateMany({ where: { id: runId, status: "queued" }, data: { status: "running" } }),
        db.taskRun.updateMany({ where: { id: runId, startedAt: null }, data: { startedAt: new Date() } }),
        db.task.updateMany({ where: { id: taskId, status: stillOpen }, data: { currentStageId: id, status: "running" } }),
        db.taskEvent.create({ data: { taskId, runId, type: "stage_entered", message: `entered ${name}`, data: { stage } } }),
      ]);
      await deps.progress?.report({ taskId, runId });
    },

    async runAgent(args, signal) {
      return deps.work.runAgent(args, signal ?? new AbortController().signal);
    },

    async markWaiting({ taskId, runId, stage }) {
      const { name } = await stageId(taskId, stage);
      await db.$transaction([
        db.task.updateMany({ where: { id: taskId, status: stillOpen }, data: { status: "waiting_approval" } }),
        db.taskEvent.create({ data: { taskId, runId, type: "waiting_approval", message: `${name} waits for approval`, data: { stage } } }),
      ]);
      await deps.progress?.report({ taskId, runId });
    },

    async publish(args, signal) {
      return deps.work.publish(args, signal ?? new AbortController().signal);
    },

    async finish({ taskId, runId, outcome }) {
      const stageKey = outcome.status === "completed" ? null : outcome.stage;
      // An engine failure names no real stage; fall back to the key.
      const stageName = stageKey ? ((await stageId(taskId, stageKey).catch(() => undefined))?.name ?? stageKey) : "";
      const message = outcomeMessage(outcome, stageName);
      await db.$transaction([
        db.taskRun.updateMany({
          where: { id: runId },
          data: { status: outcome.status, finishedAt: new Date(), error: outcome.status === "failed" ? message : null },
        }),
        // A task cancelled by a person stays cancelled, whatever its run was doing.
        db.task.updateMany({
          where: { id: taskId, status: { not: "cancelled" } },
          data: { status: outcome.status, ...(outcome.status === "completed" && outcome.prUrl ? { prUrl: outcome.prUrl } : {}) },
        }),
        db.taskEvent.create({ data: { taskId, runId, type: `run_${outcome.status}`, message, data: outcome as unknown as Prisma.InputJsonValue } }),
      ]);
      await deps.progress?.report({ taskId, runId });
    },

    async cleanup(run: RunRef) {
      await deps.work.cleanup(run);
    },
  };
}

