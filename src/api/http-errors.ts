// Turns every failure into `{"error": {"code", "message", "field"?}}` with the right status.
// Unexpected errors are logged with their stack and answered with a plain 500: never a trace.
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { z } from "zod";
import { AppError, isRetryable } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";

export function errorBody(code: string, message: string, field?: string) {
  return { error: { code, message, ...(field ? { field } : {}) } };
}

export function errorResponse(c: Context, status: ContentfulStatusCode, code: string, message: string, field?: string) {
  return c.json(errorBody(code, message, field), status);
}

/** A zod failure as one clear error naming the first field at fault. */
export function validationResponse(c: Context, error: z.ZodError, where: "body" | "query" | "path" | "header") {
  const issue = error.issues[0]!;
  let path = issue.path.map(String).join(".");
  let message = issue.message;
  if (issue.code === "unrecognized_keys") {
    path = [path, ...issue.keys].filter(Boolean).join(".");
    message = `unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`;
  } else if (issue.code === "invalid_type" && issue.input === undefined) {
    message = "is required";
  }
  const field = path || undefined;
  return errorResponse(c, 400, `invalid_${where}`, field ? `${field}: ${message}` : message, field);
}

/** What a client that met a failure worth retrying (a dependency down) is told to wait, in seconds. */
const retryAfterSeconds = "5";

/**
 * Prisma re-wraps an error thrown beneath it into its own, keeping only the code: the pool's
 * "no free connection" (db/open-database.ts) arrives as a Prisma error with this code, and is
 * a 503 worth retrying, answered fast rather than after a hang.
 */
const databaseBusyCode = "database_busy";

function isDatabaseBusy(error: Error): boolean {
  return (error as { code?: unknown }).code === databaseBusyCode && !(error instanceof AppError);
}

export function handleError(log: Logger) {
  return (error: Error, c: Context) => {
    if (isDatabaseBusy(error)) {
      log.warn({ method: c.req.method, path: c.req.path }, "no free database connection: answered 503");
      c.header("Retry-After", retryAfterSeconds);
      return errorResponse(c, 503, databaseBusyCode, "the service is busy; try again shortly");
    }
    if (error instanceof AppError) {
      if (isRetryable(error)) c.header("Retry-After", retryAfterSeconds);
      return errorResponse(c, error.status as ContentfulStatusCode, error.code, error.message, error.field);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      if (status === 400 && /json/i.test(error.message)) return errorResponse(c, 400, "invalid_json", "the request body is not valid JSON");
      return errorResponse(c, status, status === 413 ? "too_large" : "http_error", error.message || "request failed");
    }
    log.error({ err: error, method: c.req.method, path: c.req.path }, "unhandled error in API");
    return errorResponse(c, 500, "internal", "internal error");
  };
}
