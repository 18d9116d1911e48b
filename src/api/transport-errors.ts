// The error responses every /api route can give before or beside its own logic (create-api.ts's
// body guards, http-errors.ts's retryable failures), so the OpenAPI document lists all it answers.
import { z } from "@hono/zod-openapi";
import { ErrorSchema } from "./schemas.ts";

/** Request bodies above this are refused with 413 before they are read in full. */
export const maxBodyBytes = 1024 * 1024;

const json = (description: string) => ({ content: { "application/json": { schema: ErrorSchema } }, description });

export const transportErrors = {
  413: json(`The request body is larger than ${maxBodyBytes} bytes`),
  415: json("The request has a body that is not JSON (Content-Type: application/json)"),
  503: {
    ...json("A dependency is down or the database is busy: retry after Retry-After seconds"),
    headers: z.object({ "Retry-After": z.string().openapi({ description: "Seconds to wait before retrying", example: "5" }) }),
  },
};
