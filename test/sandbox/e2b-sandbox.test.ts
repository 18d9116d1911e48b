import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createE2BSandboxProvider } from "../../src/sandbox/e2b-sandbox.ts";
import { SandboxGoneError, type Sandbox, type SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { createFakeE2BSdk, FakeFileNotFoundError, FakeSandboxNotFoundError, FakeTimeoutError, fakeErrors, type FakeE2BSdk, type FakeSandbox } from "./fake-e2b-sdk.ts";
import { LocalEnvdSandbox } from "./local-envd.ts";
import { isRunning, killQuietly, pidCollector } from "./process-probe.ts";

const spec = { taskId: "task-7", runId: "run-9", timeoutMs: 3_600_000 };
const HOSTILE = ["$(id)", "`id`", '";echo pwned;#', "a\nb", "\u3000wide\u3000space", "it's", "'", "''", "", "\\", "*", "~", "-n", "!!", "%s", "$HOME", "a b\tc"];

let sdk: FakeE2BSdk;
let provider: SandboxProvider;
let sandbox: Sandbox;
let fake: FakeSandbox;

beforeEach(async () => {
  sdk = createFakeE2BSdk();
  provider = createE2BSandboxProvider({ apiKey: "e2b_test_key", template: "tasks", sdk });
  sandbox = await provider.create(spec);
  fake = sdk.created[0]!.sandbox;
});

describe("create", () => {
  it("creates from the template with an explicit timeout, the run's metadata, and secure access left on", () => {
    expect(sdk.created).toHaveLength(1);
    const { template, options } = sdk.created[0]!;
    expect(template).toBe("tasks");
    expect(options).toEqual({
      apiKey: "e2b_test_key",
      timeoutMs: 3_600_000,
      metadata: { taskId: "task-7", runId: "run-9" },
      // #9: no open internet; without an allow-list, no network at all.
      network: { allowOut: [], denyOut: ["0.0.0.0/0"] },
    });
    expect((options as { secure?: boolean }).secure).not.toBe(false);
    expect(sandbox.id).toBe(fake.sandboxId);
    expect(sandbox.workdir).toBe("/home/user/repo");
    expect(sandbox.scratchdir).toBe("/home/user/scratch");
  });

  it("makes the run's directories, with a bounded command", () => {
    expect(fake.runs).toHaveLength(1);
    expect(fake.runs[0]!.cmd).toBe("exec setsid -w -- 'mkdir' '-p' '--' '/home/user/repo' '/home/user/scratch'");
    expect(fake.runs[0]!.options).toMatchObject({ background: true, cwd: "/home/user", timeoutMs: 40_000 });
  });

  it("limits egress to an allow list when one is given", async () => {
    const limited = createE2BSandboxProvider({ apiKey: "k", template: "tasks", sdk, allowOut: ["api.anthropic.com", "registry.npmjs.org"] });
    await limited.create(spec);
    expect(sdk.created[1]!.options.network).toEqual({ allowOut: ["api.anthropic.com", "registry.npmjs.org"], denyOut: ["0.0.0.0/0"] });
  });

  it("kills the sandbox when its directories cannot be made", async () => {
    sdk.setup = (created) => {
      created.handler = () => ({ exitCode: 1, stderr: ["mkdir: permission denied\n"] });
    };
    await expect(provider.create(spec)).rejects.toThrow(/mkdir: permission denied/);
    expect(sdk.created[1]!.sandbox.killCalls).toBe(1);
  });
});

describe("exec", () => {
  it("quotes every argv element into the shell string the SDK runs, and passes cwd, env and a timeout", async () => {
    fake.handler = () => ({ stdout: ["ok\n"] });
    const result = await sandbox.exec(["printf", "%s\\n", ...HOSTILE], { timeoutMs: 5_000, env: { TASK_ROLE: "coder" } });
    expect(result).toEqual({ exitCode: 0, stdout: "ok\n", stderr: "", timedOut: false });
    const [command] = fake.userRuns;
    expect(command!.cmd).toBe(
      "exec setsid -w -- 'printf' '%s\\n' '$(id)' '`id`' '\";echo pwned;#' 'a\nb' '\u3000wide\u3000space' 'it'\\''s' ''\\''' ''\\'''\\''' '' '\\' '*' '~' '-n' '!!' '%s' '$HOME' 'a b\tc'",
    );
    expect(command!.options).toMatchObject({ background: true, cwd: "/home/user/repo", envs: { TASK_ROLE: "coder" }, timeoutMs: 15_000 });
  });

  it("runs in the directory asked for", async () => {
    await sandbox.exec(["ls"], { cwd: "/home/user/scratch", timeoutMs: 1_000 });
    expect(fake.userRuns[0]!.options.cwd).toBe("/home/user/scratch");
  });

  it("reports a non-zero exit (the SDK's CommandExitError) as data, with streamed output", async () => {
    fake.handler = () => ({ stdout: ["half", " done\n"], stderr: ["boom\n"], exitCode: 2 });
    const chunks: string[] = [];
    const result = await sandbox.exec(["make"], { timeoutMs: 5_000, onOutput: (chunk, stream) => chunks.push(`${stream}:${chunk}`) });
    expect(result).toEqual({ exitCode: 2, stdout: "half done\n", stderr: "boom\n", timedOut: false });
    expect(chunks).toEqual(["stdout:half", "stdout: done\n", "stderr:boom\n"]);
  });

  it("feeds stdin from a staged file in the scratch directory", async () => {
    await sandbox.exec(["cat"], { timeoutMs: 1_000, stdin: "the prompt" });
    const [file, data] = [...fake.stored.entries()][0]!;
    expect(file).toMatch(/^\/home\/user\/scratch\/\.stdin-[0-9a-f-]{36}$/);
    expect(data).toBe("the prompt");
    expect(fake.userRuns[0]!.cmd).toBe(`exec setsid -w -- 'cat' < '${file}'`);
  });

  it("on timeout kills the command's process group and the command, and reports timedOut", async () => {
    fake.handler = () => ({ stdout: ["working\n"], hang: true });
    const result = await sandbox.exec(["sleep", "1000"], { timeoutMs: 50 });
    expect(result).toEqual({ exitCode: 124, stdout: "working\n", stderr: "", timedOut: true });
    const [command] = fake.userRuns;
    expect(fake.runs.map((run) => run.cmd)).toContain(`kill -KILL -- -${command!.pid} 2>/dev/null || true`);
    expect(command!.killed).toBe(true);
  });

  it("on abort kills the command promptly and rejects with an AbortError", async () => {
    fake.handler = () => ({ hang: true });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error("task cancelled")), 20);
    const started = Date.now();
    const error = await sandbox.exec(["sleep", "1000"], { timeoutMs: 60_000, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect((error as Error).cause).toEqual(new Error("task cancelled"));
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(fake.userRuns[0]!.killed).toBe(true);
  });

  it("does not start a command whose signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sandbox.exec(["true"], { timeoutMs: 1_000, signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(fake.userRuns).toEqual([]);
  });

  it("refuses argv the shell string could not carry literally", async () => {
    await expect(sandbox.exec([], { timeoutMs: 1_000 })).rejects.toThrow(TypeError);
    await expect(sandbox.exec(["echo", "a\0b"], { timeoutMs: 1_000 })).rejects.toThrow(/NUL/);
    expect(fake.userRuns).toEqual([]);
  });
});

