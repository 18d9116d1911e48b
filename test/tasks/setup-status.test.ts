import { describe, expect, it } from "vitest";
import { setupFactsFrom } from "../../src/compose.ts";
import { loadConfig } from "../../src/config.ts";
import { describeMissingSetup, missingSetup } from "../../src/tasks/setup-status.ts";

// The facts come from a real configuration, as the server derives them.
const factsFor = (env: Record<string, string>) => setupFactsFrom(loadConfig({ TASKS_DATA_DIR: "/tmp/tasks-setup-status", ...env }));
const app = { APP_ID: "123", PRIVATE_KEY: "-----BEGIN RSA PRIVATE KEY-----\nx\n-----END RSA PRIVATE KEY-----", WEBHOOK_SECRET: "s" };

describe("missing setup", () => {
  it("on a fresh install names the GitHub App with the page to open, the model key, and the local run", () => {
    const gaps = missingSetup(factsFor({ PORT: "3000" }));
    expect(gaps.map((gap) => gap.code)).toEqual(["github_app", "model_key"]);
    expect(gaps[0]!.fix).toBe(
      "Open http://localhost:3000 to register the GitHub App (or set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET); meanwhile, `tasks run --repo-path <directory>` runs a task on a local repository without GitHub.",
    );
    expect(gaps[1]).toEqual({
      code: "model_key",
      missing: "No model key is set for the claude agent (TASKS_AGENT=claude, the default).",
      fix: "Set ANTHROPIC_API_KEY, or set TASKS_AGENT=command with TASKS_AGENT_COMMAND to run your own script as the agent.",
    });
  });

  it("points at the public URL the operator set, not localhost", () => {
    const [gap] = missingSetup(factsFor({ TASKS_PUBLIC_URL: "https://tasks.example.com/", ANTHROPIC_API_KEY: "k" }));
    expect(gap?.code).toBe("github_app");
    expect(gap?.fix).toContain("Open https://tasks.example.com to register the GitHub App");
  });

  it("asks for OPENAI_API_KEY when the codex agent is configured", () => {
    const gaps = missingSetup(factsFor({ ...app, TASKS_AGENT: "codex", ANTHROPIC_API_KEY: "not the one codex uses" }));
    expect(gaps).toEqual([expect.objectContaining({ code: "model_key", fix: expect.stringMatching(/^Set OPENAI_API_KEY, or set TASKS_AGENT=command/) })]);
  });

  it("treats a blank model key as missing", () => {
    expect(missingSetup({ ...factsFor(app), anthropicApiKeySet: false }).map((gap) => gap.code)).toEqual(["model_key"]);
    expect(missingSetup(factsFor({ ...app, ANTHROPIC_API_KEY: "   " })).map((gap) => gap.code)).toEqual(["model_key"]);
  });

  it("asks for the command when the command agent has none (facts from elsewhere than loadConfig, which refuses it)", () => {
    const gaps = missingSetup({ ...factsFor(app), agent: "command", agentCommandSet: false });
    expect(gaps).toEqual([{ code: "agent_command", missing: "No command is set for the command agent (TASKS_AGENT=command).", fix: "Set TASKS_AGENT_COMMAND to the shell command that plays the agent." }]);
  });

  it("needs no model key for the command agent", () => {
    expect(missingSetup(factsFor({ ...app, TASKS_AGENT: "command", TASKS_AGENT_COMMAND: "./agent.sh" }))).toEqual([]);
  });

  it("is empty once the GitHub App and the model key are set", () => {
    expect(missingSetup(factsFor({ ...app, ANTHROPIC_API_KEY: "sk-ant" }))).toEqual([]);
    expect(missingSetup(factsFor({ ...app, TASKS_AGENT: "codex", OPENAI_API_KEY: "sk-openai" }))).toEqual([]);
  });

  it("describes every gap in one paragraph, each with its fix", () => {
    const text = describeMissingSetup(missingSetup(factsFor({ PORT: "3000" })));
    expect(text).toMatch(/^No GitHub App is configured, .* Open http:\/\/localhost:3000 to register .* No model key is set .* Set ANTHROPIC_API_KEY, .*\.$/);
    expect(describeMissingSetup([])).toBe("");
  });
});
