// The HTTP API, served on the Probot server's port: the team task API, the admin API, the
// OpenAPI document and a health check. Everything under /api answers JSON, errors included.
import { OpenAPIHono } from "@hono/zod-openapi";
import { bodyLimit } from "hono/body-limit";
import type { WebhookInbox } from "../inbox/index.ts";
import type { Logger } from "../lib/logger.ts";
import type { TasksService } from "../tasks/service.ts";
import { createAdminRoutes } from "./admin-routes.ts";
import { createDashboardRoutes, type DashboardDeps } from "./dashboard/routes.ts";
import { errorResponse, handleError } from "./http-errors.ts";
import { createTaskRoutes } from "./task-routes.ts";
import { maxBodyBytes } from "./transport-errors.ts";

export interface ApiDeps {
  tasks: TasksService;
  /** The webhook inbox, for the operators' delivery routes. */
  deliveries: Pick<WebhookInbox, "list" | "retry">;
  adminToken: string;
  log: Logger;
  /** What /health reports about storage. */
  database: "postgres" | "pglite";
  version: string;
  /** The task board and pages under /tasks; not served without it. */
  dashboard?: Omit<DashboardDeps, "tasks" | "adminToken" | "log"> | undefined;
}

export function createApi(deps: ApiDeps) {
  const app = new OpenAPIHono();
  app.onError(handleError(deps.log));
  app.notFound((c) => errorResponse(c, 404, "not_found", `no route ${c.req.method} ${c.req.path}`));

  app.use(
    "/api/*",
    bodyLimit({
      maxSize: maxBodyBytes,
      onError: (c) => errorResponse(c, 413, "too_large", `the request body is larger than ${maxBodyBytes} bytes`),
    }),
  );
  app.use("/api/*", async (c, next) => {
    // A body in any other encoding would be silently ignored by the JSON validators.
    const hasBody = c.req.header("content-length") !== undefined && c.req.header("content-length") !== "0";
    const type = c.req.header("content-type") ?? "";
    if ((hasBody || c.req.header("transfer-encoding")) && !/^application\/(.+\+)?json\s*(;|$)/i.test(type)) {
      return errorResponse(c, 415, "unsupported_media_type", "request bodies must be JSON (Content-Type: application/json)");
    }
    await next();
  });

  app.get("/health", (c) => c.json({ status: "ok", database: deps.database, version: deps.version }));
  app.route("/", createTaskRoutes(deps.tasks));
  app.route("/", createAdminRoutes(deps.tasks, deps.deliveries, deps.adminToken));
  if (deps.dashboard) {
    app.route("/", createDashboardRoutes({ ...deps.dashboard, tasks: deps.tasks, adminToken: deps.adminToken, log: deps.log.child({ name: "dashboard" }) }));
  }

  app.openAPIRegistry.registerComponent("securitySchemes", "teamApiKey", {
    type: "http",
    scheme: "bearer",
    description: "A team API key (`tasks apikey create`)",
  });
  app.openAPIRegistry.registerComponent("securitySchemes", "adminToken", {
    type: "http",
    scheme: "bearer",
    description: "The operator's admin token (TASKS_ADMIN_TOKEN or TASKS_DATA_DIR/admin-token)",
  });
  app.doc31("/api/openapi.json", {
    openapi: "3.1.0",
    info: { title: "Tasks API", version: deps.version, description: "Create and follow coding-agent tasks that end in pull requests." },
  });
  return app;
}

export type Api = ReturnType<typeof createApi>;
