import type { Context } from "hono";
import type { z } from "zod";
import { errorResponse, validationResponse } from "./http-errors.ts";

type Target = "json" | "query" | "param" | "header" | string;
const where = (target: Target) => (target === "json" ? "body" : target === "param" ? "path" : target === "query" ? "query" : "header");

/** The path of the first string in a validated request part that holds a NUL character. */
function nulCharacterPath(value: unknown, path: string[] = []): string[] | undefined {
  if (typeof value === "string") return value.includes("\u0000") ? path : undefined;
  if (typeof value !== "object" || value === null) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const found = nulCharacterPath(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

/**
 * zod-openapi's defaultHook: a failed validation answers 400 naming the field. Every string that
 * passes is checked for NUL here, once for all routes: PostgreSQL cannot store NUL in text, so a
 * field that forgot to refuse it would otherwise reach the database and answer 500.
 */
export const validationHook = (result: { success: boolean; data?: unknown; error?: z.ZodError; target: Target }, c: Context) => {
  if (!result.success && result.error) return validationResponse(c, result.error, where(result.target));
  const nulAt = result.success ? nulCharacterPath(result.data) : undefined;
  if (nulAt) {
    const field = nulAt.join(".") || undefined;
    const message = "must not contain NUL characters";
    return errorResponse(c, 400, `invalid_${where(result.target)}`, field ? `${field}: ${message}` : message, field);
  }
  return undefined;
};
