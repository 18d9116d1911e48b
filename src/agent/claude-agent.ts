// The `claude` runtime: Claude Code's CLI in headless ("print") mode, reading the prompt from
// stdin and printing its progress as stream-json, one JSON object per line.
//
// Flags (Claude Code CLI reference, docs.anthropic.com/en/docs/claude-code/cli-reference, and the
// headless-mode page docs.anthropic.com/en/docs/claude-code/sdk/sdk-headless):
//   -p / --print                 non-interactive: run the prompt, print, exit. With no prompt
//                                argument the prompt is read from stdin (`cat file | claude -p`).
//   --output-format stream-json  one JSON message per line: a `system` init message, `assistant`
//                                and `user` messages, and a final `result` message carrying
//                                `subtype`, `is_error` and the final `result` text.
//   --verbose                    required with stream-json in print mode (recent CLIs exit with
//                                "When using --print, --output-format=stream-json requires --verbose").
//   --permission-mode <mode>     default | acceptEdits | plan | bypassPermissions (| dontAsk).
//   --allowedTools / --disallowedTools  tool rules, e.g. "Read", "Bash(git diff:*)"; one
//                                comma-separated string.
//   --max-turns <n>              bounds the agentic turns in print mode.
//   --model <model>              alias or full model name.
//
// Permissions per role. In print mode there is nobody to approve a tool, so a tool that needs
// approval and is not allowed is denied:
//   planner, reviewer  `default` mode, only read-only tools and read-only git commands allowed,
//                      edits explicitly disallowed. (Not `plan` mode: in print mode it ends in an
//                      ExitPlanMode call nobody can approve.)
//   coder              `acceptEdits` (file edits auto-approved) plus Bash, so it can run the
//                      project's tests. Not `bypassPermissions`: Claude Code refuses that as root
//                      unless IS_SANDBOX=1, and the allow-list gives the coder what it needs.
// Checked against the real CLI (2.1.332, test/agent/real-cli.test.ts): for planner and reviewer
// the disallowed edit tools are not even offered to the model, and a call to one is answered
// "No such tool available: Write. Write is disabled for this session"; a shell command that writes
// (e.g. a redirect) is answered "… needs approval", which nobody gives in print mode; read-only
// commands (git diff, ls, cat) run. Names the CLI no longer has (LS, MultiEdit, TodoWrite in
// 2.1.332) are ignored in the lists; they stay for older CLIs.
// The prompt travels on stdin and never as an argument, so no shell and no argv parsing sees it.
//
// Model access: ANTHROPIC_BASE_URL points at the control plane's model gateway and
// ANTHROPIC_API_KEY holds the run's gateway token; the operator's key never enters the sandbox.
// The CLI then streams `POST <ANTHROPIC_BASE_URL>/v1/messages?beta=true` with `x-api-key: <token>`;
// with CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 nothing else was seen (no count_tokens, no
// title or topic side requests, no other network connection).
import { PermanentFailure } from "../lib/errors.ts";
import type { AgentRole, AgentRunRequest, AgentRunResult, AgentRuntime, ModelGatewayAccess } from "./agent-runtime.ts";
import type { JsonObject } from "./json-lines.ts";
import { arrayField, isObject, objectField, oneLine, parseJsonLines, parseJsonObject, safeModelName, stringField } from "./json-lines.ts";
import { execStreaming, exitFailure, lastLines, throwIfAborted, truncateLine } from "./process-output.ts";

export interface ClaudeAgentOptions {
  /** The CLI to run; `claude` on the sandbox's PATH by default. */
  executable?: string;
  /** Turn limits per role. */
  maxTurns?: Partial<Record<AgentRole, number>>;
}

const DEFAULT_MAX_TURNS: Record<AgentRole, number> = { planner: 50, coder: 200, reviewer: 50 };

const READ_ONLY_TOOLS = [
  "Read",
  "Glob",
  "Grep",
  "LS",
  "Bash(git diff:*)",
  "Bash(git log:*)",
  "Bash(git show:*)",
  "Bash(git status:*)",
  "Bash(ls:*)",
];
const EDIT_TOOLS = ["Edit", "MultiEdit", "Write", "NotebookEdit"];
const CODER_TOOLS = ["Read", "Glob", "Grep", "LS", "Bash", ...EDIT_TOOLS, "TodoWrite"];

function permissionArgs(role: AgentRole): string[] {
  if (role === "coder") return ["--permission-mode", "acceptEdits", "--allowedTools", CODER_TOOLS.join(",")];
  return ["--permission-mode", "default", "--allowedTools", READ_ONLY_TOOLS.join(","), "--disallowedTools", EDIT_TOOLS.join(",")];
}

/** The argv for one run; exported for tests and for operators reading logs. */
export function claudeArgv(role: AgentRole, options: { executable?: string; maxTurns: number; model?: string | undefined }): string[] {
  const argv = [options.executable ?? "claude", "-p", "--output-format", "stream-json", "--verbose", ...permissionArgs(role), "--max-turns", String(options.maxTurns)];
  if (options.model) argv.push("--model", options.model);
  return argv;
}

