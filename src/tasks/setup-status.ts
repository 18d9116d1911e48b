// What this server still needs before a task can run, and how to set it. Pure: the facts come from
// the configuration (setupFactsFrom in compose.ts), the messages are shown at start-up, in the
// failure of a task that could not run, and on the board. A new user meets these first, so each
// one names the variable or the page to open, not the component that is missing.

export interface SetupFacts {
  /** Where the server's pages are (TASKS_PUBLIC_URL), the setup flow among them. */
  readonly publicUrl: string;
  /** APP_ID (with its key and webhook secret) is set. */
  readonly githubAppConfigured: boolean;
  /** TASKS_AGENT. */
  readonly agent: "claude" | "codex" | "command";
  readonly anthropicApiKeySet: boolean;
  readonly openaiApiKeySet: boolean;
  readonly agentCommandSet: boolean;
}

export type SetupGapCode = "github_app" | "model_key" | "agent_command";

export interface SetupGap {
  readonly code: SetupGapCode;
  /** What is missing, as one sentence. */
  readonly missing: string;
  /** How to set it, as one sentence. */
  readonly fix: string;
}

/** The `command` agent needs no model key: the quickest way to see a run succeed. */
const commandAgentHint = "or set TASKS_AGENT=command with TASKS_AGENT_COMMAND to run your own script as the agent";
const localRunHint = "meanwhile, `tasks run --repo-path <directory>` runs a task on a local repository without GitHub";

function modelGap(facts: SetupFacts): SetupGap | undefined {
  if (facts.agent === "claude" && !facts.anthropicApiKeySet) {
    return { code: "model_key", missing: "No model key is set for the claude agent (TASKS_AGENT=claude, the default).", fix: `Set ANTHROPIC_API_KEY, ${commandAgentHint}.` };
  }
  if (facts.agent === "codex" && !facts.openaiApiKeySet) {
    return { code: "model_key", missing: "No model key is set for the codex agent (TASKS_AGENT=codex).", fix: `Set OPENAI_API_KEY, ${commandAgentHint}.` };
  }
  if (facts.agent === "command" && !facts.agentCommandSet) {
    return { code: "agent_command", missing: "No command is set for the command agent (TASKS_AGENT=command).", fix: "Set TASKS_AGENT_COMMAND to the shell command that plays the agent." };
  }
  return undefined;
}

/** Everything missing, GitHub first (without it no task from GitHub or the API can run); empty when ready. */
export function missingSetup(facts: SetupFacts): SetupGap[] {
  const gaps: SetupGap[] = [];
  if (!facts.githubAppConfigured) {
    gaps.push({
      code: "github_app",
      missing: "No GitHub App is configured, so tasks on GitHub repositories cannot check out code or open pull requests.",
      fix: `Open ${facts.publicUrl} to register the GitHub App (or set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET); ${localRunHint}.`,
    });
  }
  const model = modelGap(facts);
  if (model) gaps.push(model);
  return gaps;
}

/** One paragraph for a log line or a task's failure: every gap with its fix. */
export function describeMissingSetup(gaps: readonly SetupGap[]): string {
  return gaps.map((gap) => `${gap.missing} ${gap.fix}`).join(" ");
}
