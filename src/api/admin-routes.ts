// The admin API under /api/admin: what the `tasks` operator CLI calls, with the admin token.
import { createRoute, OpenAPIHono, z } from "@hono/zod-openapi";
import type { WebhookInbox } from "../inbox/index.ts";
import type { TasksService } from "../tasks/service.ts";
import { requireAdminToken } from "./auth.ts";
import { ErrorSchema, listQueryFrom, ListTasksQuerySchema, TaskDetailSchema, TaskPageSchema, TaskRefParamsSchema, TaskSchema } from "./schemas.ts";
import { transportErrors } from "./transport-errors.ts";
import { validationHook } from "./validation-hook.ts";

const security = [{ adminToken: [] }];
const json = <T extends z.ZodType>(schema: T, description: string) => ({ content: { "application/json": { schema } }, description });
const jsonBody = <T extends z.ZodType>(schema: T) => ({ body: { content: { "application/json": { schema } }, required: true } });
const errors = {
  400: json(ErrorSchema, "Malformed request"),
  401: json(ErrorSchema, "Missing or wrong admin token"),
  404: json(ErrorSchema, "No such team, task or delivery"),
  409: json(ErrorSchema, "Conflicts with existing data"),
  422: json(ErrorSchema, "Refers to something that does not fit"),
  ...transportErrors,
};
const TeamParams = z.object({ team: z.string().min(1).max(200).openapi({ param: { name: "team", in: "path" }, description: "Team id or name" }) });

const TeamSchema = z.object({ id: z.uuid(), name: z.string(), prefix: z.string() }).openapi("Team");
const UserSchema = z.object({ id: z.uuid(), external_id: z.string(), github_login: z.string().nullable(), email: z.string().nullable() }).openapi("User");
const ApiKeySchema = z.object({ id: z.uuid(), name: z.string(), key: z.string().openapi({ description: "Shown once" }) }).openapi("CreatedApiKey");
const FlagSchema = z.object({ team: z.string(), flag: z.string(), enabled: z.boolean(), source: z.enum(["local", "posthog"]) }).openapi("FeatureFlag");
const IntegrationSchema = z
  .object({ id: z.uuid(), installation_id: z.number().int(), account: z.string().nullable(), repositories: z.array(z.string()), suspended: z.boolean() })
  .openapi("GitHubIntegration");

const deliveryStatuses = ["pending", "processing", "processed", "failed"] as const;
const DeliverySchema = z
  .object({
    id: z.string().openapi({ description: "X-GitHub-Delivery" }),
    event: z.string(),
    action: z.string().nullable(),
    installation_id: z.number().int().nullable(),
    status: z.enum(deliveryStatuses),
    attempts: z.number().int().openapi({ description: "Runs started so far" }),
    next_attempt_at: z.string().nullable().openapi({ description: "When a pending delivery runs (again)" }),
    last_error: z.string().nullable().openapi({ description: "Why the last run failed" }),
    received_at: z.string(),
    processed_at: z.string().nullable(),
  })
  .openapi("WebhookDelivery");
const DeliveryParams = z.object({ delivery: z.string().min(1).max(100).openapi({ param: { name: "delivery", in: "path" }, description: "X-GitHub-Delivery" }) });

const githubLogin = z.string().regex(/^[A-Za-z0-9](?:[A-Za-z0-9]|-(?=[A-Za-z0-9])){0,38}$/, "a GitHub login");

