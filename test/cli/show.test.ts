import { describe, expect, it } from "vitest";
import { renderTask } from "../../src/cli/commands/show.ts";
import type { RunView, TaskDetail } from "../../src/cli/task-types.ts";

const run = (tokens: Pick<RunView, "input_tokens" | "output_tokens">): RunView => ({
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

const task = (runs: RunView[]): TaskDetail => ({
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
    expect(text).toMatch(/RUN\s+STATUS\s+ENGINE\s+STARTED\s+FINISHED\s+TOKENS\s+ERROR/);
    expect(text).toMatch(/#1\s+failed\s+embedded\s+\S+\s+\S+\s+900 in \/ 150 out\s+token budget exceeded \(1050 of 1000\)/);
  });

  it("shows a dash for a run that used none", () => {
    expect(renderTask(task([run({ input_tokens: 0, output_tokens: 0 })]))).toMatch(/#1\s+failed\s+embedded\s+\S+\s+\S+\s+-\s+token budget/);
  });
});
