import { createHash, timingSafeEqual } from "node:crypto";
import type { MiddlewareHandler } from "hono";
import { AppError } from "../lib/errors.ts";
import type { TasksService } from "../tasks/service.ts";

export type TeamEnv = { Variables: { teamId: string; actor: string } };

function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  return match?.[1];
}

/** Team API key auth: every /api/tasks route is scoped to the key's team. */
export function requireTeamKey(tasks: TasksService): MiddlewareHandler<TeamEnv> {
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token) throw new AppError("unauthorized", "unauthorized", "a team API key is required: Authorization: Bearer tsk_…");
    const { teamId, keyId } = await tasks.verifyApiKey(token);
    c.set("teamId", teamId);
    c.set("actor", `api-key:${keyId}`);
    await next();
  };
}

const digest = (value: string) => createHash("sha256").update(value).digest();

/** Operator auth for the admin API; the token is compared in constant time. */
export function requireAdminToken(adminToken: string): MiddlewareHandler {
  const expected = digest(adminToken);
  return async (c, next) => {
    const token = bearerToken(c.req.header("authorization"));
    if (!token || !timingSafeEqual(digest(token), expected)) {
      throw new AppError("unauthorized", "unauthorized", "the admin token is required: Authorization: Bearer <TASKS_ADMIN_TOKEN>");
    }
    await next();
  };
}
