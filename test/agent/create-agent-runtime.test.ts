import { describe, expect, it } from "vitest";
import { AgentConfigurationError, createAgentRuntime } from "../../src/agent/create-agent-runtime.ts";

const settings = { command: undefined, anthropicApiKey: undefined, openaiApiKey: undefined };

describe("createAgentRuntime", () => {
  it("builds the configured runtime", () => {
    expect(createAgentRuntime({ ...settings, kind: "claude", anthropicApiKey: "sk-ant-test" }).name).toBe("claude");
    expect(createAgentRuntime({ ...settings, kind: "codex", openaiApiKey: "sk-test" }).name).toBe("codex");
    expect(createAgentRuntime({ ...settings, kind: "codex", openaiApiKey: "sk-test" }, { sandboxKind: "e2b" }).name).toBe("codex");
    expect(createAgentRuntime({ ...settings, kind: "command", command: "./agent.sh" }).name).toBe("command");
  });

  it.each([
    ["claude", "ANTHROPIC_API_KEY"],
    ["codex", "OPENAI_API_KEY"],
    ["command", "TASKS_AGENT_COMMAND"],
  ] as const)("refuses %s without %s, naming the variable", (kind, variable) => {
    let thrown: unknown;
    try {
      createAgentRuntime({ ...settings, kind });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AgentConfigurationError);
    expect((thrown as AgentConfigurationError).variable).toBe(variable);
    expect((thrown as Error).message).toContain(variable);
    expect((thrown as Error).message).toContain(`TASKS_AGENT=${kind}`);
  });

  it("treats a blank key as missing", () => {
    expect(() => createAgentRuntime({ ...settings, kind: "claude", anthropicApiKey: "  " })).toThrow(/ANTHROPIC_API_KEY/);
  });
});
