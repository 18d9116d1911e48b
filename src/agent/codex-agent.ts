// The `codex` runtime: OpenAI Codex CLI's non-interactive `codex exec`, reading the prompt from
// stdin and printing its progress as JSON lines.
//
// Flags (openai/codex, codex-rs/exec/src/cli.rs and codex-rs/utils/cli/src/shared_options.rs;
// events in codex-rs/exec/src/exec_events.rs):
//   exec                          run one task without the TUI; no approval prompts.
//   --json                        print events to stdout as JSONL (`thread.started`,
//                                 `turn.started|completed|failed`, `item.started|updated|completed`
//                                 with items such as `agent_message`, `command_execution`,
//                                 `file_change`, and `error`).
//   --output-last-message <FILE>  (-o) write the agent's last message to FILE: the output.
//   --sandbox <mode>              (-s) read-only | workspace-write | danger-full-access.
//   --dangerously-bypass-approvals-and-sandbox  no approvals and no Codex sandbox; "intended
//                                 solely for running in environments that are externally sandboxed".
//   --model <model>               (-m).
//   --color never                 no ANSI codes in what reaches the live log.
//   --disable plugins             no plugin sync: otherwise Codex runs `git ls-remote
//                                 https://github.com/openai/plugins.git` at start, a network call
//                                 besides the model's (seen with 0.169 under strace).
//   --config analytics.enabled=false  no usage metrics: otherwise Codex exports them to
//                                 https://ab.chatgpt.com/otlp/v1/metrics as it exits, which in a
//                                 sandbox without network waits ~5 s for DNS (seen with 0.169).
//   -                             PROMPT: "if not provided as an argument (or if `-` is used),
//                                 instructions are read from stdin". The prompt never becomes an
//                                 argument, so no shell and no argv parsing sees it.
// `--full-auto` is not used: current releases keep it only as a deprecated alias that warns
// ("use `--sandbox workspace-write` instead").
// The working directory must be a git checkout: outside one, `codex exec` exits with "Not inside a
// trusted directory and --skip-git-repo-check was not specified".
//
// Sandbox policy per role:
//   planner, reviewer  `--sandbox read-only`: they must not change the working tree. In the
//                      isolated local sandbox the checkout is mounted read-only for them instead
//                      (`readOnlyEnforced`), and Codex's own sandbox, a nested bubblewrap, is off.
//   coder              `--sandbox workspace-write` by default: Codex's own sandbox confines writes
//                      to the checkout (and blocks network; `.git` stays read-only, so the coder
//                      leaves its change uncommitted, as the prompt allows), which is the right
//                      default when nothing else isolates the agent from the operator's machine.
//                      With `externallySandboxed` (the sandbox is itself the isolation boundary,
//                      e.g. E2B) it runs with `--dangerously-bypass-approvals-and-sandbox`
//                      instead: that sandbox holds no credential that can write to GitHub, and
//                      the coder needs the network to install the project's dependencies and run
//                      its tests — which the workspace-write sandbox blocks.
//
// Codex's own sandbox is bubblewrap (it ran /usr/bin/bwrap here) plus seccomp: read-only mounts the
// whole filesystem read-only, so a command that writes fails with "Read-only file system".
//
// Model access: Codex 0.169 ignores OPENAI_BASE_URL, so a model provider named `tasks` is configured
// with `--config` (`model_provider=tasks`, `model_providers.tasks={base_url=<gateway>/model/openai,
// env_key="OPENAI_API_KEY", wire_api="responses"}`) and OPENAI_API_KEY holds the run's gateway
// token. The operator's key never enters the sandbox. Codex then streams `POST <base_url>/responses`
// (server-sent events) with `Authorization: Bearer <token>`; with this provider it makes no
// WebSocket attempt. Its tools depend on the model: gpt-5-codex gets the function `exec_command`
// (`{cmd}`); its default model a freeform `exec` tool running JavaScript that calls
// `tools.exec_command(…)`, sent in an `additional_tools` input item.
import { PermanentFailure } from "../lib/errors.ts";
import type { AgentRole, AgentRunRequest, AgentRunResult, AgentRuntime, ModelGatewayAccess } from "./agent-runtime.ts";
import type { JsonObject } from "./json-lines.ts";
import { arrayField, isObject, objectField, oneLine, parseJsonLines, parseJsonObject, safeModelName, stringField } from "./json-lines.ts";
import { execStreaming, exitFailure, lastLines, readAgentFile, sandboxPath, throwIfAborted, truncateLine } from "./process-output.ts";

