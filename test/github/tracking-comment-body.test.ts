import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.ts";
import { renderTrackingComment } from "../../src/github/tracking-comment-body.ts";
import { sandboxWarning } from "../../src/sandbox/create-sandbox-provider.ts";

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

describe("the tracking comment on a server that runs agents without isolation", () => {
  const config = (env: Record<string, string>) => loadConfig({ TASKS_DATA_DIR: "/tmp/unused", ...env });

  it("opens with a warning when TASKS_SANDBOX=unsafe-host, and never otherwise", async () => {
    const warning = sandboxWarning(config({ TASKS_SANDBOX: "unsafe-host" }));
    const body = await renderTrackingComment({ ...view, warning });
    const lines = body.split("\n");
    expect(lines[1]).toBe("> [!WARNING]");
    expect(lines[2]).toMatch(/runs agents \*\*without isolation\*\* \(`TASKS_SANDBOX=unsafe-host`\)/);
    expect(sandboxWarning(config({ TASKS_SANDBOX: "local" }))).toBeUndefined();
    expect(sandboxWarning(config({ E2B_API_KEY: "e2b_x" }))).toBeUndefined();
    expect(await renderTrackingComment(view)).not.toContain("WARNING");
  });
});
