// The one representation of a task that the API, the CLI and the dashboard show.
import type { TaskEvent, TaskRun } from "../generated/prisma/client.ts";
import type { ModelUsage } from "../db/run-model-usage.ts";
import type { TaskRow } from "../db/tasks.ts";
import { costOf } from "../lib/model-prices.ts";

export interface TaskView {
  id: string;
  number: number;
  slug: string;
  title: string;
  description: string;
  status: TaskRow["status"];
  stage: { key: string; name: string } | null;
  repository: string;
  origin_product: string;
  source: TaskRow["source"];
  issue_number: number | null;
  workflow_id: string;
  branch: string | null;
  pr_url: string | null;
  created_by: string | null;
  created_at: string;
  updated_at: string;
}

export function toTaskView(task: TaskRow): TaskView {
  return {
    id: task.id,
    number: task.number,
    slug: task.slug,
    title: task.title,
    description: task.description,
    status: task.status,
    stage: task.currentStage ? { key: task.currentStage.key, name: task.currentStage.name } : null,
    repository: task.repository,
    origin_product: task.originProduct,
    source: task.source,
    issue_number: task.issueNumber,
    workflow_id: task.workflowId,
    branch: task.branch,
    pr_url: task.prUrl,
    created_by: task.createdBy?.externalId ?? null,
    created_at: task.createdAt.toISOString(),
    updated_at: task.updatedAt.toISOString(),
  };
}

export interface RunView {
  id: string;
  attempt: number;
  status: TaskRun["status"];
  engine: string | null;
  engine_id: string | null;
  error: string | null;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** Model tokens the run used through the model gateway. */
  input_tokens: number;
  output_tokens: number;
}

export function toRunView(run: TaskRun): RunView {
  return {
    id: run.id,
    attempt: run.attempt,
    status: run.status,
    engine: run.engine,
    engine_id: run.engineId,
    error: run.error,
    created_at: run.createdAt.toISOString(),
    started_at: run.startedAt?.toISOString() ?? null,
    finished_at: run.finishedAt?.toISOString() ?? null,
    input_tokens: run.inputTokens,
    output_tokens: run.outputTokens,
  };
}

export interface EventView {
  id: string;
  run_id: string | null;
  type: string;
  message: string | null;
  data: unknown;
  created_at: string;
}

export function toEventView(event: TaskEvent): EventView {
  return {
    id: event.id.toString(),
    run_id: event.runId,
    type: event.type,
    message: event.message,
    data: event.data ?? null,
    created_at: event.createdAt.toISOString(),
  };
}

/** A run's usage of one model and its cost at list price (null when the model has no price). */
export interface ModelUsageView {
  model: string;
  input_tokens: number;
  output_tokens: number;
  cache_read_tokens: number;
  cache_write_tokens: number;
  cost_usd: number | null;
}

export function toModelUsageView(usage: ModelUsage): ModelUsageView {
  const cost = costOf(usage);
  return {
    model: usage.model,
    input_tokens: usage.inputTokens,
    output_tokens: usage.outputTokens,
    cache_read_tokens: usage.cacheReadTokens,
    cache_write_tokens: usage.cacheWriteTokens,
    cost_usd: cost.known ? cost.usd : null,
  };
}

export interface TaskDetailView extends TaskView {
  /** `models`: the run's usage per model (older servers do not send it). */
  runs: (RunView & { models: ModelUsageView[] })[];
  events: EventView[];
}
