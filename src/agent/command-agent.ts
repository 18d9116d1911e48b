// The `command` runtime (ARCHITECTURE.md, "The `command` agent contract"): runs the operator's
// TASKS_AGENT_COMMAND with `sh -c` in the checkout. The command string comes only from the
// server's configuration; everything task-specific (role, slug, prompt and output paths) reaches
// it through environment variables, never by being spliced into the string, so nothing from
// GitHub is ever parsed by the shell. The prompt file lives in the scratch directory, outside
// the checkout, so it can never be committed with the coder's changes.
import type { AgentRunRequest, AgentRunResult, AgentRuntime } from "./agent-runtime.ts";
import { execStreaming, exitFailure, readAgentFile, sandboxPath, throwIfAborted } from "./process-output.ts";

export interface CommandAgentOptions {
  /** TASKS_AGENT_COMMAND, verbatim. */
  command: string;
}

export function createCommandAgentRuntime(options: CommandAgentOptions): AgentRuntime {
  const command = options.command;
  if (command.trim() === "") throw new Error("TASKS_AGENT_COMMAND is empty: the command agent needs a shell command to run");

  return {
    name: "command",
    async run(request: AgentRunRequest): Promise<AgentRunResult> {
      const { sandbox, role } = request;
      throwIfAborted(request.signal);
      const promptFile = sandboxPath(sandbox.scratchdir, "prompt.md");
      const outputFile = sandboxPath(sandbox.scratchdir, `output-${role}.md`);
      await sandbox.writeFile(promptFile, request.prompt);
      // Start from an empty output file: a file left by an earlier pass (or an earlier attempt of
      // this activity) must never be mistaken for this run's output.
      await sandbox.writeFile(outputFile, "");

      const { result, tail } = await execStreaming(sandbox, ["sh", "-c", command], {
        cwd: sandbox.workdir,
        env: {
          TASK_ROLE: role,
          TASK_SLUG: request.slug,
          TASK_PROMPT_FILE: promptFile,
          TASK_OUTPUT_FILE: outputFile,
        },
        timeoutMs: request.timeoutMs,
        signal: request.signal,
        onOutput: request.onOutput,
        readOnlyCheckout: role !== "coder",
      });
      throwIfAborted(request.signal);
      const failure = exitFailure(`the ${role} command`, result, tail, request.timeoutMs);
      if (failure) throw failure;

      return { output: await readAgentFile(sandbox, outputFile, role) };
    },
  };
}
