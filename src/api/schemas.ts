// Request and response schemas of the HTTP API. The same schemas validate requests and
// generate /api/openapi.json, so the document cannot drift from what the server accepts.
import { z } from "@hono/zod-openapi";
import { originProducts } from "../tasks/origin-products.ts";
import type { ListTasksQuery } from "../tasks/task-queries.ts";

const taskStatuses = ["queued", "running", "waiting_approval", "completed", "failed", "cancelled"] as const;

export const ErrorSchema = z
  .object({
    error: z.object({
      code: z.string().openapi({ example: "invalid_repository" }),
      message: z.string(),
      field: z.string().optional().openapi({ description: "The request field at fault, when there is one." }),
    }),
  })
  .openapi("Error");

// NUL characters, which PostgreSQL cannot store, are refused for every field by validation-hook.ts.
const text = (max: number) => z.string().trim().min(1).max(max);

export const CreateTaskBodySchema = z
  .strictObject({
    title: text(300).openapi({ example: "Fix race condition in event ingestion pipeline" }),
    description: text(60_000).openapi({ example: "When processing high-volume events, we see duplicate entries…" }),
    origin_product: z.enum(originProducts),
    user_id: z
      .union([z.string().trim().min(1).max(200), z.number().int().nonnegative()])
      .transform(String)
      .openapi({ description: "The id the calling product knows the user by.", example: "42" }),
    repository: z.string().max(140).openapi({ description: '"org/repo"', example: "posthog/posthog" }),
    workflow_id: z.uuid().optional().openapi({ description: "Defaults to the team's default workflow." }),
  })
  .openapi("CreateTask");

export const StageSchema = z.object({ key: z.string(), name: z.string() }).openapi("Stage");

export const TaskSchema = z
  .object({
    id: z.uuid(),
    number: z.number().int(),
    slug: z.string().openapi({ example: "POS-123" }),
    title: z.string(),
    description: z.string(),
    status: z.enum(taskStatuses),
    stage: StageSchema.nullable(),
    repository: z.string(),
    origin_product: z.string(),
    source: z.enum(["api", "label", "comment", "cli"]),
    issue_number: z.number().int().nullable(),
    workflow_id: z.uuid(),
    branch: z.string().nullable(),
    pr_url: z.string().nullable(),
    created_by: z.string().nullable().openapi({ description: "user_id of the creator" }),
    created_at: z.string().openapi({ format: "date-time" }),
    updated_at: z.string().openapi({ format: "date-time" }),
  })
  .openapi("Task");

const RunSchema = z
  .object({
    id: z.uuid(),
    attempt: z.number().int(),
    status: z.enum(["queued", "running", "completed", "failed", "cancelled"]),
    engine: z.string().nullable(),
    engine_id: z.string().nullable(),
    error: z.string().nullable(),
    created_at: z.string(),
    started_at: z.string().nullable(),
    finished_at: z.string().nullable(),
    input_tokens: z.number().int().openapi({ description: "Model input tokens the run used through the model gateway" }),
    output_tokens: z.number().int().openapi({ description: "Model output tokens the run used through the model gateway" }),
  })
  .openapi("TaskRun");

const EventSchema = z
  .object({
    id: z.string(),
    run_id: z.string().nullable(),
    type: z.string(),
    message: z.string().nullable(),
    data: z.unknown(),
    created_at: z.string(),
  })
  .openapi("TaskEvent");

const ModelUsageSchema = z
  .object({
    model: z.string().openapi({ description: "The model as the vendor's answer named it (at most 100 characters; `unknown` when it named none)" }),
    input_tokens: z.number().int().openapi({ description: "All input tokens, prompt-cache reads and writes included" }),
    output_tokens: z.number().int(),
    cache_read_tokens: z.number().int().openapi({ description: "The part of input_tokens read from the prompt cache" }),
    cache_write_tokens: z.number().int().openapi({ description: "The part of input_tokens written to the prompt cache" }),
    cost_usd: z.number().nullable().openapi({ description: "Cost at the vendor's list prices in USD; null when the model has no price in Tasks' table" }),
  })
  .openapi("ModelUsage");

const RunDetailSchema = RunSchema.extend({
  models: z.array(ModelUsageSchema).openapi({ description: "The run's model usage per model, through the model gateway" }),
}).openapi("TaskRunDetail");

export const TaskDetailSchema = TaskSchema.extend({ runs: z.array(RunDetailSchema), events: z.array(EventSchema) }).openapi("TaskDetail");

export const TaskPageSchema = z
  .object({ tasks: z.array(TaskSchema), next_cursor: z.string().nullable() })
  .openapi("TaskPage");

export const ListTasksQuerySchema = z.strictObject({
  status: z.enum(taskStatuses).optional(),
  stage: z.string().max(100).optional().openapi({ description: "Stage key, e.g. code" }),
  origin_product: z.string().max(100).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().max(500).optional(),
});

/** The validated list query as the domain takes it. */
export function listQueryFrom(query: z.infer<typeof ListTasksQuerySchema>, teamId: string | undefined): ListTasksQuery {
  return { teamId, status: query.status, stage: query.stage, originProduct: query.origin_product, limit: query.limit, cursor: query.cursor };
}

export const TaskRefParamsSchema = z.object({
  task: z.string().max(100).openapi({ param: { name: "task", in: "path" }, description: "Task id or slug", example: "POS-123" }),
});

export const MoveStageBodySchema = z.strictObject({ stage: z.string().trim().min(1).max(100).openapi({ example: "code" }) }).openapi("MoveStage");
