// The task page's read model: the task with its stage timeline, the plan and review notes, the
// runs with their usage per model and its cost, and the log. Another team's task is not found (findTaskRow's rule).
import type { AgentRole, TaskStatus } from "../generated/prisma/client.ts";
import type { Db } from "../db/client.ts";
import { listWorkflowStages } from "../db/dashboard-reads.ts";
import { listRunModelUsage, type ModelUsage } from "../db/run-model-usage.ts";
import { listStageOutputs } from "../db/stage-outputs.ts";
import { listRecentTaskEvents } from "../db/task-events.ts";
import { listRunsOfTask } from "../db/task-runs.ts";
import { costOf, totalCost, type CostTotal, type ModelCost } from "../lib/model-prices.ts";
import { findTaskRow } from "./task-queries.ts";
import { activeRunStatuses, finishedTaskStatuses } from "./task-status.ts";
import { toEventView, toRunView, toTaskView, type EventView, type RunView, type TaskView } from "./task-view.ts";

/** Log entries a page shows; the newest ones. */
export const taskPageEventLimit = 500;

export interface TimelineStage {
  key: string;
  name: string;
  state: "done" | "current" | "pending";
  enteredAt: Date | null;
  requiresApproval: boolean;
  agentRole: AgentRole | null;
}

export interface TaskPageView {
  task: TaskView;
  issueUrl: string | null;
  timeline: TimelineStage[];
  plan: string | null;
  reviewNotes: string | null;
  runs: (RunView & { completion_note: string | null; models: ModelUsageView[]; cost: CostTotal })[];
  events: EventView[];
  usage: { inputTokens: number; outputTokens: number };
  /** The task's cost at list prices over all its runs (models without a price are named, not guessed). */
  cost: CostTotal;
  /** What the approve, cancel and retry buttons may offer; the service checks again. */
  actions: { approve: boolean; cancel: boolean; retry: boolean };
}

function stageOf(event: EventView): string | undefined {
  const data = event.data as { stage?: unknown; to?: unknown } | null;
  const key = event.type === "stage_moved" ? data?.to : data?.stage;
  return typeof key === "string" ? key : undefined;
}

function timelineOf(stages: Awaited<ReturnType<typeof listWorkflowStages>>, task: TaskView, events: EventView[]): TimelineStage[] {
  const entered = new Map<string, Date>();
  for (const event of events) {
    const key = (event.type === "stage_entered" || event.type === "stage_moved") && stageOf(event);
    if (key) entered.set(key, new Date(event.created_at));
  }
  const current = stages.findIndex((stage) => stage.key === task.stage?.key);
  return stages.map((stage, index) => ({
    key: stage.key,
    name: stage.name,
    state: index < current || (index === current && task.status === "completed") ? "done" : index === current ? "current" : "pending",
    enteredAt: entered.get(stage.key) ?? null,
    requiresApproval: stage.requiresApproval,
    agentRole: stage.agentRole,
  }));
}

export interface ModelUsageView extends ModelUsage {
  cost: ModelCost;
}

const retryable: readonly TaskStatus[] = ["failed", "cancelled"];

export async function loadTaskPage(db: Db, teamId: string, ref: string, webUrl: string): Promise<TaskPageView> {
  const row = await findTaskRow(db, teamId, ref);
  const task = toTaskView(row);
  const [stages, runs, events] = await Promise.all([
    listWorkflowStages(db, row.workflowId),
    listRunsOfTask(db, row.id),
    listRecentTaskEvents(db, row.id, taskPageEventLimit),
  ]);
  // The newest plan and review, whichever run wrote them (a follow-up run has no planner).
  const outputs = (await Promise.all(runs.map((run) => listStageOutputs(db, run.id)))).flat();
  const latest = (role: AgentRole) => outputs.filter((output) => output.role === role).at(-1)?.text ?? null;
  const eventViews = events.map(toEventView);
  const modelUsage = (await listRunModelUsage(db, runs.map((run) => run.id))).map((usage) => ({ ...usage, cost: costOf(usage) }));
  const modelsOf = (runId: string): ModelUsageView[] => modelUsage.filter((usage) => usage.runId === runId).map(({ runId: _runId, ...usage }) => usage);
  const hasActiveRun = runs.some((run) => activeRunStatuses.includes(run.status));
  return {
    task,
    issueUrl: row.issueNumber === null ? null : `${webUrl}/${row.repository}/issues/${row.issueNumber}`,
    timeline: timelineOf(stages, task, eventViews),
    plan: latest("planner"),
    reviewNotes: latest("reviewer"),
    runs: runs.map((run) => {
      const models = modelsOf(run.id);
      return { ...toRunView(run), completion_note: run.completionNote, models, cost: totalCost(models.map((usage) => usage.cost)) };
    }),
    events: eventViews,
    usage: runs.reduce((sum, run) => ({ inputTokens: sum.inputTokens + run.inputTokens, outputTokens: sum.outputTokens + run.outputTokens }), { inputTokens: 0, outputTokens: 0 }),
    cost: totalCost(modelUsage.map((usage) => usage.cost)),
    actions: {
      approve: row.status === "waiting_approval",
      cancel: !finishedTaskStatuses.includes(row.status),
      retry: retryable.includes(row.status) && !hasActiveRun,
    },
  };
}
