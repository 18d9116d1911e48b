// The real Claude Code and Codex CLIs, run by their agent runtimes in the bubblewrap-isolated local
// sandbox (as the server runs them: the CLIs found on its PATH, the gateway reached through the
// sandbox's own loopback), talking to a scripted model through the real model gateway (real HTTP,
// real database, real run token). The model's tool calls are executed by the CLIs themselves, so
// this proves the runtimes' flags and the sandbox's mounts together: the coder's edit lands on
// disk, the planner's and reviewer's are refused (by the CLI or by the read-only checkout), and the
// gateway meters it. One Codex case runs unisolated, in Codex's own `--sandbox` modes.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { AgentRole, AgentRuntime } from "../../src/agent/agent-runtime.ts";
import { createClaudeAgentRuntime } from "../../src/agent/claude-agent.ts";
import { createCodexAgentRuntime } from "../../src/agent/codex-agent.ts";
import type { Sandbox } from "../../src/sandbox/sandbox.ts";
import { codexExecutable } from "../helpers/agent-clis.ts";
import { createAgentSandbox } from "../helpers/agent-sandbox.ts";
import { testDatabases } from "../helpers/databases.ts";
import { operatorKeys, startModelGatewayHarness, type ModelGatewayHarness } from "../helpers/model-gateway-harness.ts";
import { anthropicToolResults, openaiToolOutputs, startScriptedModelServer, type OpenAITurn, type ScriptedModelServer } from "../helpers/scripted-model-server.ts";

const ORIGINAL = "The original notes.\n";
const EDITED = "Notes edited by the agent.\n";
const PROMPT = "# Task POS-1\n\nEdit notes.md.\n";
/** A refusal as either CLI or the sandbox words it (Claude Code: "No such tool available … disabled", "needs approval"; the read-only mount and Codex's sandbox: "Read-only file system"). */
const REFUSED = /denied|disabled|not allowed|needs approval|requires approval|permission|read-only file system|no such tool/i;
// Scripts end in two or three turns; a limit catches a CLI that loops.
const MAX_TURNS = { planner: 6, coder: 6, reviewer: 6 };
const RUN_TIMEOUT_MS = 90_000;

