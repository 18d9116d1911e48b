// The model side of an agent run: a fresh gateway token for each model-backed agent (minting again
// after a retried activity replaces the older token), and the run's budget as the reason when an
// agent fails after the gateway started refusing it.
import type { AgentRuntime, ModelGatewayAccess } from "../agent/agent-runtime.ts";
import type { Db } from "../db/client.ts";
import { findRunModelUsage } from "../db/run-model-usage.ts";
import { budgetExceeded } from "../gateway/budget.ts";
import { mintRunToken } from "../gateway/run-tokens.ts";
import { PermanentFailure } from "../lib/errors.ts";

export interface ModelGatewaySettings {
  /** The gateway's base URL as sandboxes reach it: 127.0.0.1 for local sandboxes, TASKS_PUBLIC_URL for E2B. */
  url: string;
  /** TASKS_RUN_TOKEN_BUDGET. */
  runTokenBudget: number;
}

export async function modelAccessFor(db: Db, runtime: AgentRuntime, gateway: ModelGatewaySettings | undefined, runId: string): Promise<ModelGatewayAccess | undefined> {
  // The operator's command agent brings its own model access, if any.
  if (runtime.name === "command" || !gateway) return undefined;
  return { url: gateway.url, token: await mintRunToken(db, runId) };
}

/** The agent's failure, or the budget's when the run has used it up (the agent only saw the gateway refuse). */
export async function explainFailure(db: Db, gateway: ModelGatewaySettings | undefined, runId: string, error: unknown): Promise<unknown> {
  if (!gateway) return error;
  const usage = await findRunModelUsage(db, runId);
  const exceeded = usage ? budgetExceeded(usage, gateway.runTokenBudget) : null;
  return exceeded ? new PermanentFailure(exceeded, { cause: error }) : error;
}
