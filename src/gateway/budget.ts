// The per-run token budget (TASKS_RUN_TOKEN_BUDGET): input plus output tokens, as the vendors report them.
import type { RunModelUsage } from "../db/run-model-usage.ts";

export const usedTokens = (usage: RunModelUsage): number => usage.inputTokens + usage.outputTokens;

/** The reason a run fails with once it has used its budget, or null while it has tokens left. */
export function budgetExceeded(usage: RunModelUsage, budget: number): string | null {
  const used = usedTokens(usage);
  return used >= budget ? `token budget exceeded (${used} of ${budget})` : null;
}