export interface CodexAgentOptions {
  /** The CLI to run; `codex` on the sandbox's PATH by default. */
  executable?: string;
  /** True when the sandbox is itself the isolation boundary (E2B): the coder then runs without Codex's own sandbox. */
  externallySandboxed?: boolean;
  /**
   * True when the sandbox itself mounts the checkout read-only for the planner and the reviewer
   * (the bubblewrap-isolated local sandbox, ExecOptions.readOnlyCheckout). Codex's own sandbox is a
   * nested bubblewrap, which that sandbox does not allow; it is not needed for them then.
   */
  readOnlyEnforced?: boolean;
}

const bypass = ["--dangerously-bypass-approvals-and-sandbox"];

function sandboxArgs(role: AgentRole, externallySandboxed: boolean, readOnlyEnforced: boolean): string[] {
  if (role !== "coder") return readOnlyEnforced ? bypass : ["--sandbox", "read-only"];
  return externallySandboxed ? bypass : ["--sandbox", "workspace-write"];
}

/** The argv for one run; exported for tests and for operators reading logs. */
export function codexArgv(
  role: AgentRole,
  options: { executable?: string; lastMessageFile: string; externallySandboxed: boolean; readOnlyEnforced?: boolean; model?: string | undefined; gatewayUrl?: string },
): string[] {
  const argv = [
    options.executable ?? "codex",
    "exec",
    "--json",
    "--color",
    "never",
    "--disable",
    "plugins",
    "--output-last-message",
    options.lastMessageFile,
    ...sandboxArgs(role, options.externallySandboxed, options.readOnlyEnforced ?? false),
    "--config",
    "analytics.enabled=false",
    ...(options.gatewayUrl ? gatewayProviderArgs(options.gatewayUrl) : []),
  ];
  if (options.model) argv.push("--model", options.model);
  argv.push("-");
  return argv;
}

/** The variable the provider reads its key from; it holds the run's gateway token. */
const tokenVariable = "OPENAI_API_KEY";

/** `--config` overrides pointing Codex at the gateway (TOML values; JSON string quoting is valid TOML). */
function gatewayProviderArgs(gatewayUrl: string): string[] {
  const provider = `{name="Tasks model gateway", base_url=${JSON.stringify(`${gatewayUrl}/model/openai`)}, env_key="${tokenVariable}", wire_api="responses"}`;
  return ["--config", "model_provider=tasks", "--config", `model_providers.tasks=${provider}`];
}

export const codexEnv = (gateway: ModelGatewayAccess): Record<string, string> => ({ [tokenVariable]: gateway.token });

