import type { Context } from "hono";
import type { z } from "zod";
import { validationResponse } from "./http-errors.ts";

type Target = "json" | "query" | "param" | "header" | string;
const where = (target: Target) => (target === "json" ? "body" : target === "param" ? "path" : target === "query" ? "query" : "header");

/** zod-openapi's defaultHook: a failed validation answers 400 naming the field. */
export const validationHook = (result: { success: boolean; error?: z.ZodError; target: Target }, c: Context) => {
  if (!result.success && result.error) return validationResponse(c, result.error, where(result.target));
  return undefined;
};