describe("the real agent CLIs through the real model gateway", { timeout: 120_000 }, () => {
  let model: ScriptedModelServer;
  let gateway: ModelGatewayHarness;
  let rootDir: string;

  beforeAll(async () => {
    model = await startScriptedModelServer();
    gateway = await startModelGatewayHarness(testDatabases[0]!, model.url);
    rootDir = await mkdtemp(path.join(tmpdir(), "tasks-real-cli-"));
  });
  afterAll(async () => {
    await gateway?.close();
    await model?.close();
    if (rootDir) await rm(rootDir, { recursive: true, force: true });
  });
  beforeEach(() => {
    model.requests.length = 0;
  });

  /** A run, its sandbox with a committed checkout holding notes.md, and a runner for one role. */
  async function setUp(runtime: AgentRuntime, options: { unisolated?: boolean } = {}) {
    const { runId, token } = await gateway.startRun();
    const { sandbox, gatewayUrl } = await createAgentSandbox({ rootDir, gatewayUrl: gateway.url, runId, ...options });
    await sandbox.writeFile(`${sandbox.workdir}/notes.md`, ORIGINAL);
    await git(sandbox, ["init", "-q"]);
    await git(sandbox, ["add", "."]);
    await git(sandbox, ["-c", "user.name=Tasks", "-c", "user.email=tasks@example.invalid", "commit", "-qm", "start"]);
    const lines: string[] = [];
    const run = (role: AgentRole, modelName?: string) =>
      runtime.run({
        role,
        slug: "POS-1",
        prompt: PROMPT,
        sandbox,
        timeoutMs: RUN_TIMEOUT_MS,
        signal: new AbortController().signal,
        onOutput: (line) => lines.push(line),
        model: modelName,
        gateway: { url: gatewayUrl, token },
      });
    const notes = () => sandbox.readFile(`${sandbox.workdir}/notes.md`);
    return { runId, token, sandbox, lines, run, notes };
  }

  /** Every model call went through the gateway: the vendor saw the operator's key, never the run token. */
  function expectOperatorKeyOnly(token: string, header: "x-api-key" | "authorization", key: string): void {
    const calls = model.requests.filter((request) => request.vendor !== "unknown");
    expect(calls.length).toBeGreaterThan(0);
    for (const request of calls) {
      expect(request.headers[header]).toBe(key);
      expect(JSON.stringify(request.headers)).not.toContain(token);
    }
  }

  describe("Claude Code", () => {
    // `claude` as the sandbox's PATH finds it: the CLI the provider found on the server's PATH.
    const claude = () => createClaudeAgentRuntime({ maxTurns: MAX_TURNS });

    it("coder: its Write lands in the checkout, the final text is the output, and the gateway meters the run", async () => {
      const { runId, token, sandbox, lines, run, notes } = await setUp(claude());
      model.script("anthropic", [{ toolUses: [{ name: "Write", input: { file_path: `${sandbox.workdir}/notes.md`, content: EDITED } }] }, { text: "Edited notes.md." }]);

      const result = await run("coder");

      expect(result.output).toBe("Edited notes.md.");
      expect(await notes()).toBe(EDITED);
      expect(model.unusedTurns("anthropic")).toBe(0);
      const [written] = anthropicToolResults(model.requests);
      expect(written?.isError).toBe(false);
      expect(lines).toContain(`→ Write ${sandbox.workdir}/notes.md`);
      const usage = await gateway.usage(runId);
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect(usage.outputTokens).toBeGreaterThan(0);
      expectOperatorKeyOnly(token, "x-api-key", operatorKeys.anthropic);
    });

    it.each(["planner", "reviewer"] as const)("%s: a Write, a shell redirect and a writing git diff are refused, read-only git runs, the checkout is unchanged", async (role) => {
      const { sandbox, run, notes } = await setUp(claude());
      model.script("anthropic", [
        {
          toolUses: [
            { name: "Write", input: { file_path: `${sandbox.workdir}/notes.md`, content: EDITED } },
            { name: "Bash", input: { command: `printf 'edited' > notes.md`, description: "Edit the notes" } },
            { name: "Bash", input: { command: "git log --oneline", description: "Read the history" } },
            // Allowed by the read-only rule `Bash(git diff:*)`, yet it writes: the read-only mount holds.
            { name: "Bash", input: { command: "git diff --output=notes.md HEAD", description: "Show the diff" } },
          ],
        },
        { text: "I could not edit anything." },
      ]);

      const result = await run(role);

      expect(result.output).toBe("I could not edit anything.");
      expect(await notes()).toBe(ORIGINAL);
      const [write, redirect, log, diff] = anthropicToolResults(model.requests);
      for (const refused of [write, redirect, diff]) {
        expect(refused?.isError).toBe(true);
        expect(refused?.text).toMatch(REFUSED);
      }
      expect(log?.isError).toBe(false);
      expect(log?.text).toContain("start");
    });
  });

  // Codex's tools depend on the model: with gpt-5-codex its shell is the function `exec_command`
  // taking `{ cmd }`; with its default model it is a freeform `exec` tool running JavaScript that
  // calls `tools.exec_command(…)` (and the tools arrive in an `additional_tools` input item).
  const codexModels = [
    { name: "gpt-5-codex", model: "gpt-5-codex", shell: (cmd: string): OpenAITurn => ({ functionCalls: [{ name: "exec_command", arguments: { cmd } }] }) },
    {
      name: "its default model",
      model: undefined,
      shell: (cmd: string): OpenAITurn => ({ customToolCalls: [{ name: "exec", input: `text(JSON.stringify(await tools.exec_command(${JSON.stringify({ cmd })})));` }] }),
    },
  ];

  describe.each(codexModels)("Codex with $name", ({ model: modelName, shell }) => {
    // As the server runs it in the isolated sandbox: no nested sandbox of its own, the mount enforces read-only.
    const codex = () => createCodexAgentRuntime({ externallySandboxed: true, readOnlyEnforced: true });

    it("coder: its command edits the checkout, the last message is the output, and the gateway meters the run", async () => {
      const { runId, token, lines, run, notes } = await setUp(codex());
      model.script("openai", [shell(`printf '${EDITED.trim()}\\n' > notes.md`), { text: "Edited notes.md." }]);

      const result = await run("coder", modelName);

      expect(result.output.trim()).toBe("Edited notes.md.");
      expect(await notes()).toBe(EDITED);
      expect(model.unusedTurns("openai")).toBe(0);
      const [output] = openaiToolOutputs(model.requests);
      expect(output?.text).toMatch(/exited with code 0|"exit_code":0/);
      expect(lines.some((line) => line.startsWith("$ ") && line.includes("notes.md") && line.endsWith("(exit 0)"))).toBe(true);
      const usage = await gateway.usage(runId);
      expect(usage.inputTokens).toBeGreaterThan(0);
      expect(usage.outputTokens).toBeGreaterThan(0);
      expectOperatorKeyOnly(token, "authorization", `Bearer ${operatorKeys.openai}`);
    });

    it.each(["planner", "reviewer"] as const)("%s: a command that writes is refused and the checkout is unchanged", async (role) => {
      const { run, notes } = await setUp(codex());
      model.script("openai", [shell("printf 'edited' > notes.md"), { text: "I could not edit anything." }]);

      const result = await run(role, modelName);

      expect(result.output.trim()).toBe("I could not edit anything.");
      expect(await notes()).toBe(ORIGINAL);
      const outputs = openaiToolOutputs(model.requests);
      expect(outputs).toHaveLength(1);
      expect(outputs[0]?.text).toMatch(REFUSED);
    });
  });

  // TASKS_SANDBOX=unsafe-host: nothing isolates Codex but its own sandbox (a bubblewrap of its own).
  describe("Codex in its own sandbox, on the unisolated host sandbox", () => {
    const [{ model: modelName, shell }] = codexModels as [(typeof codexModels)[number]];
    const codex = () => createCodexAgentRuntime({ executable: codexExecutable() });

    it("coder (--sandbox workspace-write) edits the checkout; planner (--sandbox read-only) is refused", async () => {
      const coder = await setUp(codex(), { unisolated: true });
      model.script("openai", [shell(`printf '${EDITED.trim()}\\n' > notes.md`), { text: "Edited notes.md." }]);
      expect((await coder.run("coder", modelName)).output.trim()).toBe("Edited notes.md.");
      expect(await coder.notes()).toBe(EDITED);

      model.requests.length = 0;
      const planner = await setUp(codex(), { unisolated: true });
      model.script("openai", [shell("printf 'edited' > notes.md"), { text: "I could not edit anything." }]);
      expect((await planner.run("planner", modelName)).output.trim()).toBe("I could not edit anything.");
      expect(await planner.notes()).toBe(ORIGINAL);
      expect(openaiToolOutputs(model.requests)[0]?.text).toMatch(REFUSED);
    });
  });
});

async function git(sandbox: Sandbox, args: string[]): Promise<void> {
  const result = await sandbox.exec(["git", ...args], { timeoutMs: 30_000 });
  if (result.exitCode !== 0) throw new Error(`git ${args.join(" ")} failed: ${result.stderr}`);
}
