// The operators' probes, unauthenticated on purpose (load balancers, Kubernetes and Prometheus
// call them without credentials), so they show nothing of any team: /healthz answers while the
// process does (no database call), /readyz runs the readiness checks each with a short time
// limit and names every failing one, /metrics is Prometheus' text with bounded labels only.
import type { IncomingMessage, ServerResponse } from "node:http";
import { getRequestListener } from "@hono/node-server";
import { Hono } from "hono";
import type { ReadinessCheck, ReadinessDetails } from "../lib/readiness.ts";

export interface HealthDeps {
  readiness: readonly ReadinessCheck[];
  /** The server's metrics in Prometheus' text format. */
  metrics: { text(): Promise<string>; readonly contentType: string };
  /** How long one readiness check may take before it counts as failing. */
  checkTimeoutMs?: number;
}

export const defaultCheckTimeoutMs = 2_000;

type CheckResult = ({ status: "ok" } & ReadinessDetails) | { status: "failing"; reason: string };

/**
 * An error's message, one line and short: a probe's answer is for reading. Of a multi-line
 * message the last line is kept — Prisma's open with "Invalid `prisma.…()` invocation:" and end
 * with what the database said.
 */
function reasonOf(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  const line = message.trim().split("\n").map((part) => part.trim()).filter(Boolean).at(-1) || "failed";
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}

async function run(check: ReadinessCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    const details = await Promise.race([check.probe(), timeout]);
    return { ...details, status: "ok" };
  } catch (error) {
    return { status: "failing", reason: reasonOf(error) };
  } finally {
    clearTimeout(timer);
  }
}

export function createHealthRoutes(deps: HealthDeps) {
  const timeoutMs = deps.checkTimeoutMs ?? defaultCheckTimeoutMs;
  const app = new Hono();
  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) => {
    const results = await Promise.all(deps.readiness.map(async (check) => [check.name, await run(check, timeoutMs)] as const));
    const ready = results.every(([, result]) => result.status === "ok");
    return c.json({ status: ready ? "ready" : "not_ready", checks: Object.fromEntries(results) }, ready ? 200 : 503, { "cache-control": "no-store" });
  });
  app.get("/metrics", async (c) => c.body(await deps.metrics.text(), 200, { "content-type": deps.metrics.contentType, "cache-control": "no-store" }));
  return app;
}

const paths = new Set(["/healthz", "/readyz", "/metrics"]);

/** A Probot server handler that claims the three probe paths and lets everything else fall through. */
export function createHealthHandler(deps: HealthDeps) {
  const listener = getRequestListener(createHealthRoutes(deps).fetch);
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    if (!paths.has((req.url ?? "/").split("?")[0] ?? "/")) return false;
    await listener(req, res);
    return true;
  };
}
