// Picks the agent runtime the server is configured for (TASKS_AGENT). Config-level validation
// (start-up errors) is config.ts's concern; this only refuses to build a runtime without the
// setting it cannot work without, naming the variable to set. The model keys are not handed to
// the runtimes (the model gateway holds them); they are checked here so that a server without
// one fails its first agent stage naming the variable, rather than on the gateway's refusal.
import type { Config } from "../config.ts";
import type { AgentRuntime } from "./agent-runtime.ts";
import { createClaudeAgentRuntime } from "./claude-agent.ts";
import { createCodexAgentRuntime } from "./codex-agent.ts";
import { createCommandAgentRuntime } from "./command-agent.ts";

export interface AgentRuntimeEnvironment {
  /**
   * The sandbox provider in use (config.sandbox.kind). With `e2b` and the bubblewrap-isolated
   * `local` the sandbox itself is the isolation boundary, so Codex's coder runs without its own
   * sandbox (see codex-agent.ts); only `unsafe-host` relies on Codex's.
   */
  sandboxKind?: Config["sandbox"]["kind"];
}

export class AgentConfigurationError extends Error {
  constructor(readonly variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = "AgentConfigurationError";
  }
}

const present = (value: string | undefined): value is string => value !== undefined && value.trim() !== "";

export function createAgentRuntime(settings: Config["agent"], environment: AgentRuntimeEnvironment = {}): AgentRuntime {
  switch (settings.kind) {
    case "claude":
      if (!present(settings.anthropicApiKey)) throw new AgentConfigurationError("ANTHROPIC_API_KEY", "required when TASKS_AGENT=claude");
      return createClaudeAgentRuntime();
    case "codex":
      if (!present(settings.openaiApiKey)) throw new AgentConfigurationError("OPENAI_API_KEY", "required when TASKS_AGENT=codex");
      return createCodexAgentRuntime({
        externallySandboxed: environment.sandboxKind === "e2b" || environment.sandboxKind === "local",
        readOnlyEnforced: environment.sandboxKind === "local",
      });
    case "command":
      if (!present(settings.command)) throw new AgentConfigurationError("TASKS_AGENT_COMMAND", "required when TASKS_AGENT=command");
      return createCommandAgentRuntime({ command: settings.command });
    default: {
      const kind: never = settings.kind;
      throw new AgentConfigurationError("TASKS_AGENT", `unknown agent ${String(kind)}; expected claude, codex or command`);
    }
  }
}
