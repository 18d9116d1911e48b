// The narrow surface of the E2B SDK that the E2B adapter uses (types only). The adapter's
// default is the real `e2b` module (e2b-sandbox.ts, the only importer of `e2b`); tests pass a fake.
// Shapes follow the SDK 2.x typings: commands.run(cmd, { background: true, … }) returns a
// handle whose wait() rejects with CommandExitError on a non-zero exit.

export interface E2BCommandResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}
export interface E2BCommandHandle {
  readonly pid: number;
  /** Resolves on exit 0; rejects with CommandExitError on any other exit. */
  wait(): Promise<E2BCommandResult>;
  kill(): Promise<boolean>;
}
export interface E2BRunOptions {
  background: true;
  cwd?: string;
  envs?: Record<string, string>;
  timeoutMs: number;
  onStdout?: (data: string) => void;
  onStderr?: (data: string) => void;
}
export interface E2BSandboxHandle {
  readonly sandboxId: string;
  readonly commands: { run(cmd: string, options: E2BRunOptions): Promise<E2BCommandHandle> };
  readonly files: {
    write(path: string, data: string | ArrayBuffer): Promise<unknown>;
    read(path: string): Promise<string>;
    read(path: string, opts: { format: "stream" }): Promise<ReadableStream<Uint8Array>>;
  };
  setTimeout(timeoutMs: number): Promise<void>;
  isRunning(): Promise<boolean>;
  /** false when the sandbox was already gone. */
  kill(): Promise<boolean>;
}
export interface E2BCreateOptions {
  apiKey: string;
  timeoutMs: number;
  metadata: Record<string, string>;
  /** Egress: denyOut [ALL_TRAFFIC] with an allowOut list is E2B's documented allow-list form. */
  network: { allowOut: string[]; denyOut: string[] };
}
export interface E2BConnectOptions {
  apiKey: string;
  timeoutMs: number;
}
type ErrorClass<T extends Error = Error> = abstract new (...args: never[]) => T;
export interface E2BSdk {
  create(template: string, options: E2BCreateOptions): Promise<E2BSandboxHandle>;
  connect(sandboxId: string, options: E2BConnectOptions): Promise<E2BSandboxHandle>;
  readonly errors: {
    CommandExitError: ErrorClass<Error & E2BCommandResult>;
    TimeoutError: ErrorClass;
    /** Base of SandboxNotFoundError and FileNotFoundError; thrown bare for other missing things. */
    NotFoundError: ErrorClass;
    SandboxNotFoundError: ErrorClass;
    FileNotFoundError: ErrorClass;
  };
}

