import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SandboxPathError } from "../../src/sandbox/confined-path.ts";
import { createLocalSandboxProvider } from "../../src/sandbox/local-sandbox.ts";
import { SandboxGoneError, type Sandbox, type SandboxProvider } from "../../src/sandbox/sandbox.ts";
import { isRunning, killQuietly, pidCollector } from "./process-probe.ts";

const run = promisify(execFile);
const spec = { taskId: "task-1", runId: "run-1", timeoutMs: 60_000 };
const GRACE_MS = 200;

let rootDir: string;
let provider: SandboxProvider;
let sandbox: Sandbox;
const leftovers: number[] = [];

beforeEach(async () => {
  rootDir = await mkdtemp(path.join(tmpdir(), "tasks-local-sandbox-"));
  provider = createLocalSandboxProvider({ rootDir, killGraceMs: GRACE_MS });
  sandbox = await provider.create(spec);
});

afterEach(async () => {
  vi.unstubAllEnvs();
  await sandbox.kill();
  killQuietly(leftovers.splice(0));
  await rm(rootDir, { recursive: true, force: true });
});

describe("create", () => {
  it("makes a fresh directory per run with an empty repo/ (workdir) and scratch/", async () => {
    expect(path.dirname(path.dirname(sandbox.workdir))).toBe(await realRoot());
    expect(sandbox.id).toMatch(/^run-1-[0-9a-f]{12}$/);
    expect(sandbox.workdir).toBe(path.join(await realRoot(), sandbox.id, "repo"));
    expect(sandbox.scratchdir).toBe(path.join(await realRoot(), sandbox.id, "scratch"));
    expect(await readdir(sandbox.workdir)).toEqual([]);
    expect(await readdir(sandbox.scratchdir)).toEqual([]);
    const other = await provider.create(spec);
    expect(other.id).not.toBe(sandbox.id);
    await other.kill();
  });
});

describe("exec", () => {
  it("runs argv without a shell, in the workdir by default, and returns its output", async () => {
    const result = await sandbox.exec(["sh", "-c", 'printf "%s|" "$@"; pwd; printf oops >&2', "sh", "$(id)", "a b", "*"], { timeoutMs: 10_000 });
    expect(result).toEqual({ exitCode: 0, stdout: `$(id)|a b|*|${sandbox.workdir}\n`, stderr: "oops", timedOut: false });
  });

  it("runs in another directory of the sandbox when asked, and refuses one outside it", async () => {
    expect((await sandbox.exec(["pwd"], { cwd: sandbox.scratchdir, timeoutMs: 10_000 })).stdout).toBe(`${sandbox.scratchdir}\n`);
    await expect(sandbox.exec(["pwd"], { cwd: "/etc", timeoutMs: 10_000 })).rejects.toBeInstanceOf(SandboxPathError);
    await expect(sandbox.exec(["pwd"], { cwd: "../..", timeoutMs: 10_000 })).rejects.toBeInstanceOf(SandboxPathError);
  });

  it("reports a non-zero exit as data, and a missing program as 127", async () => {
    expect(await sandbox.exec(["sh", "-c", "echo partial; exit 3"], { timeoutMs: 10_000 })).toEqual({ exitCode: 3, stdout: "partial\n", stderr: "", timedOut: false });
    const missing = await sandbox.exec(["no-such-program-xyz"], { timeoutMs: 10_000 });
    expect(missing).toMatchObject({ exitCode: 127, timedOut: false });
    expect(missing.stderr).toContain("no-such-program-xyz");
  });

  it("streams output to onOutput as it arrives, before the command ends", async () => {
    const chunks: { chunk: string; stream: string; at: number }[] = [];
    const result = await sandbox.exec(["sh", "-c", "echo one; echo warn >&2; sleep 0.4; echo two"], {
      timeoutMs: 10_000,
      onOutput: (chunk, stream) => chunks.push({ chunk, stream, at: Date.now() }),
    });
    const ended = Date.now();
    expect(chunks.filter((c) => c.stream === "stdout").map((c) => c.chunk).join("")).toBe("one\ntwo\n");
    expect(chunks.filter((c) => c.stream === "stderr").map((c) => c.chunk).join("")).toBe("warn\n");
    expect(ended - chunks[0]!.at).toBeGreaterThanOrEqual(300);
    expect(result.stdout).toBe("one\ntwo\n");
  });

  it("feeds stdin", async () => {
    expect((await sandbox.exec(["cat"], { timeoutMs: 10_000, stdin: "prompt ✓\n" })).stdout).toBe("prompt ✓\n");
  });

  it("keeps only the tail of runaway output", async () => {
    const small = createLocalSandboxProvider({ rootDir, maxOutputBytes: 1000 });
    const capped = await small.create(spec);
    try {
      const result = await capped.exec(["sh", "-c", "head -c 100000 /dev/zero | tr '\\0' a; echo END"], { timeoutMs: 10_000 });
      expect(result.stdout).toMatch(/^\[… 99004 bytes of stdout truncated …\]\na+END\n$/);
      expect(result.stdout.endsWith(`${"a".repeat(996)}END\n`)).toBe(true);
    } finally {
      await capped.kill();
    }
  });
});

