import { describe, expect, it } from "vitest";
import { renderTask } from "../../src/cli/commands/show.ts";
import type { RunDetail, TaskDetail } from "../../src/cli/task-types.ts";

const run = (tokens: Pick<RunDetail, "input_tokens" | "output_tokens" | "models">): RunDetail => ({
  id: "00000000-0000-4000-8000-000000000001",
  attempt: 1,
  status: "failed",
  engine: "embedded",
  engine_id: null,
  error: "token budget exceeded (1050 of 1000)",
  created_at: "2026-11-29T10:00:00.000Z",
  started_at: "2026-11-29T10:00:01.000Z",
  finished_at: "2026-11-29T10:05:00.000Z",
  ...tokens,
});

const task = (runs: RunDetail[]): TaskDetail => ({
  id: "00000000-0000-4000-8000-000000000002",
  number: 1,
  slug: "POS-1",
  title: "Spend tokens",
  description: "d",
  status: "failed",
  stage: { key: "code", name: "Code" },
  repository: "posthog/posthog",
  origin_product: "user_created",
  source: "api",
  issue_number: null,
  workflow_id: "00000000-0000-4000-8000-000000000003",
  branch: null,
  pr_url: null,
  created_by: null,
  created_at: "2026-11-29T10:00:00.000Z",
  updated_at: "2026-11-29T10:05:00.000Z",
  runs,
  events: [],
});

describe("tasks show", () => {
  it("shows the model tokens each run used", () => {
    const text = renderTask(task([run({ input_tokens: 900, output_tokens: 150 })]));
    expect(text).toMatch(/RUN\s+STATUS\s+ENGINE\s+STARTED\s+FINISHED\s+TOKENS\s+COST\s+ERROR/);
    // An older server sends no usage per model: no cost.
    expect(text).toMatch(/#1\s+failed\s+embedded\s+\S+\s+\S+\s+900 in \/ 150 out\s+-\s+token budget exceeded \(1050 of 1000\)/);
  });

  it("shows a dash for a run that used none", () => {
    expect(renderTask(task([run({ input_tokens: 0, output_tokens: 0, models: [] })]))).toMatch(/#1\s+failed\s+embedded\s+\S+\s+\S+\s+-\s+-\s+token budget/);
  });

  it("shows each run's cost at list prices, and when a model has none", () => {
    const model = (name: string, cost: number | null) => ({ model: name, input_tokens: 600, output_tokens: 75, cache_read_tokens: 0, cache_write_tokens: 0, cost_usd: cost });
    const priced = run({ input_tokens: 1200, output_tokens: 150, models: [model("claude-sonnet-4-5", 0.4), model("gpt-5-codex", 0.226)] });
    expect(renderTask(task([priced]))).toMatch(/1200 in \/ 150 out\s+\$0\.63\s+token budget/);
    const partly = run({ input_tokens: 1200, output_tokens: 150, models: [model("claude-sonnet-4-5", 0.4), model("mystery", null)] });
    expect(renderTask(task([partly]))).toMatch(/1200 in \/ 150 out\s+\$0\.40 \+ unknown\s+token budget/);
    const tiny = run({ input_tokens: 10, output_tokens: 1, models: [model("claude-haiku-4-5", 0.00002)] });
    expect(renderTask(task([tiny]))).toMatch(/10 in \/ 1 out\s+<\$0\.01\s+token budget/);
  });
});