const routes = {
  createTeam: createRoute({
    method: "post", path: "/api/admin/teams", summary: "Create a team (with its default workflow)", security,
    request: jsonBody(z.strictObject({ name: z.string().trim().min(1).max(100) })),
    responses: { 201: json(TeamSchema, "Created"), ...errors },
  }),
  listTeams: createRoute({
    method: "get", path: "/api/admin/teams", summary: "List teams", security,
    responses: { 200: json(z.object({ teams: z.array(TeamSchema) }), "Teams"), ...errors },
  }),
  addUser: createRoute({
    method: "post", path: "/api/admin/teams/{team}/users", summary: "Add a user to a team", security,
    request: {
      params: TeamParams,
      ...jsonBody(z.strictObject({ user_id: z.string().trim().min(1).max(200), github_login: githubLogin.optional(), email: z.email().optional() })),
    },
    responses: { 201: json(UserSchema, "Added"), ...errors },
  }),
  createApiKey: createRoute({
    method: "post", path: "/api/admin/teams/{team}/api-keys", summary: "Create a team API key (shown once)", security,
    request: { params: TeamParams, ...jsonBody(z.strictObject({ name: z.string().trim().min(1).max(100).default("default") })) },
    responses: { 201: json(ApiKeySchema, "Created"), ...errors },
  }),
  setFlag: createRoute({
    method: "put", path: "/api/admin/teams/{team}/flags/{flag}", summary: "Turn a feature flag on or off for a team (local flag store)", security,
    request: {
      params: TeamParams.extend({ flag: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, "a flag key such as tasks").openapi({ param: { name: "flag", in: "path" } }) }),
      ...jsonBody(z.strictObject({ enabled: z.boolean() })),
    },
    responses: { 200: json(FlagSchema, "The flag"), ...errors },
  }),
  addIntegration: createRoute({
    method: "post", path: "/api/admin/teams/{team}/integrations", summary: "Link a GitHub App installation and its repositories to a team", security,
    request: {
      params: TeamParams,
      ...jsonBody(
        z.strictObject({
          installation_id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER),
          account: z.string().max(100).optional(),
          repositories: z.array(z.string().max(140)).min(1).max(1000),
        }),
      ),
    },
    responses: { 201: json(IntegrationSchema, "Linked"), ...errors },
  }),
  listTasks: createRoute({
    method: "get", path: "/api/admin/tasks", summary: "List tasks of every team, or of one", security,
    request: { query: ListTasksQuerySchema.extend({ team: z.string().max(200).optional() }) },
    responses: { 200: json(TaskPageSchema, "A page of tasks"), ...errors },
  }),
  getTask: createRoute({
    method: "get", path: "/api/admin/tasks/{task}", summary: "A task with its runs and events", security,
    request: { params: TaskRefParamsSchema },
    responses: { 200: json(TaskDetailSchema, "The task"), ...errors },
  }),
  cancelTask: createRoute({
    method: "post", path: "/api/admin/tasks/{task}/cancel", summary: "Cancel a task", security,
    request: { params: TaskRefParamsSchema },
    responses: { 200: json(TaskSchema, "The task"), ...errors },
  }),
  listDeliveries: createRoute({
    method: "get", path: "/api/admin/deliveries", summary: "List GitHub webhook deliveries in the inbox, newest first", security,
    request: {
      query: z.strictObject({
        status: z.enum(deliveryStatuses).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
      }),
    },
    responses: { 200: json(z.object({ deliveries: z.array(DeliverySchema) }), "Deliveries"), ...errors },
  }),
  retryDelivery: createRoute({
    method: "post", path: "/api/admin/deliveries/{delivery}/retry", summary: "Run a failed webhook delivery again (attempts start over)", security,
    request: { params: DeliveryParams },
    responses: { 200: json(DeliverySchema, "The re-armed delivery"), ...errors },
  }),
};

export function createAdminRoutes(tasks: TasksService, deliveries: Pick<WebhookInbox, "list" | "retry">, adminToken: string) {
  const app = new OpenAPIHono({ defaultHook: validationHook });
  app.use("/api/admin/*", requireAdminToken(adminToken));

  app.openapi(routes.createTeam, async (c) => c.json(await tasks.createTeam(c.req.valid("json").name), 201));
  app.openapi(routes.listTeams, async (c) => c.json({ teams: await tasks.listTeams() }, 200));
  app.openapi(routes.addUser, async (c) => {
    const body = c.req.valid("json");
    const user = await tasks.addTeamMember(c.req.valid("param").team, { externalId: body.user_id, githubLogin: body.github_login, email: body.email });
    return c.json(user, 201);
  });
  app.openapi(routes.createApiKey, async (c) => c.json(await tasks.createApiKey(c.req.valid("param").team, c.req.valid("json").name), 201));
  app.openapi(routes.setFlag, async (c) => {
    const { team, flag } = c.req.valid("param");
    return c.json(await tasks.setFlag(team, flag, c.req.valid("json").enabled), 200);
  });
  app.openapi(routes.addIntegration, async (c) => {
    const body = c.req.valid("json");
    const integration = await tasks.addIntegration(c.req.valid("param").team, {
      installationId: body.installation_id,
      account: body.account,
      repositories: body.repositories,
    });
    return c.json(integration, 201);
  });
  app.openapi(routes.listTasks, async (c) => {
    const query = c.req.valid("query");
    const teamId = query.team ? (await tasks.findTeam(query.team)).id : undefined;
    const page = await tasks.listTasks(listQueryFrom(query, teamId));
    return c.json(page, 200);
  });
  app.openapi(routes.getTask, async (c) => c.json(await tasks.getTask(undefined, c.req.valid("param").task), 200));
  app.openapi(routes.cancelTask, async (c) => c.json(await tasks.cancelTask(undefined, c.req.valid("param").task, "operator"), 200));
  app.openapi(routes.listDeliveries, async (c) => c.json({ deliveries: await deliveries.list(c.req.valid("query")) }, 200));
  app.openapi(routes.retryDelivery, async (c) => c.json(await deliveries.retry(c.req.valid("param").delivery), 200));
  return app;
}
