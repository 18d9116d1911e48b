// Two stand-ins for the Sandbox port, for agent runtime tests:
// - a real one: a temp directory and real child processes (spawn with shell: false, its own
//   process group so a timeout kills everything it started), so `sh -c` really runs;
// - a scripted one: in-memory files and an exec that answers with canned output.
import { spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { AgentRunRequest } from "../../src/agent/agent-runtime.ts";
import { SandboxFileTooLargeError, type ExecOptions, type ExecResult, type Sandbox, type SandboxProvider } from "../../src/sandbox/sandbox.ts";

export interface ExecCall {
  argv: string[];
  options: ExecOptions;
}

export interface TempDirSandbox extends Sandbox {
  readonly root: string;
  readonly calls: ExecCall[];
  cleanup(): Promise<void>;
}

export async function createTempDirSandbox(): Promise<TempDirSandbox> {
  const root = await mkdtemp(join(tmpdir(), "tasks-agent-test-"));
  const workdir = join(root, "checkout");
  const scratchdir = join(root, "scratch");
  await mkdir(workdir);
  await mkdir(scratchdir);
  const calls: ExecCall[] = [];

  return {
    id: `test-${root}`,
    root,
    workdir,
    scratchdir,
    calls,
    exec(argv, options) {
      calls.push({ argv, options });
      return new Promise<ExecResult>((resolve, reject) => {
        const [file, ...args] = argv;
        if (!file) return reject(new Error("empty argv"));
        // A scrubbed environment, as the adapters promise: only PATH and what the caller passes.
        const child = spawn(file, args, {
          cwd: options.cwd ?? workdir,
          env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: root, ...options.env },
          shell: false,
          detached: true,
          stdio: ["pipe", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        const killGroup = () => {
          try {
            if (child.pid) process.kill(-child.pid, "SIGKILL");
          } catch {
            // already gone
          }
        };
        const timer = setTimeout(() => {
          timedOut = true;
          killGroup();
        }, options.timeoutMs);
        const onAbort = () => killGroup();
        options.signal?.addEventListener("abort", onAbort, { once: true });
        child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
          stdout += chunk;
          options.onOutput?.(chunk, "stdout");
        });
        child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
          stderr += chunk;
          options.onOutput?.(chunk, "stderr");
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(options.stdin ?? "");
        child.on("error", (error) => {
          clearTimeout(timer);
          reject(error);
        });
        child.on("close", (code, signal) => {
          clearTimeout(timer);
          options.signal?.removeEventListener("abort", onAbort);
          resolve({ exitCode: code ?? (signal ? 128 + 9 : 1), stdout, stderr, timedOut });
        });
      });
    },
    async writeFile(path, content) {
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, content);
    },
    readFile: (path) => readFile(path, "utf8"),
    async readBytes(path, maxBytes) {
      const bytes = await readFile(path);
      if (bytes.length > maxBytes) throw new SandboxFileTooLargeError(path, maxBytes);
      return bytes;
    },
    extend: async () => undefined,
    kill: async () => undefined,
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}

export interface ScriptedRun {
  /** Output chunks delivered through onOutput, in order (they may split lines anywhere). */
  stdout?: string[];
  stderr?: string[];
  exitCode?: number;
  timedOut?: boolean;
  /** Files the "process" writes before exiting. */
  writes?: Record<string, string>;
}

export interface ScriptedSandbox extends Sandbox {
  readonly calls: ExecCall[];
  readonly files: Map<string, string>;
}

/** A sandbox whose exec answers with `script(argv, options)` instead of running anything. */
export function createScriptedSandbox(script: (argv: string[], options: ExecOptions) => ScriptedRun): ScriptedSandbox {
  const files = new Map<string, string>();
  const calls: ExecCall[] = [];
  return {
    id: "scripted",
    workdir: "/home/user/checkout",
    scratchdir: "/home/user/scratch",
    calls,
    files,
    async exec(argv, options) {
      calls.push({ argv, options });
      const run = script(argv, options);
      for (const chunk of run.stdout ?? []) options.onOutput?.(chunk, "stdout");
      for (const chunk of run.stderr ?? []) options.onOutput?.(chunk, "stderr");
      for (const [path, content] of Object.entries(run.writes ?? {})) files.set(path, content);
      return {
        exitCode: run.exitCode ?? 0,
        stdout: (run.stdout ?? []).join(""),
        stderr: (run.stderr ?? []).join(""),
        timedOut: run.timedOut ?? false,
      };
    },
    async writeFile(path, content) {
      files.set(path, typeof content === "string" ? content : Buffer.from(content).toString("utf8"));
    },
    async readFile(path) {
      const content = files.get(path);
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      return content;
    },
    async readBytes(path, maxBytes) {
      const content = files.get(path);
      if (content === undefined) throw new Error(`ENOENT: ${path}`);
      if (Buffer.byteLength(content) > maxBytes) throw new SandboxFileTooLargeError(path, maxBytes);
      return Buffer.from(content, "utf8");
    },
    extend: async () => undefined,
    kill: async () => undefined,
  };
}

/** Splits text into chunks of `size` characters, to prove line handling survives any split. */
export function chunked(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
  return chunks;
}

/** The model gateway a test agent is pointed at: its URL and the run's token, never a model key. */
export const testGateway = { url: "http://127.0.0.1:3999", token: "tgw_run-token-for-the-test" };

/** An agent request against `sandbox`, collecting streamed lines; `overrides` win. */
export function agentRequest(sandbox: Sandbox, prompt: string, overrides: Partial<AgentRunRequest> = {}): { request: AgentRunRequest; lines: string[] } {
  const lines: string[] = [];
  const request: AgentRunRequest = {
    role: "coder",
    slug: "POS-12",
    prompt,
    sandbox,
    timeoutMs: 60_000,
    signal: new AbortController().signal,
    onOutput: (line) => lines.push(line),
    gateway: testGateway,
    ...overrides,
  };
  return { request, lines };
}

/** The error a promise rejects with; fails the test when it resolves. */
export async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error("expected the run to fail");
}

/** Sandboxes in temp directories, with real processes, kept so the test can end them. */
export function createTempDirProvider(): SandboxProvider & { readonly sandboxes: TempDirSandbox[] } {
  const sandboxes: TempDirSandbox[] = [];
  return {
    kind: "local",
    sandboxes,
    async create() {
      const sandbox = await createTempDirSandbox();
      sandboxes.push(sandbox);
      return sandbox;
    },
    async connect(id) {
      const sandbox = sandboxes.find((s) => s.id === id);
      if (!sandbox) throw new Error(`no sandbox ${id}`);
      return sandbox;
    },
  };
}
