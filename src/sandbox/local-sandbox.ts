// The local adapter: each run gets a directory under `<TASKS_DATA_DIR>/workspaces` and its
// commands run as child processes of this server, without a shell, in a scrubbed environment.
//
// What it protects against: the host's credentials reaching the agent by accident. Commands see
// no variable of this process (no GitHub token, DATABASE_URL, PRIVATE_KEY, model keys unless the
// caller passes them), HOME is the sandbox directory, and git reads neither the system nor the
// user's configuration, so no credential helper or stored token of the host is ever used.
// What it does not: the commands run as the server's own user, so a deliberately malicious
// agent can still read whatever that user can (files, ~/.ssh) and can escape process tracking
// with setsid. Production runs untrusted agents in E2B, where the sandbox is a separate VM.
import { randomBytes } from "node:crypto";
import { mkdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { SandboxGoneError, type ExecOptions, type ExecResult, type Sandbox, type SandboxProvider, type SandboxSpec } from "./sandbox.ts";
import { readFileInside, realDirectoryInside, writeFileInside } from "./confined-path.ts";
import { runProcess } from "./local-process.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "./output-capture.ts";
import { terminateSession } from "./process-session.ts";

export interface LocalSandboxProviderOptions {
  /** Where run directories are made: `<TASKS_DATA_DIR>/workspaces`. */
  rootDir: string;
  /** PATH inside the sandbox; defaults to the system directories and the running Node's own. */
  path?: string;
  /** How long a stopped command gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Cap on the stdout and on the stderr kept for an ExecResult (the tail is kept). */
  maxOutputBytes?: number;
}

interface Settings {
  path: string;
  killGraceMs: number;
  maxOutputBytes: number;
}

const SYSTEM_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];
const DEFAULT_KILL_GRACE_MS = 2_000;
const SANDBOX_ID = /^[A-Za-z0-9_-]{1,64}-[0-9a-f]{12}$/;

export function createLocalSandboxProvider(options: LocalSandboxProviderOptions): SandboxProvider {
  const rootDir = path.resolve(options.rootDir);
  const settings: Settings = {
    // The Node binary's own directory: npm-installed CLIs (claude, codex) live beside it.
    path: options.path ?? [...new Set([path.dirname(process.execPath), ...SYSTEM_PATH])].join(path.delimiter),
    killGraceMs: options.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    maxOutputBytes: options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
  };
  // Sandboxes opened by this process, so connect() returns the one that knows its processes.
  const open = new Map<string, LocalSandbox>();
  const track = (sandbox: LocalSandbox): LocalSandbox => {
    open.set(sandbox.id, sandbox);
    sandbox.onKilled = () => open.delete(sandbox.id);
    return sandbox;
  };

  return {
    kind: "local",

    async create(spec: SandboxSpec): Promise<Sandbox> {
      await mkdir(rootDir, { recursive: true, mode: 0o700 });
      const id = `${spec.runId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 64) || "run"}-${randomBytes(6).toString("hex")}`;
      const dir = path.join(rootDir, id);
      await mkdir(dir, { mode: 0o700 });
      await mkdir(path.join(dir, "repo"));
      await mkdir(path.join(dir, "scratch"));
      // git's global configuration: empty, so nothing of the host's ~/.gitconfig applies.
      await writeFile(path.join(dir, ".gitconfig"), "", { mode: 0o600 });
      return track(new LocalSandbox(id, await realpath(dir), settings));
    },

    async connect(id: string, _spec: SandboxSpec): Promise<Sandbox> {
      const known = open.get(id);
      if (known) return known;
      if (!SANDBOX_ID.test(id)) throw new SandboxGoneError(id);
      const dir = path.join(rootDir, id);
      try {
        if (!(await stat(path.join(dir, "repo"))).isDirectory()) throw new SandboxGoneError(id);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") throw new SandboxGoneError(id, { cause: error });
        throw error;
      }
      return track(new LocalSandbox(id, await realpath(dir), settings));
    },
  };
}

class LocalSandbox implements Sandbox {
  readonly workdir: string;
  readonly scratchdir: string;
  onKilled: () => void = () => undefined;
  /** Sessions (= process groups) of commands that may still have processes running. */
  private readonly sessions = new Set<number>();
  private killed = false;
  private killing: Promise<void> | undefined;

  constructor(
    readonly id: string,
    private readonly dir: string,
    private readonly settings: Settings,
  ) {
    this.workdir = path.join(dir, "repo");
    this.scratchdir = path.join(dir, "scratch");
  }

  async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    this.assertAlive();
    const cwd = await realDirectoryInside(this.dir, this.workdir, options.cwd ?? this.workdir);
    const result = await runProcess(argv, {
      cwd,
      env: { ...this.baseEnvironment(), ...options.env },
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onOutput: options.onOutput,
      stdin: options.stdin,
      killGraceMs: this.settings.killGraceMs,
      maxOutputBytes: this.settings.maxOutputBytes,
      sessions: this.sessions,
    });
    // Killed while it ran: its result is an artefact of the kill, not the command's own.
    this.assertAlive();
    return result;
  }

  async writeFile(file: string, content: string | Uint8Array): Promise<void> {
    this.assertAlive();
    await writeFileInside(this.dir, this.workdir, file, content);
  }

  async readFile(file: string): Promise<string> {
    this.assertAlive();
    return readFileInside(this.dir, this.workdir, file);
  }

  async extend(_timeoutMs: number): Promise<void> {
    // A directory has no lifetime to extend.
  }

  kill(): Promise<void> {
    this.killed = true;
    this.killing ??= this.stopEverything().then(
      () => this.onKilled(),
      (error: unknown) => {
        this.killing = undefined; // let a later kill() try again
        throw error;
      },
    );
    return this.killing;
  }

  private async stopEverything(): Promise<void> {
    await Promise.all([...this.sessions].map((session) => terminateSession(session, this.settings.killGraceMs)));
    this.sessions.clear();
    await rm(this.dir, { recursive: true, force: true });
  }

  /** The whole environment of a command, before the caller's additions: nothing is inherited. */
  private baseEnvironment(): Record<string, string> {
    return {
      PATH: this.settings.path,
      HOME: this.dir,
      LANG: "C.UTF-8",
      TMPDIR: this.scratchdir,
      GIT_TERMINAL_PROMPT: "0",
      GIT_CONFIG_NOSYSTEM: "1",
      GIT_CONFIG_GLOBAL: path.join(this.dir, ".gitconfig"),
    };
  }

  private assertAlive(): void {
    if (this.killed) throw new SandboxGoneError(this.id);
  }
}