describe("a vanished sandbox", () => {
  it("turns the SDK's not-found errors into SandboxGoneError", async () => {
    fake.running = false;
    await expect(sandbox.exec(["true"], { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(sandbox.writeFile("/home/user/scratch/x", "x")).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(sandbox.extend(60_000)).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(provider.connect(fake.sandboxId, spec)).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(provider.connect("never-existed", spec)).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("tells a sandbox that timed out from a slow request by asking whether it still runs", async () => {
    fake.failWith.read = new FakeTimeoutError("request timed out");
    await expect(sandbox.readFile("/home/user/scratch/out.md")).rejects.toBeInstanceOf(FakeTimeoutError);
    fake.failWith.run = new FakeTimeoutError("502: sandbox timeout");
    fake.isRunning = async () => false;
    await expect(sandbox.exec(["true"], { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("passes a missing file through as the SDK's FileNotFoundError, not as a gone sandbox", async () => {
    await expect(sandbox.readFile("/home/user/scratch/missing.md")).rejects.toBeInstanceOf(FakeFileNotFoundError);
  });
});

describe("kill, extend, files, connect", () => {
  it("kill() twice is harmless and calls the SDK once; afterwards the sandbox is gone", async () => {
    await sandbox.kill();
    await sandbox.kill();
    expect(fake.killCalls).toBe(1);
    await expect(sandbox.exec(["true"], { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("killing a sandbox that already vanished is fine", async () => {
    fake.kill = async () => {
      throw new FakeSandboxNotFoundError("sandbox not found");
    };
    await expect(sandbox.kill()).resolves.toBeUndefined();
  });

  it("extend() sets the sandbox timeout", async () => {
    await sandbox.extend(1_800_000);
    expect(fake.timeouts).toEqual([1_800_000]);
  });

  it("writes bytes exactly and resolves relative paths against the workdir", async () => {
    const bytes = new Uint8Array([0, 1, 2, 255]);
    await sandbox.writeFile("bundle.bin", bytes.subarray(1, 3));
    const stored = fake.stored.get("/home/user/repo/bundle.bin");
    expect(stored).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(stored as ArrayBuffer)]).toEqual([1, 2]);
    await sandbox.writeFile("/home/user/scratch/prompt.md", "# Plan");
    expect(await sandbox.readFile("/home/user/scratch/prompt.md")).toBe("# Plan");
  });

  it("connect() reattaches with the spec's timeout", async () => {
    const again = await provider.connect(fake.sandboxId, spec);
    expect(again.id).toBe(fake.sandboxId);
    expect(sdk.connected).toEqual([{ sandboxId: fake.sandboxId, options: { apiKey: "e2b_test_key", timeoutMs: 3_600_000 } }]);
  });
});

// The same adapter against real processes started the way envd starts them (local-envd.ts):
// proves the setsid wrapper and the group kill stop grandchildren that envd's own kill misses.
describe("stopping commands on envd-like processes", () => {
  let dir: string;
  let envd: SandboxProvider;
  const leftovers: number[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "tasks-envd-"));
    const local = new LocalEnvdSandbox("local-envd", dir);
    envd = createE2BSandboxProvider({
      apiKey: "k",
      template: "tasks",
      sdk: { errors: fakeErrors, create: async () => local, connect: async () => local },
    });
  });

  afterEach(async () => {
    killQuietly(leftovers.splice(0));
    await rm(dir, { recursive: true, force: true });
  });

  it("runs the quoted argv literally", async () => {
    const sandbox = await envd.connect("local-envd", spec);
    const result = await sandbox.exec(["printf", "%s\\n", ...HOSTILE], { timeoutMs: 10_000 });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(result.stdout).toBe(HOSTILE.map((arg) => `${arg}\n`).join(""));
    expect((await sandbox.exec(["sh", "-c", "exit 5"], { timeoutMs: 10_000 })).exitCode).toBe(5);
  });

  it("on timeout nothing of the command survives", async () => {
    const sandbox = await envd.connect("local-envd", spec);
    const probe = pidCollector(2, leftovers);
    const result = await sandbox.exec(["sh", "-c", 'sleep 1000 & echo "pid $!"; echo "pid $$"; wait'], { timeoutMs: 300, onOutput: probe.onOutput });
    expect(result.timedOut).toBe(true);
    expect(probe.pids).toHaveLength(2);
    await expect.poll(() => probe.pids.filter(isRunning), { timeout: 2_000 }).toEqual([]);
  });

  it("on abort nothing of the command survives", async () => {
    const sandbox = await envd.connect("local-envd", spec);
    const probe = pidCollector(2, leftovers);
    const controller = new AbortController();
    const execution = sandbox
      .exec(["sh", "-c", 'sleep 1000 & echo "pid $!"; echo "pid $$"; wait'], { timeoutMs: 60_000, signal: controller.signal, onOutput: probe.onOutput })
      .catch((error: unknown) => error);
    const pids = await probe.ready;
    controller.abort();
    expect(await execution).toMatchObject({ name: "AbortError" });
    await expect.poll(() => pids.filter(isRunning), { timeout: 2_000 }).toEqual([]);
  });
});
