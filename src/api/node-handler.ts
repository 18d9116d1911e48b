import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import type { Api } from "./create-api.ts";

/**
 * Adapts the API to a Probot server handler: it claims /api/* (except the webhook path, which
 * Probot's own middleware serves first), /health and the dashboard under /tasks, and lets
 * everything else fall through.
 */
export function createApiHandler(api: Api, webhookPath: string) {
  const listener = getRequestListener(api.fetch);
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    const dashboard = path === "/tasks" || path.startsWith("/tasks/");
    if (path === webhookPath || !(path === "/health" || path.startsWith("/api/") || dashboard)) return false;
    await listener(req, res);
    return true;
  };
}
