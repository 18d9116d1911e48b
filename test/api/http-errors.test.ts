// The API's status mapping reads the same taxonomy as the engines: an AppError answers with its
// kind's status, and one worth retrying tells the client to come back later.
import { Hono } from "hono";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { handleError } from "../../src/api/http-errors.ts";
import { AppError, PermanentFailure } from "../../src/lib/errors.ts";

function appThrowing(error: Error): Hono {
  const app = new Hono();
  app.get("/", () => {
    throw error;
  });
  app.onError(handleError(pino({ level: "silent" })));
  return app;
}

describe("handleError", () => {
  it("answers a failure that may pass with 503 and Retry-After", async () => {
    const response = await appThrowing(new AppError("unavailable", "flag_unavailable", "PostHog gave no evaluation")).request("/");
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("5");
    expect(await response.json()).toEqual({ error: { code: "flag_unavailable", message: "PostHog gave no evaluation" } });
  });

  it("answers a permanent failure with its kind's status and no Retry-After", async () => {
    const response = await appThrowing(new PermanentFailure("no agent runtime is available")).request("/");
    expect(response.status).toBe(422);
    expect(response.headers.get("retry-after")).toBeNull();
    expect(await response.json()).toEqual({ error: { code: "permanent_failure", message: "no agent runtime is available" } });
  });

  it("answers anything else with a plain 500", async () => {
    const response = await appThrowing(new Error("a bug with a secret in it")).request("/");
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ error: { code: "internal", message: "internal error" } });
  });
});
