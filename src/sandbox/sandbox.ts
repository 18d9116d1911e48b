// The sandbox port (ARCHITECTURE.md, untrusted compute): where a repository checkout and the
// agent process live. It never holds a credential that can write to GitHub. Commands are argv
// arrays run without a shell by the adapter, so no string from GitHub is ever parsed by one.

export interface ExecOptions {
  /** Working directory inside the sandbox; defaults to the sandbox's workdir. */
  cwd?: string;
  /** Extra environment for this command (the adapter starts from a scrubbed environment). */
  env?: Record<string, string>;
  /** Hard limit; the command (and its process group) is killed when it passes. */
  timeoutMs: number;
  /** Aborting kills the command (and its process group) promptly. */
  signal?: AbortSignal;
  /** Streams output as it arrives (for live task logs). */
  onOutput?: (chunk: string, stream: "stdout" | "stderr") => void;
  stdin?: string;
  /**
   * What the command may reach over the network (isolated local sandboxes; E2B's allow-list is
   * per sandbox): nothing by default, the model gateway for agents, the egress proxy (the hosts of
   * TASKS_EGRESS_ALLOW) for setup commands.
   */
  network?: "none" | "model-gateway" | "egress";
  /**
   * The checkout is read-only for this command (planner, reviewer). The isolated local sandbox
   * mounts it read-only; elsewhere the agent CLI's own permissions are what holds.
   */
  readOnlyCheckout?: boolean;
}

export interface ExecResult {
  /** Non-zero exits are data, not exceptions. */
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface Sandbox {
  readonly id: string;
  /** Absolute path of the repository checkout inside the sandbox. */
  readonly workdir: string;
  /** Absolute path of a scratch directory outside the checkout (prompts, outputs, bundles). */
  readonly scratchdir: string;
  exec(argv: string[], options: ExecOptions): Promise<ExecResult>;
  writeFile(path: string, content: string | Uint8Array): Promise<void>;
  readFile(path: string): Promise<string>;
  /**
   * A file's exact bytes (a patch need not be UTF-8). Reads at most `maxBytes`: a larger file
   * throws SandboxFileTooLargeError, and what the sandbox wrote is never held beyond the limit.
   */
  readBytes(path: string, maxBytes: number): Promise<Uint8Array>;
  /** Keeps the sandbox alive while work goes on (E2B's timeout); a no-op where there is none. */
  extend(timeoutMs: number): Promise<void>;
  /** Ends the sandbox and everything in it. Harmless to call twice or after it vanished. */
  kill(): Promise<void>;
}

export interface SandboxSpec {
  taskId: string;
  runId: string;
  /** How long the sandbox may live without being extended. */
  timeoutMs: number;
}

export interface SandboxProvider {
  readonly kind: "e2b" | "local";
  /** The model gateway's URL as commands in this provider's sandboxes reach it, when the provider routes it itself. */
  readonly gatewayUrl?: string | undefined;
  create(spec: SandboxSpec): Promise<Sandbox>;
  /** Reattaches to a sandbox created earlier (after a restart); throws SandboxGoneError if it is gone. */
  connect(id: string, spec: SandboxSpec): Promise<Sandbox>;
}

/** A file read from the sandbox holds more than the reader allows. */
export class SandboxFileTooLargeError extends Error {
  constructor(readonly path: string, readonly maxBytes: number) {
    super(`${path} holds more than ${maxBytes} bytes`);
    this.name = "SandboxFileTooLargeError";
  }
}

/** The sandbox no longer exists (timed out, killed, or lost with its host). */
export class SandboxGoneError extends Error {
  constructor(readonly sandboxId: string, options?: { cause?: unknown }) {
    super(`sandbox ${sandboxId} no longer exists`, options);
    this.name = "SandboxGoneError";
  }
}
