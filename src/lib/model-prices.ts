// What model tokens cost, to show a run's cost next to its usage. These are the vendors' LIST prices
// in USD per million tokens, as published on their pricing pages (platform.claude.com/docs/en/about-claude/pricing,
// developers.openai.com/api/docs/pricing) when taken on the date below: no batch, priority or
// negotiated discounts, and no long-context surcharge. A model not listed has an unknown cost,
// never a guess from a similar name: update this table when a new model is used. In lib/ so the
// gateway, the task views and the dashboard can all price usage without importing each other.

export const pricesTakenOn = "2026-11-29";

export interface ModelPrice {
  input: number;
  output: number;
  /** Input read from the prompt cache. */
  cacheRead: number;
  /** Input written to the prompt cache (Anthropic's 5-minute cache, the one its CLI uses); OpenAI charges none. */
  cacheWrite: number;
}

const claudeOpus4: ModelPrice = { input: 15, output: 75, cacheRead: 1.5, cacheWrite: 18.75 };
const claudeOpus45: ModelPrice = { input: 5, output: 25, cacheRead: 0.5, cacheWrite: 6.25 };
const claudeSonnet4: ModelPrice = { input: 3, output: 15, cacheRead: 0.3, cacheWrite: 3.75 };
const claudeHaiku45: ModelPrice = { input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25 };
const gpt5: ModelPrice = { input: 1.25, output: 10, cacheRead: 0.125, cacheWrite: 0 };
const gpt5Mini: ModelPrice = { input: 0.25, output: 2, cacheRead: 0.025, cacheWrite: 0 };
const gpt5Nano: ModelPrice = { input: 0.05, output: 0.4, cacheRead: 0.005, cacheWrite: 0 };

/** Model ids as the vendors' answers name them, each optionally followed by its snapshot date. */
export const modelPrices: Readonly<Record<string, ModelPrice>> = {
  "claude-opus-4": claudeOpus4,
  "claude-opus-4-0": claudeOpus4,
  "claude-opus-4-1": claudeOpus4,
  "claude-opus-4-5": claudeOpus45,
  "claude-opus-4-6": claudeOpus45,
  "claude-opus-4-7": claudeOpus45,
  "claude-opus-4-8": claudeOpus45,
  "claude-sonnet-4": claudeSonnet4,
  "claude-sonnet-4-0": claudeSonnet4,
  "claude-sonnet-4-5": claudeSonnet4,
  "claude-sonnet-4-6": claudeSonnet4,
  "claude-haiku-4-5": claudeHaiku45,
  "gpt-5": gpt5,
  "gpt-5-codex": gpt5,
  "gpt-5-mini": gpt5Mini,
  "gpt-5-nano": gpt5Nano,
  "gpt-5.1": gpt5,
  "gpt-5.1-codex": gpt5,
  "gpt-5.1-codex-mini": gpt5Mini,
};

// A snapshot date after the id (claude-sonnet-4-5-20250929, gpt-5-2025-08-07) is the same model;
// anything else after it (claude-opus-4 → claude-opus-4-5, gpt-5 → gpt-5-pro) is another one.
const snapshotSuffix = /^(?:[-@]\d{8}|-\d{4}-\d{2}-\d{2})?$/;

/** The list price of a model, or undefined when it is not in the table. */
export function priceOf(model: string): ModelPrice | undefined {
  const name = model.toLowerCase();
  for (const [id, price] of Object.entries(modelPrices)) {
    if (name.startsWith(id) && snapshotSuffix.test(name.slice(id.length))) return price;
  }
  return undefined;
}

/** One model's token counts; cache reads and writes are parts of inputTokens. */
export interface ModelTokenCounts {
  model: string;
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens: number;
  cacheWriteTokens: number;
}

export type ModelCost = { model: string; known: true; usd: number } | { model: string; known: false };

/** The USD cost of one model's usage at list price; cache reads and writes are parts of the input, priced apart. */
export function costOf(usage: ModelTokenCounts): ModelCost {
  const price = priceOf(usage.model);
  if (!price) return { model: usage.model, known: false };
  const uncachedInput = Math.max(0, usage.inputTokens - usage.cacheReadTokens - usage.cacheWriteTokens);
  const perMillion =
    uncachedInput * price.input + usage.cacheReadTokens * price.cacheRead + usage.cacheWriteTokens * price.cacheWrite + usage.outputTokens * price.output;
  return { model: usage.model, known: true, usd: perMillion / 1_000_000 };
}

export interface CostTotal {
  /** The sum of the costs that are known. */
  usd: number;
  /** Models whose cost is unknown: the total leaves them out and says so. */
  unknownModels: string[];
}

export function totalCost(costs: readonly ModelCost[]): CostTotal {
  const unknownModels = [...new Set(costs.filter((cost) => !cost.known).map((cost) => cost.model))];
  const usd = costs.reduce((sum, cost) => (cost.known ? sum + cost.usd : sum), 0);
  return { usd, unknownModels };
}
