import { describe, expect, it } from "vitest";
import { costOf, modelPrices, priceOf, totalCost } from "../../src/lib/model-prices.ts";

const usage = (model: string, counts: Partial<{ inputTokens: number; outputTokens: number; cacheReadTokens: number; cacheWriteTokens: number }> = {}) => ({
  model,
  inputTokens: 0,
  outputTokens: 0,
  cacheReadTokens: 0,
  cacheWriteTokens: 0,
  ...counts,
});

describe("model prices", () => {
  it("matches a listed model by its id, alone or with a snapshot date", () => {
    expect(priceOf("claude-sonnet-4-5")).toBe(modelPrices["claude-sonnet-4-5"]);
    expect(priceOf("claude-sonnet-4-5-20250929")).toBe(modelPrices["claude-sonnet-4-5"]);
    expect(priceOf("claude-opus-4-20250514")).toEqual({ input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 });
    expect(priceOf("claude-opus-4-5-20251101")).toEqual({ input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 });
    expect(priceOf("gpt-5-2025-08-07")).toBe(modelPrices["gpt-5"]);
    expect(priceOf("GPT-5-Codex")).toBe(modelPrices["gpt-5-codex"]);
    expect(priceOf("gpt-5-mini-2025-08-07")).toEqual({ input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0 });
  });

  it("never guesses: another model sharing a listed id's prefix has no price", () => {
    for (const model of ["claude-opus-4-9", "claude-opus-4-5-fast", "claude-sonnet-4-50", "gpt-5-pro", "gpt-5.2", "gpt-5-codex-max", "gpt-4o", "unknown", "", "claude"]) {
      expect(priceOf(model), model).toBeUndefined();
    }
  });

  it("prices uncached input, cache reads, cache writes and output apart, in USD", () => {
    // Sonnet 4.5: 1M uncached in × $3 + 2M cache read × $0.30 + 0.4M cache write × $3.75 + 0.1M out × $15.
    const cost = costOf(usage("claude-sonnet-4-5-20250929", { inputTokens: 3_400_000, cacheReadTokens: 2_000_000, cacheWriteTokens: 400_000, outputTokens: 100_000 }));
    expect(cost.known).toBe(true);
    expect(cost.known && cost.usd).toBeCloseTo(3 + 0.6 + 1.5 + 1.5, 10);
    const codex = costOf(usage("gpt-5-codex", { inputTokens: 10_000, cacheReadTokens: 8_000, outputTokens: 1_000 }));
    expect(codex.known && codex.usd).toBeCloseTo((2_000 * 1.25 + 8_000 * 0.125 + 1_000 * 10) / 1e6, 12);
    expect(costOf(usage("gpt-5"))).toEqual({ model: "gpt-5", known: true, usd: 0 });
  });

  it("leaves an unknown model's cost unknown and names it in the total", () => {
    expect(costOf(usage("mystery-model-1", { inputTokens: 1_000_000 }))).toEqual({ model: "mystery-model-1", known: false });
    const total = totalCost([
      costOf(usage("claude-haiku-4-5", { inputTokens: 1_000_000, outputTokens: 1_000_000 })),
      costOf(usage("mystery-model-1", { inputTokens: 5 })),
      costOf(usage("mystery-model-1", { inputTokens: 7 })),
      costOf(usage("unknown", { outputTokens: 1 })),
    ]);
    expect(total).toEqual({ usd: 6, unknownModels: ["mystery-model-1", "unknown"] });
    expect(totalCost([])).toEqual({ usd: 0, unknownModels: [] });
  });
});
