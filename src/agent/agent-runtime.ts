// The agent port: a coding agent (Claude Code, Codex, or an operator's command) run in a
// sandbox's checkout for one role. Runtimes differ in their CLI; roles and prompts do not.
import type { Sandbox } from "../sandbox/sandbox.ts";

export type AgentRole = "planner" | "coder" | "reviewer";

export interface AgentRunRequest {
  role: AgentRole;
  /** e.g. POS-12 */
  slug: string;
  /** The full prompt, markdown; untrusted text inside is already fenced (see prompts). */
  prompt: string;
  sandbox: Sandbox;
  timeoutMs: number;
  signal: AbortSignal;
  /** Each line the agent prints, for the task's live log. */
  onOutput: (line: string) => void;
  /** Optional model override from .github/tasks.yml. */
  model?: string | undefined;
  /** How a model-backed agent reaches its model: the control plane's gateway, never a vendor key. */
  gateway?: ModelGatewayAccess | undefined;
}

export interface ModelGatewayAccess {
  /** The gateway's base URL as the sandbox reaches it (its routes are `<url>/model/<vendor>/…`). */
  url: string;
  /** The run's gateway token: valid only while the run is running. */
  token: string;
}

export interface AgentRunResult {
  /** The plan, summary or review the agent wrote (markdown). */
  output: string;
}

export interface AgentRuntime {
  readonly name: "claude" | "codex" | "command";
  /** Throws PermanentFailure (src/lib/errors.ts) when the agent fails. */
  run(request: AgentRunRequest): Promise<AgentRunResult>;
}
