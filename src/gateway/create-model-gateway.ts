// The model gateway: `/model/anthropic/*` and `/model/openai/*` on the app's port. A sandboxed
// agent calls it with its run's token; the gateway checks the token and the run's budget, forwards
// the call with the operator's key (which never leaves the control plane), streams the answer back
// and adds the tokens the answer reports to the run, in total and for the model the answer names.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Config } from "../config.ts";
import type { Db } from "../db/client.ts";
import { addRunModelUsage } from "../db/run-model-usage.ts";
import { isAppError } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Metrics } from "../lib/metrics.ts";
import { budgetExceeded, usedTokens } from "./budget.ts";
import { forward } from "./forward.ts";
import { authenticateRunToken } from "./run-tokens.ts";
import { createUsageMeter, type UsageMeter } from "./usage-meter.ts";
import { gatewayStatus, vendors, type GatewayErrorKind, type Vendor, type VendorName } from "./vendors.ts";

export interface ModelGatewayDeps {
  db: Db;
  settings: Config["gateway"];
  log: Logger;
  /** Counts the model tokens the answers report, by vendor. */
  metrics?: Pick<Metrics, "modelTokens">;
}

const routePattern = /^\/model\/(anthropic|openai)(\/[^?]*)?(\?.*)?$/;

/** Anthropic's clients send `x-api-key` (some `Authorization: Bearer`); OpenAI's send Bearer. */
function presentedToken(req: IncomingMessage): string | undefined {
  const apiKey = req.headers["x-api-key"];
  if (typeof apiKey === "string" && apiKey !== "") return apiKey;
  return /^Bearer (.+)$/i.exec(req.headers.authorization ?? "")?.[1]?.trim();
}

function refuse(res: ServerResponse, vendor: Vendor, kind: GatewayErrorKind, message: string): void {
  res.writeHead(gatewayStatus[kind], { "content-type": "application/json" });
  res.end(JSON.stringify(vendor.errorBody(kind, message)));
}

export function createModelGateway(deps: ModelGatewayDeps) {
  const { db, settings, log } = deps;

  async function record(runId: string, vendor: VendorName, meter: UsageMeter): Promise<void> {
    const usage = meter.finish();
    if (usedTokens(usage) === 0) return;
    deps.metrics?.modelTokens({ vendor, input: usage.inputTokens, output: usage.outputTokens });
    const total = await addRunModelUsage(db, runId, usage);
    log.debug({ runId, ...usage, total: usedTokens(total) }, "model usage recorded");
  }

  async function serve(req: IncomingMessage, res: ServerResponse, vendor: Vendor, rest: string, query: string): Promise<void> {
    let run;
    try {
      run = await authenticateRunToken(db, presentedToken(req));
    } catch (error) {
      if (isAppError(error) && error.kind === "unauthorized") return refuse(res, vendor, "unauthorized", `Tasks model gateway: ${error.message}`);
      throw error;
    }
    const exceeded = budgetExceeded(run, settings.runTokenBudget);
    if (exceeded) return refuse(res, vendor, "budget", `Tasks model gateway: ${exceeded}; the run may not call the model again (TASKS_RUN_TOKEN_BUDGET)`);
    if (!vendor.allowedPath.test(rest)) return refuse(res, vendor, "not_found", `Tasks model gateway: ${req.method} ${rest} is not a model endpoint it forwards`);
    const upstream = settings[vendor.name];
    if (!upstream.apiKey) return refuse(res, vendor, "unconfigured", `Tasks model gateway: ${vendor.keyVariable} is not set on the server`);

    const target = new URL(`${upstream.baseUrl.replace(/\/+$/, "")}${rest}${query}`);
    let meter: UsageMeter = createUsageMeter(vendor.name, undefined);
    forward({
      req,
      res,
      target,
      auth: vendor.authHeaders(upstream.apiKey),
      onResponse: (contentType) => (meter = createUsageMeter(vendor.name, contentType)),
      onChunk: (chunk) => meter.push(chunk),
      onEnd: () => record(run.id, vendor.name, meter).catch((error: unknown) => log.error({ err: error, runId: run.id }, "could not record model usage")),
      onUnreachable: (error) => {
        log.warn({ err: error, vendor: vendor.name, runId: run.id }, "model upstream unreachable");
        refuse(res, vendor, "upstream", `Tasks model gateway: ${vendor.name} could not be reached`);
      },
    });
  }

  /** A Probot server handler: claims /model/<vendor>/… and lets everything else fall through. */
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const match = routePattern.exec(req.url ?? "/");
    if (!match) return false;
    const vendor = vendors[match[1] as VendorName];
    try {
      await serve(req, res, vendor, match[2] ?? "/", match[3] ?? "");
    } catch (error) {
      log.error({ err: error }, "model gateway failed");
      if (!res.headersSent) refuse(res, vendor, "upstream", "Tasks model gateway: internal error");
      else res.destroy();
    }
    return true;
  };
}
