import { describe, expect, it } from "vitest";
import { renderTrackingComment } from "../../src/github/tracking-comment-body.ts";

const view = {
  slug: "POS-7",
  title: "Add a toggle",
  status: "failed",
  stages: [
    { key: "plan", name: "Plan" },
    { key: "code", name: "Code" },
  ],
  currentStage: "code",
  taskUrl: "https://tasks.example.com/api/tasks/1",
  note: "token budget exceeded (2000150 of 2000000)",
};

describe("the tracking comment's model usage", () => {
  it("shows the tokens the latest run used through the gateway", async () => {
    const body = await renderTrackingComment({ ...view, usage: { inputTokens: 1_900_000, outputTokens: 100_150 } });
    expect(body).toContain("**Failed:** token budget exceeded (2000150 of 2000000)");
    expect(body).toContain("Model tokens: 1900000 input · 100150 output");
  });

  it("says nothing about tokens before the run used any", async () => {
    expect(await renderTrackingComment({ ...view, usage: { inputTokens: 0, outputTokens: 0 } })).not.toContain("Model tokens");
    expect(await renderTrackingComment({ ...view, usage: null })).not.toContain("Model tokens");
  });
});
