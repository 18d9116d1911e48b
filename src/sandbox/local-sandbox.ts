// The local adapter: each run gets a directory under `<TASKS_DATA_DIR>/workspaces` and its
// commands run as child processes of this server, without a shell, in a scrubbed environment.
//
// Isolated (the default, `isolation` set): every command runs in a bubblewrap sandbox of its own
// (bubblewrap.ts, isolation.ts): its run directory is the only host path it can write, it sees no
// file, process, socket or network of the server, reaches the model gateway and (for setup
// commands) the egress proxy only through Unix sockets bound in, and nothing it starts outlives it.
// Each command is held to limits on processes, file size, /tmp and the disk (resource-limits.ts);
// one that reaches a limit ends with a `[sandbox]` line on stderr saying which.
//
// Unisolated (TASKS_SANDBOX=unsafe-host, for trying Tasks on a laptop): the same scrubbed
// environment, but the commands run as the server's own user and can read whatever it can.
import { randomBytes } from "node:crypto";
import { mkdir, realpath, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { SandboxGoneError, type ExecOptions, type ExecResult, type Sandbox, type SandboxProvider, type SandboxSpec } from "./sandbox.ts";
import { readBytesInside, readFileInside, realDirectoryInside, writeFileInside } from "./confined-path.ts";
import { runProcess, type LimitWatch } from "./local-process.ts";
import { DEFAULT_MAX_OUTPUT_BYTES } from "./output-capture.ts";
import { NOT_FOUND_EXIT_CODE } from "./exec-outcome.ts";
import { countSessionTasks, terminateSession } from "./process-session.ts";
import { INSIDE } from "./bubblewrap.ts";
import { prepareIsolation, type Isolation, type IsolationOptions, type NetworkSockets } from "./isolation.ts";
import { startGatewaySocket } from "./gateway-socket.ts";
import { startEgressProxy } from "./egress-proxy.ts";
import type { Logger } from "../lib/logger.ts";
import { checkLimits, DEFAULT_SANDBOX_LIMITS, diskReserveNote, explainLimitExit, LIMIT_WATCH_MS, processesRefusedNote, processLimitNote, type SandboxLimits } from "./resource-limits.ts";
import { openPidsCgroups, type PidsCgroup, type PidsCgroups } from "./pids-cgroup.ts";

export interface LocalSandboxProviderOptions {
  /** Where run directories are made: `<TASKS_DATA_DIR>/workspaces`. */
  rootDir: string;
  /** PATH inside the sandbox; defaults to the system directories and the running Node's own. */
  path?: string;
  /** How long a stopped command gets between SIGTERM and SIGKILL. */
  killGraceMs?: number;
  /** Cap on the stdout and on the stderr kept for an ExecResult (the tail is kept). */
  maxOutputBytes?: number;
  /** Run every command in a bubblewrap sandbox; without it commands run as the server's user. */
  isolation?: LocalIsolationOptions;
  /** What one isolated command may use of the host (tests make them small); DEFAULT_SANDBOX_LIMITS by default. */
  limits?: Partial<SandboxLimits>;
}

export interface LocalIsolationOptions extends IsolationOptions {
  /** The model gateway on the host (the app's port); sandboxes reach it only through a socket. */
  gatewayUrl?: string;
  /** Where the files all sandboxes share (their passwd, the sockets) are kept: `<TASKS_DATA_DIR>/sandbox`. */
  stateDir: string;
  /** TASKS_EGRESS_ALLOW: the hosts setup commands may reach through the egress proxy. */
  egressAllow: readonly string[];
  log?: Logger;
}

interface Settings {
  path: string;
  killGraceMs: number;
  maxOutputBytes: number;
  limits: SandboxLimits;
  /** Set once the first sandbox is made (isolated providers only); cgroups where this process may make them. */
  isolated?: { isolation: Isolation; sockets: NetworkSockets; cgroups: PidsCgroups | undefined };
}

/** The model gateway as commands in an isolated local sandbox reach it: the sandbox's own loopback. */
export const ISOLATED_GATEWAY_URL = `http://127.0.0.1:${INSIDE.gatewayPort}`;
const EGRESS_PROXY_URL = `http://127.0.0.1:${INSIDE.egressPort}`;

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
    limits: checkLimits({ ...DEFAULT_SANDBOX_LIMITS, ...options.limits }),
  };
  let preparing: Promise<void> | undefined;
  const isolation = options.isolation;
  /** The shared parts of isolated sandboxes and their sockets, made once, on first use. */
  const prepare = (): Promise<void> => {
    if (!isolation) return Promise.resolve();
    preparing ??= (async () => {
      const stateDir = path.resolve(isolation.stateDir);
      await mkdir(stateDir, { recursive: true, mode: 0o700 });
      const socketName = (what: string) => path.join(stateDir, `${what}-${process.pid}-${randomBytes(3).toString("hex")}.sock`);
      const gateway = isolation.gatewayUrl ? await startGatewaySocket({ socketPath: socketName("gw"), gatewayUrl: isolation.gatewayUrl }) : undefined;
      const egressSocket = socketName("egress");
      await startEgressProxy({ socketPath: egressSocket, allow: isolation.egressAllow, ...(isolation.log ? { log: isolation.log } : {}) });
      settings.isolated = {
        isolation: await prepareIsolation(isolation, stateDir),
        sockets: { gateway: gateway?.socketPath, egress: egressSocket },
        cgroups: await openPidsCgroups(),
      };
      settings.path = settings.isolated.isolation.path;
    })().catch((error: unknown) => {
      preparing = undefined;
      throw error;
    });
    return preparing;
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

    gatewayUrl: isolation ? ISOLATED_GATEWAY_URL : undefined,

    async create(spec: SandboxSpec): Promise<Sandbox> {
      await mkdir(rootDir, { recursive: true, mode: 0o700 });
      await prepare();
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
      await prepare();
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
    const network = options.network ?? "none";
    const isolated = this.settings.isolated;
    const env = { ...this.baseEnvironment(), ...(network === "egress" ? proxyEnvironment() : {}), ...options.env };
    const { limits } = this.settings;
    const wrapped = isolated ? isolated.isolation.wrap(argv, { runDir: this.dir, cwd, network, sockets: isolated.sockets, readOnly: options.readOnlyCheckout ? this.workdir : undefined, limits }) : argv;
    const cgroup = await isolated?.cgroups?.create(limits.maxProcesses);
    const command = cgroup ? cgroup.join(wrapped) : wrapped;
    const result = await runProcess(command, {
      cwd,
      env,
      timeoutMs: options.timeoutMs,
      signal: options.signal,
      onOutput: options.onOutput,
      stdin: options.stdin,
      killGraceMs: this.settings.killGraceMs,
      maxOutputBytes: this.settings.maxOutputBytes,
      sessions: this.sessions,
      ...(isolated ? { limits: this.limitWatch(cgroup) } : {}),
    }).finally(() => cgroup?.remove());
    // Killed while it ran: its result is an artefact of the kill, not the command's own.
    this.assertAlive();
    return isolated ? reportMissingProgram(result) : result;
  }

  async writeFile(file: string, content: string | Uint8Array): Promise<void> {
    this.assertAlive();
    await writeFileInside(this.dir, this.workdir, file, content);
  }

  async readFile(file: string): Promise<string> {
    this.assertAlive();
    return readFileInside(this.dir, this.workdir, file);
  }

  async readBytes(file: string, maxBytes: number): Promise<Uint8Array> {
    this.assertAlive();
    return readBytesInside(this.dir, this.workdir, file, maxBytes);
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

  /**
   * The limits of an isolated command as the watchdog sees them: a fork refused by its cgroup, or
   * (without one) as many tasks in its session as RLIMIT_NPROC allows; the disk's reserve.
   */
  private limitWatch(cgroup: PidsCgroup | undefined): LimitWatch {
    const { limits } = this.settings;
    return {
      everyMs: LIMIT_WATCH_MS,
      check: async (session) => {
        const full = cgroup ? await cgroup.reachedLimit() : ((await countSessionTasks(session)) ?? 0) >= limits.maxProcesses;
        return full ? processLimitNote(limits) : diskReserveNote(this.dir, limits);
      },
      // The cgroup knows for sure that a fork was refused, even when the command shrugged it off.
      explain: async (exitCode, stderr) => ((await cgroup?.reachedLimit()) ? processesRefusedNote(limits) : explainLimitExit(exitCode, stderr, limits)),
    };
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

/** Setup commands reach the egress proxy; tools read one spelling or the other. */
function proxyEnvironment(): Record<string, string> {
  return { HTTP_PROXY: EGRESS_PROXY_URL, HTTPS_PROXY: EGRESS_PROXY_URL, http_proxy: EGRESS_PROXY_URL, https_proxy: EGRESS_PROXY_URL, NO_PROXY: "", no_proxy: "" };
}

/** bwrap and prlimit (which starts the command inside) report a missing program their own way; callers expect the shell's. */
function reportMissingProgram(result: ExecResult): ExecResult {
  const missing = /^(?:bwrap: execvp|prlimit: failed to execute) (.+): No such file or directory\n?$/.exec(result.stderr);
  if ((result.exitCode !== 1 && result.exitCode !== NOT_FOUND_EXIT_CODE) || !missing) return result;
  return { ...result, exitCode: NOT_FOUND_EXIT_CODE, stderr: `${missing[1]}: command not found\n` };
}
