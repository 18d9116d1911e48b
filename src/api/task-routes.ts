// The task API that internal products call: /api/tasks, authenticated by a team API key.
import { createHash } from "node:crypto";
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { TasksService } from "../tasks/service.ts";
import { requireTeamKey, type TeamEnv } from "./auth.ts";
import { transportErrors } from "./transport-errors.ts";
import { validationHook } from "./validation-hook.ts";
import {
  CreateTaskBodySchema,
  ErrorSchema,
  listQueryFrom,
  ListTasksQuerySchema,
  MoveStageBodySchema,
  TaskDetailSchema,
  TaskPageSchema,
  TaskRefParamsSchema,
  TaskSchema,
} from "./schemas.ts";

const security = [{ teamApiKey: [] }];
const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });
const errors = {
  400: json(ErrorSchema, "Malformed request: the field at fault is named"),
  401: json(ErrorSchema, "Missing or wrong API key"),
  403: json(ErrorSchema, "The tasks feature flag is off for this team"),
  404: json(ErrorSchema, "No such task in this team"),
  409: json(ErrorSchema, "Conflicts with the task's state or an earlier request"),
  422: json(ErrorSchema, "Refers to something that does not fit (user, repository, workflow, stage)"),
  ...transportErrors,
};
const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });

const createTask = createRoute({
  method: "post",
  path: "/api/tasks",
  summary: "Create a task and start its first run",
  security,
  request: {
    headers: z.object({ "idempotency-key": z.string().min(1).max(200).optional().openapi({ description: "Replays with the same body return the same task" }) }),
    ...jsonBody(CreateTaskBodySchema),
  },
  responses: { 201: json(TaskSchema, "Created"), 200: json(TaskSchema, "Replayed: the task an earlier request with this Idempotency-Key created"), ...errors },
});

const listTasks = createRoute({
  method: "get",
  path: "/api/tasks",
  summary: "List the team's tasks, newest first",
  security,
  request: { query: ListTasksQuerySchema },
  responses: { 200: json(TaskPageSchema, "A page of tasks"), ...errors },
});

const getTask = createRoute({
  method: "get",
  path: "/api/tasks/{task}",
  summary: "A task with its runs and recent events",
  security,
  request: { params: TaskRefParamsSchema },
  responses: { 200: json(TaskDetailSchema, "The task"), ...errors },
});

const taskAction = (action: string, summary: string) =>
  createRoute({
    method: "post",
    path: `/api/tasks/{task}/${action}`,
    summary,
    security,
    request: { params: TaskRefParamsSchema },
    responses: { 200: json(TaskSchema, "The task after the action"), ...errors },
  });

const moveStage = createRoute({
  method: "post",
  path: "/api/tasks/{task}/stage",
  summary: "Move the task to another stage of its workflow",
  security,
  request: { params: TaskRefParamsSchema, ...jsonBody(MoveStageBodySchema) },
  responses: { 200: json(TaskSchema, "The task after the move"), ...errors },
});

/** sha256 of the body with sorted keys: what "the same body" means for Idempotency-Key. */
function requestHash(body: Record<string, unknown>): string {
  const canonical = JSON.stringify(Object.fromEntries(Object.entries(body).sort(([a], [b]) => a.localeCompare(b))));
  return createHash("sha256").update(canonical).digest("hex");
}

export function createTaskRoutes(tasks: TasksService) {
  const app = new OpenAPIHono<TeamEnv>({ defaultHook: validationHook });
  // Hono's "/api/tasks/*" also matches "/api/tasks" itself: one registration guards every route.
  app.use("/api/tasks/*", requireTeamKey(tasks));

  app.openapi(createTask, async (c) => {
    const body = c.req.valid("json");
    const key = c.req.valid("header")["idempotency-key"];
    const { task, created } = await tasks.createAndRun({
      teamId: c.get("teamId"),
      title: body.title,
      description: body.description,
      originProduct: body.origin_product,
      userId: body.user_id,
      repository: body.repository,
      workflowId: body.workflow_id,
      source: "api",
      idempotency: key ? { key, requestHash: requestHash(body) } : undefined,
    });
    return c.json(task, created ? 201 : 200);
  });

  app.openapi(listTasks, async (c) => {
    const query = c.req.valid("query");
    const page = await tasks.listTasks(listQueryFrom(query, c.get("teamId")));
    return c.json(page, 200);
  });

  app.openapi(getTask, async (c) => c.json(await tasks.getTask(c.get("teamId"), c.req.valid("param").task), 200));

  app.openapi(taskAction("run", "Start a new run (after a failure or cancel)"), async (c) =>
    c.json(await tasks.runTask(c.get("teamId"), c.req.valid("param").task, c.get("actor")), 200),
  );
  app.openapi(taskAction("approve", "Release the stage the task waits at, moving it to the next"), async (c) =>
    c.json(await tasks.approveTask(c.get("teamId"), c.req.valid("param").task, c.get("actor")), 200),
  );
  app.openapi(taskAction("cancel", "Cancel the task and stop its run"), async (c) =>
    c.json(await tasks.cancelTask(c.get("teamId"), c.req.valid("param").task, c.get("actor")), 200),
  );
  app.openapi(moveStage, async (c) =>
    c.json(await tasks.moveTaskStage(c.get("teamId"), c.req.valid("param").task, c.req.valid("json").stage, c.get("actor")), 200),
  );
  return app;
}