export function createCodexAgentRuntime(options: CodexAgentOptions = {}): AgentRuntime {
  const externallySandboxed = options.externallySandboxed ?? false;
  const readOnlyEnforced = options.readOnlyEnforced ?? false;
  return {
    name: "codex",
    async run(request: AgentRunRequest): Promise<AgentRunResult> {
      const { role, sandbox } = request;
      const what = `Codex (${role})`;
      throwIfAborted(request.signal);
      if (request.model !== undefined && !safeModelName.test(request.model)) {
        throw new PermanentFailure(`the model name in .github/tasks.yml is not valid: ${JSON.stringify(truncateLine(request.model, 80))}`);
      }
      if (!request.gateway) throw new PermanentFailure(`${what} needs the model gateway, and this run has none`);
      const gateway = request.gateway;
      const lastMessageFile = sandboxPath(sandbox.scratchdir, `codex-last-message-${role}.md`);
      // Start empty so that a message left by an earlier pass is never read as this run's.
      await sandbox.writeFile(lastMessageFile, "");
      const argv = codexArgv(role, { executable: options.executable, lastMessageFile, externallySandboxed, readOnlyEnforced, model: request.model, gatewayUrl: gateway.url });

      const { result, tail } = await execStreaming(sandbox, argv, {
        cwd: sandbox.workdir,
        env: codexEnv(gateway),
        network: "model-gateway",
        readOnlyCheckout: role !== "coder",
        stdin: request.prompt,
        timeoutMs: request.timeoutMs,
        signal: request.signal,
        onOutput: request.onOutput,
        describe: (line, stream) => (stream === "stderr" ? [line] : describeCodexLine(line)),
      });
      throwIfAborted(request.signal);
      const timedOut = result.timedOut ? exitFailure(what, result, tail, request.timeoutMs) : null;
      if (timedOut) throw timedOut;

      const events = summariseEvents(result.stdout);
      if (events.failure !== null) throw new PermanentFailure(`${what} failed: ${events.failure}`);
      const failure = exitFailure(what, result, tail, request.timeoutMs);
      if (failure) throw failure;

      const written = await readAgentFile(sandbox, lastMessageFile, role);
      return { output: written.trim() !== "" ? written : (events.lastAgentMessage ?? "") };
    },
  };
}

interface EventSummary {
  /** The last agent message seen in the events (a fallback for the output file). */
  lastAgentMessage: string | null;
  /** Why the last turn failed, when it did and no later turn completed. */
  failure: string | null;
}

function summariseEvents(stdout: string): EventSummary {
  let lastAgentMessage: string | null = null;
  let failure: string | null = null;
  for (const event of parseJsonLines(stdout)) {
    switch (event["type"]) {
      case "item.completed": {
        const item = objectField(event, "item");
        if (item?.["type"] === "agent_message") lastAgentMessage = stringField(item, "text") ?? lastAgentMessage;
        break;
      }
      case "turn.failed":
        failure = lastLines(stringField(objectField(event, "error"), "message") ?? "the turn failed");
        break;
      case "turn.completed":
        failure = null;
        break;
    }
  }
  return { lastAgentMessage, failure };
}

/** Human-readable live-log lines for one `--json` event line. */
export function describeCodexLine(line: string): string[] {
  if (line.trim() === "") return [];
  const event = parseJsonObject(line);
  if (!event) return [line];
  switch (event["type"]) {
    case "thread.started":
      return ["Codex started"];
    case "item.completed":
      return describeItem(objectField(event, "item"));
    case "turn.completed": {
      const usage = objectField(event, "usage");
      const input = usage?.["input_tokens"];
      const output = usage?.["output_tokens"];
      return [typeof input === "number" && typeof output === "number" ? `Codex finished (${input} input / ${output} output tokens)` : "Codex finished"];
    }
    case "turn.failed":
      return [`Codex failed: ${oneLine(stringField(objectField(event, "error"), "message") ?? "unknown error", 500)}`];
    case "error":
      return [`Codex error: ${oneLine(stringField(event, "message") ?? "unknown error", 500)}`];
    default:
      return [];
  }
}

function describeItem(item: JsonObject | undefined): string[] {
  switch (item?.["type"]) {
    case "agent_message":
      return (stringField(item, "text") ?? "").split("\n").filter((l) => l.trim() !== "");
    case "command_execution": {
      const exit = item["exit_code"];
      return [`$ ${oneLine(stringField(item, "command") ?? "")}${typeof exit === "number" ? ` (exit ${exit})` : ""}`];
    }
    case "file_change":
      return arrayField(item, "changes")
        .filter(isObject)
        .map((change) => `${stringField(change, "kind") ?? "changed"} ${oneLine(stringField(change, "path") ?? "")}`);
    case "mcp_tool_call":
      return [`→ ${stringField(item, "server") ?? "mcp"}.${stringField(item, "tool") ?? "tool"}`];
    case "web_search":
      return [`search: ${oneLine(stringField(item, "query") ?? "")}`];
    case "error":
      return [`Codex error: ${oneLine(stringField(item, "message") ?? "", 500)}`];
    default:
      return [];
  }
}