/** The sandbox environment for one run: the gateway and the run's token, nothing else. */
export function claudeEnv(gateway: ModelGatewayAccess): Record<string, string> {
  return {
    ANTHROPIC_BASE_URL: `${gateway.url}/model/anthropic`,
    ANTHROPIC_API_KEY: gateway.token,
    // No telemetry or update checks: the sandbox reaches nothing but the gateway.
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
  };
}

export function createClaudeAgentRuntime(options: ClaudeAgentOptions = {}): AgentRuntime {
  const maxTurns = { ...DEFAULT_MAX_TURNS, ...options.maxTurns };
  return {
    name: "claude",
    async run(request: AgentRunRequest): Promise<AgentRunResult> {
      const { role, sandbox } = request;
      const what = `Claude Code (${role})`;
      throwIfAborted(request.signal);
      if (request.model !== undefined && !safeModelName.test(request.model)) {
        throw new PermanentFailure(`the model name in .github/tasks.yml is not valid: ${JSON.stringify(truncateLine(request.model, 80))}`);
      }
      if (!request.gateway) throw new PermanentFailure(`${what} needs the model gateway, and this run has none`);
      const argv = claudeArgv(role, { executable: options.executable, maxTurns: maxTurns[role], model: request.model });

      const { result, tail } = await execStreaming(sandbox, argv, {
        cwd: sandbox.workdir,
        env: claudeEnv(request.gateway),
        network: "model-gateway",
        // Beside the CLI's own permissions: where the sandbox can, it mounts the checkout read-only.
        readOnlyCheckout: role !== "coder",
        stdin: request.prompt,
        timeoutMs: request.timeoutMs,
        signal: request.signal,
        onOutput: request.onOutput,
        describe: (line, stream) => (stream === "stderr" ? [line] : describeClaudeLine(line)),
      });
      throwIfAborted(request.signal);
      const timedOut = result.timedOut ? exitFailure(what, result, tail, request.timeoutMs) : null;
      if (timedOut) throw timedOut;

      const final = findResult(result.stdout);
      if (final && (final.is_error === true || (final.subtype !== undefined && final.subtype !== "success"))) {
        throw new PermanentFailure(`${what} failed: ${resultErrorText(final)}`);
      }
      const failure = exitFailure(what, result, tail, request.timeoutMs);
      if (failure) throw failure;
      if (!final) {
        throw new PermanentFailure(`${what} ended without a result${tail.isEmpty ? "" : `:\n${tail.toString()}`}`);
      }
      return { output: typeof final.result === "string" ? final.result : "" };
    },
  };
}

interface ClaudeResult {
  subtype: string | undefined;
  is_error: unknown;
  result: unknown;
  errors: unknown[];
  num_turns: unknown;
}

/** The last `result` message in the stream, if any. */
function findResult(stdout: string): ClaudeResult | null {
  let found: JsonObject | null = null;
  for (const message of parseJsonLines(stdout)) if (message["type"] === "result") found = message;
  if (!found) return null;
  return {
    subtype: stringField(found, "subtype"),
    is_error: found["is_error"],
    result: found["result"],
    errors: arrayField(found, "errors"),
    num_turns: found["num_turns"],
  };
}

function resultErrorText(final: ClaudeResult): string {
  const reasons: Record<string, string> = {
    error_max_turns: "it reached its turn limit",
    error_during_execution: "an error occurred during execution",
    error_max_budget_usd: "it reached its budget limit",
  };
  const parts = [final.subtype ? (reasons[final.subtype] ?? final.subtype) : "the run reported an error"];
  const details = [
    ...final.errors.filter((e): e is string => typeof e === "string"),
    ...(typeof final.result === "string" && final.result.trim() !== "" ? [final.result] : []),
  ];
  if (details.length > 0) parts.push(lastLines(details.join("\n")));
  return parts.join(": ");
}

/** Human-readable live-log lines for one stream-json line. */
export function describeClaudeLine(line: string): string[] {
  if (line.trim() === "") return [];
  const message = parseJsonObject(line);
  if (!message) return [line];
  switch (message["type"]) {
    case "system": {
      if (stringField(message, "subtype") !== "init") return [];
      const model = stringField(message, "model");
      return [`Claude Code started${model ? ` (model ${model})` : ""}`];
    }
    case "assistant": {
      const lines: string[] = [];
      for (const block of arrayField(objectField(message, "message"), "content")) {
        if (!isObject(block)) continue;
        if (block["type"] === "text") {
          const text = stringField(block, "text") ?? "";
          lines.push(...text.split("\n").filter((l) => l.trim() !== ""));
        } else if (block["type"] === "tool_use") {
          lines.push(`→ ${stringField(block, "name") ?? "tool"}${describeToolInput(objectField(block, "input"))}`);
        }
      }
      return lines;
    }
    case "result": {
      const subtype = stringField(message, "subtype") ?? "done";
      const turns = typeof message["num_turns"] === "number" ? `, ${message["num_turns"]} turns` : "";
      return [`Claude Code finished: ${subtype}${turns}`];
    }
    default:
      return [];
  }
}

function describeToolInput(input: JsonObject | undefined): string {
  if (!input) return "";
  for (const key of ["command", "file_path", "path", "pattern", "url", "description"]) {
    const value = stringField(input, key);
    if (value) return ` ${oneLine(value)}`;
  }
  return "";
}
