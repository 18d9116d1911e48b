import { existsSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { AgentRunRequest } from "../../src/agent/agent-runtime.ts";
import { createCommandAgentRuntime } from "../../src/agent/command-agent.ts";
import { isPermanent, PermanentFailure } from "../../src/lib/errors.ts";
import { agentRequest, createTempDirSandbox, failureOf, type TempDirSandbox } from "./test-sandboxes.ts";

let sandbox: TempDirSandbox;
beforeEach(async () => {
  sandbox = await createTempDirSandbox();
});
afterEach(async () => {
  await sandbox.cleanup();
});

function request(overrides: Partial<AgentRunRequest> = {}): AgentRunRequest & { lines: string[] } {
  const { request, lines } = agentRequest(sandbox, "# Prompt\nDo the work.\n", { timeoutMs: 10_000, ...overrides });
  return { ...request, lines };
}

describe("command agent", () => {
  it("runs sh -c in the checkout with the contract's environment and returns the output file", async () => {
    const agent = createCommandAgentRuntime({
      command: 'printf "%s\\n" "$TASK_ROLE" "$TASK_SLUG" "$TASK_PROMPT_FILE" "$TASK_OUTPUT_FILE" "$(pwd)" > "$TASK_OUTPUT_FILE"; cat "$TASK_PROMPT_FILE" >> "$TASK_OUTPUT_FILE"',
    });
    const result = await agent.run(request({ role: "reviewer" }));

    const promptFile = join(sandbox.scratchdir, "prompt.md");
    const outputFile = join(sandbox.scratchdir, "output-reviewer.md");
    expect(result.output).toBe(["reviewer", "POS-12", promptFile, outputFile, sandbox.workdir, "# Prompt", "Do the work.", ""].join("\n"));
    expect(agent.name).toBe("command");

    // The prompt lives outside the checkout, where it can never be committed.
    expect(await readFile(promptFile, "utf8")).toBe("# Prompt\nDo the work.\n");
    expect(promptFile.startsWith(sandbox.workdir)).toBe(false);

    const call = sandbox.calls[0];
    expect(call?.argv).toEqual(["sh", "-c", expect.any(String)]);
    expect(call?.options.cwd).toBe(sandbox.workdir);
    expect(call?.options.env).toEqual({ TASK_ROLE: "reviewer", TASK_SLUG: "POS-12", TASK_PROMPT_FILE: promptFile, TASK_OUTPUT_FILE: outputFile });
    expect(call?.options.timeoutMs).toBe(10_000);
  });

  it("never lets prompt or slug text reach the shell as code", async () => {
    const agent = createCommandAgentRuntime({ command: 'cat "$TASK_PROMPT_FILE" > "$TASK_OUTPUT_FILE"; echo "$TASK_SLUG" >> "$TASK_OUTPUT_FILE"' });
    const hostile = "$(touch pwned-prompt)\n`touch pwned-backtick`\n\"; touch pwned-quote; \"\n";
    const result = await agent.run(request({ prompt: hostile, slug: "POS-1$(touch pwned-slug)" }));

    expect(result.output).toBe(`${hostile}POS-1$(touch pwned-slug)\n`);
    for (const name of ["pwned-prompt", "pwned-backtick", "pwned-quote", "pwned-slug"]) {
      expect(existsSync(join(sandbox.workdir, name))).toBe(false);
    }
    // The command string is the operator's, verbatim.
    expect(sandbox.calls[0]?.argv[2]).toBe('cat "$TASK_PROMPT_FILE" > "$TASK_OUTPUT_FILE"; echo "$TASK_SLUG" >> "$TASK_OUTPUT_FILE"');
  });

  it("streams output line by line from both streams", async () => {
    const agent = createCommandAgentRuntime({ command: "printf 'one\\ntw'; sleep 0.05; printf 'o\\r\\nthree'; echo oops >&2" });
    const run = request();
    await agent.run(run);
    expect(run.lines.filter((l) => l !== "oops")).toEqual(["one", "two", "three"]);
    expect(run.lines).toContain("oops");
  });

  it("returns an empty output when the agent wrote none, even after an earlier pass wrote one", async () => {
    await writeFile(join(sandbox.scratchdir, "output-coder.md"), "stale summary from an earlier pass");
    const agent = createCommandAgentRuntime({ command: "echo working" });
    expect(await agent.run(request())).toEqual({ output: "" });
  });

  it("fails permanently with the exit status and the last lines of output", async () => {
    const agent = createCommandAgentRuntime({ command: "for i in $(seq 1 30); do echo \"line $i\"; done; sleep 0.1; echo 'fatal: no model key' >&2; exit 3" });
    const error = await failureOf(agent.run(request()));

    expect(error).toBeInstanceOf(PermanentFailure);
    expect(isPermanent(error)).toBe(true);
    expect(error.message).toMatch(/^the coder command exited with status 3:\n/);
    expect(error.message).toContain("fatal: no model key");
    expect(error.message).toContain("line 30");
    expect(error.message).toContain("line 12");
    expect(error.message).not.toContain("line 11\n");
    expect(error.message.split("\n")).toHaveLength(21);
  });

  it("fails permanently, naming the limit, when the command times out", async () => {
    const agent = createCommandAgentRuntime({ command: "echo started; sleep 10" });
    const started = Date.now();
    const error = await failureOf(agent.run(request({ role: "planner", timeoutMs: 500 })));

    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.message).toMatch(/^the planner command timed out after 500 ms/);
    expect(error.message).toContain("started");
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it("passes a cancellation through as itself, not as an agent failure", async () => {
    const controller = new AbortController();
    const agent = createCommandAgentRuntime({ command: "sleep 10" });
    setTimeout(() => controller.abort(new Error("task cancelled")), 200);
    const error = await failureOf(agent.run(request({ signal: controller.signal })));

    expect(isPermanent(error)).toBe(false);
    expect(error.message).toBe("task cancelled");
  });

  it("fails closed when the output file cannot be read", async () => {
    const agent = createCommandAgentRuntime({ command: 'rm "$TASK_OUTPUT_FILE"' });
    const error = await failureOf(agent.run(request({ role: "reviewer" })));
    expect(error).toBeInstanceOf(PermanentFailure);
    expect(error.message).toMatch(/the reviewer's output file .*output-reviewer\.md could not be read/);
  });

  it("refuses an empty command", () => {
    expect(() => createCommandAgentRuntime({ command: "  " })).toThrow(/TASKS_AGENT_COMMAND/);
  });
});