describe("stopping commands", () => {
  it("on timeout kills the whole process group, grandchildren included", async () => {
    const probe = pidCollector(3, leftovers);
    const started = Date.now();
    // The grandchild ignores SIGTERM (the disposition survives exec), so SIGKILL must follow.
    const result = await sandbox.exec(["sh", "-c", 'trap "" TERM; sleep 1000 & echo "pid $!"; sh -c \'sleep 1000 & echo "pid $!"; wait\' & echo "pid $$"; wait'], {
      timeoutMs: 500,
      onOutput: probe.onOutput,
    });
    expect(result.timedOut).toBe(true);
    expect(result.exitCode).toBe(124);
    expect(probe.pids).toHaveLength(3);
    expect(probe.pids.filter(isRunning)).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it.runIf(process.platform === "linux")("kills a background job that moved to a process group of its own (job control)", async () => {
    const probe = pidCollector(1, leftovers);
    const result = await sandbox.exec(["bash", "-c", 'set -m; sleep 1000 & echo "pid $!"; wait'], { timeoutMs: 400, onOutput: probe.onOutput });
    expect(result.timedOut).toBe(true);
    expect(probe.pids.filter(isRunning)).toEqual([]);
  });

  it("on abort kills the group promptly and rejects with an AbortError", async () => {
    const probe = pidCollector(2, leftovers);
    const controller = new AbortController();
    const execution = sandbox.exec(["sh", "-c", 'sleep 1000 & echo "pid $!"; echo "pid $$"; wait'], {
      timeoutMs: 60_000,
      signal: controller.signal,
      onOutput: probe.onOutput,
    });
    const pids = await probe.ready;
    const abortedAt = Date.now();
    controller.abort(new Error("task cancelled"));
    const error = await execution.catch((e: unknown) => e);
    expect(error).toMatchObject({ name: "AbortError" });
    expect((error as Error).cause).toEqual(new Error("task cancelled"));
    expect(Date.now() - abortedAt).toBeLessThan(GRACE_MS + 2_000);
    expect(pids.filter(isRunning)).toEqual([]);
  });

  it("does not start a command whose signal is already aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(sandbox.exec(["touch", "started"], { timeoutMs: 10_000, signal: controller.signal })).rejects.toMatchObject({ name: "AbortError" });
    expect(existsSync(path.join(sandbox.workdir, "started"))).toBe(false);
  });

  it("stops what a finished command left running in the background, instead of waiting for it", async () => {
    const probe = pidCollector(1, leftovers);
    const started = Date.now();
    const result = await sandbox.exec(["sh", "-c", 'sleep 1000 & echo "pid $!"'], { timeoutMs: 30_000, onOutput: probe.onOutput });
    expect(result).toMatchObject({ exitCode: 0, timedOut: false });
    expect(Date.now() - started).toBeLessThan(GRACE_MS + 3_000);
    expect(probe.pids.filter(isRunning)).toEqual([]);
  });
});

describe("environment", () => {
  it("contains only the safe base plus what the caller passes: nothing of this process leaks", async () => {
    vi.stubEnv("TASKS_TEST_SECRET", "s3cret-value");
    vi.stubEnv("GITHUB_TOKEN", "ghs_s3cret");
    vi.stubEnv("DATABASE_URL", "postgresql://user:s3cret@db/tasks");
    vi.stubEnv("PRIVATE_KEY", "-----BEGIN RSA PRIVATE KEY-----s3cret");
    const result = await sandbox.exec(["env", "-0"], { timeoutMs: 10_000, env: { TASK_ROLE: "coder" } });
    const env = Object.fromEntries(
      result.stdout
        .split("\0")
        .filter(Boolean)
        .map((line) => [line.slice(0, line.indexOf("=")), line.slice(line.indexOf("=") + 1)]),
    );
    const dir = path.dirname(sandbox.workdir);
    expect(env).toEqual({
      PATH: expect.any(String),
      HOME: dir,
      LANG: "C.UTF-8",
      TMPDIR: sandbox.scratchdir,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: path.join(dir, ".gitconfig"),
      TASK_ROLE: "coder",
    });
    expect(result.stdout).not.toContain("s3cret");
  });

  it("gives git no configuration of the host: no credential helper, no stored token", async () => {
    const hostConfig = path.join(rootDir, "host-gitconfig");
    await writeFile(hostConfig, "[credential]\n\thelper = store --file /root/.git-credentials\n[url \"https://x-access-token:ghs_s3cret@github.com/\"]\n\tinsteadOf = https://github.com/\n");
    vi.stubEnv("GIT_CONFIG_GLOBAL", hostConfig);
    // The fixture is in force for this process's own git…
    const host = await run("git", ["config", "--global", "-l"], { env: process.env });
    expect(host.stdout).toContain("credential.helper");
    // …and invisible inside the sandbox.
    const inside = await sandbox.exec(["git", "config", "-l", "--show-origin"], { timeoutMs: 10_000 });
    expect(inside.stdout).toBe("");
    expect(inside.stdout + inside.stderr).not.toMatch(/credential|s3cret/);
    const helper = await sandbox.exec(["git", "config", "--get", "credential.helper"], { timeoutMs: 10_000 });
    expect(helper.exitCode).toBe(1); // not set anywhere
  });
});

describe("files", () => {
  it("writes and reads files inside the sandbox, relative paths against the workdir", async () => {
    await sandbox.writeFile(`${sandbox.scratchdir}/prompts/prompt.md`, "# Plan ✓");
    expect(await sandbox.readFile(`${sandbox.scratchdir}/prompts/prompt.md`)).toBe("# Plan ✓");
    await sandbox.writeFile("notes/out.bin", new Uint8Array([104, 105]));
    expect(await readFile(path.join(sandbox.workdir, "notes/out.bin"), "utf8")).toBe("hi");
    expect(await sandbox.readFile("notes/out.bin")).toBe("hi");
  });

  it("refuses paths outside the sandbox directory", async () => {
    await expect(sandbox.writeFile("../../escaped.txt", "x")).rejects.toBeInstanceOf(SandboxPathError);
    await expect(sandbox.writeFile(path.join(rootDir, "escaped.txt"), "x")).rejects.toBeInstanceOf(SandboxPathError);
    await expect(sandbox.readFile("/etc/passwd")).rejects.toBeInstanceOf(SandboxPathError);
    await expect(sandbox.readFile(`${sandbox.workdir}/../../../etc/passwd`)).rejects.toBeInstanceOf(SandboxPathError);
    expect(existsSync(path.join(rootDir, "escaped.txt"))).toBe(false);
  });

  it("refuses symbolic links an agent planted, in the file and in the directories above it", async () => {
    const outside = await mkdtemp(path.join(tmpdir(), "tasks-outside-"));
    try {
      await writeFile(path.join(outside, "secret.pem"), "PRIVATE");
      const plant = await sandbox.exec(["sh", "-c", `ln -s ${outside}/secret.pem out.md && ln -s ${outside} linked && mkfifo "$TMPDIR/fifo"`], { timeoutMs: 10_000 });
      expect(plant.exitCode).toBe(0);
      await expect(sandbox.readFile("out.md")).rejects.toBeInstanceOf(SandboxPathError);
      await expect(sandbox.readFile("linked/secret.pem")).rejects.toBeInstanceOf(SandboxPathError);
      await expect(sandbox.writeFile("out.md", "overwrite")).rejects.toBeInstanceOf(SandboxPathError);
      await expect(sandbox.writeFile("linked/new/file.md", "x")).rejects.toBeInstanceOf(SandboxPathError);
      await expect(sandbox.readFile(`${sandbox.scratchdir}/fifo`)).rejects.toBeInstanceOf(SandboxPathError);
      expect(await readFile(path.join(outside, "secret.pem"), "utf8")).toBe("PRIVATE");
      expect(await readdir(outside)).toEqual(["secret.pem"]);
    } finally {
      await rm(outside, { recursive: true, force: true });
    }
  });
});

describe("kill and connect", () => {
  it("kills every process still running, removes the directory, and is harmless twice", async () => {
    const probe = pidCollector(2, leftovers);
    const execution = sandbox
      .exec(["sh", "-c", 'sleep 1000 & echo "pid $!"; echo "pid $$"; wait'], { timeoutMs: 60_000, onOutput: probe.onOutput })
      .catch((error: unknown) => error);
    const pids = await probe.ready;
    const dir = path.dirname(sandbox.workdir);
    await sandbox.kill();
    expect(await execution).toBeInstanceOf(SandboxGoneError);
    expect(pids.filter(isRunning)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    await sandbox.kill();
    await expect(sandbox.exec(["true"], { timeoutMs: 1_000 })).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(sandbox.readFile("x")).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("reattaches to an existing directory, also from a new provider (a restart)", async () => {
    await sandbox.writeFile("kept.txt", "still here");
    const restarted = createLocalSandboxProvider({ rootDir });
    const again = await restarted.connect(sandbox.id, spec);
    expect(again.workdir).toBe(sandbox.workdir);
    expect(await again.readFile("kept.txt")).toBe("still here");
    expect(await provider.connect(sandbox.id, spec)).toBe(sandbox);
  });

  it("throws SandboxGoneError for a killed, missing or malformed id", async () => {
    const id = sandbox.id;
    await sandbox.kill();
    await expect(provider.connect(id, spec)).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(createLocalSandboxProvider({ rootDir }).connect(id, spec)).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(provider.connect("../../etc", spec)).rejects.toBeInstanceOf(SandboxGoneError);
    await expect(provider.connect("run-1-000000000000", spec)).rejects.toBeInstanceOf(SandboxGoneError);
  });

  it("creates the root directory private to this user", async () => {
    const nested = path.join(rootDir, "data", "workspaces");
    const created = await createLocalSandboxProvider({ rootDir: nested }).create(spec);
    expect((await stat(nested)).mode & 0o777).toBe(0o700);
    expect((await stat(path.dirname(created.workdir))).mode & 0o777).toBe(0o700);
    await created.kill();
  });
});

async function realRoot(): Promise<string> {
  const { realpath } = await import("node:fs/promises");
  return realpath(rootDir);
}
