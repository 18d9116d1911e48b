// A fake of the E2B SDK surface the adapter uses (E2BSdk): the real SDK talks HTTP through
// undici, out of nock's sight (ENVIRONMENT.md). Error classes mirror the SDK's hierarchy.
import type { E2BCommandHandle, E2BCommandResult, E2BConnectOptions, E2BCreateOptions, E2BRunOptions, E2BSandboxHandle, E2BSdk } from "../../src/sandbox/e2b-sdk.ts";

export class FakeNotFoundError extends Error {}
export class FakeSandboxNotFoundError extends FakeNotFoundError {}
export class FakeFileNotFoundError extends FakeNotFoundError {}
export class FakeTimeoutError extends Error {}
export class FakeCommandExitError extends Error implements E2BCommandResult {
  constructor(
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`exit status ${exitCode}`);
  }
}

export const fakeErrors: E2BSdk["errors"] = {
  CommandExitError: FakeCommandExitError,
  TimeoutError: FakeTimeoutError,
  NotFoundError: FakeNotFoundError,
  SandboxNotFoundError: FakeSandboxNotFoundError,
  FileNotFoundError: FakeFileNotFoundError,
};

/** What a fake command does: print, then exit — or run until killed. */
export interface Script {
  stdout?: string[];
  stderr?: string[];
  exitCode?: number;
  hang?: boolean;
}
export type RunHandler = (cmd: string, options: E2BRunOptions) => Script;

export class FakeCommand implements E2BCommandHandle {
  killed = false;
  private readonly done: Promise<E2BCommandResult>;
  private end!: (exitCode: number) => void;

  constructor(
    readonly pid: number,
    readonly cmd: string,
    readonly options: E2BRunOptions,
    script: Script,
  ) {
    let out = "";
    let err = "";
    this.done = new Promise<E2BCommandResult>((resolve, reject) => {
      this.end = (exitCode) => (exitCode === 0 ? resolve({ exitCode, stdout: out, stderr: err }) : reject(new FakeCommandExitError(exitCode, out, err)));
    });
    this.done.catch(() => undefined); // observed through wait()
    queueMicrotask(() => {
      for (const chunk of script.stdout ?? []) {
        out += chunk;
        options.onStdout?.(chunk);
      }
      for (const chunk of script.stderr ?? []) {
        err += chunk;
        options.onStderr?.(chunk);
      }
      if (!script.hang) this.end(script.exitCode ?? 0);
    });
  }

  wait(): Promise<E2BCommandResult> {
    return this.done;
  }

  async kill(): Promise<boolean> {
    const wasRunning = !this.killed;
    this.killed = true;
    this.end(-1); // envd reports a killed process with exit code -1
    return wasRunning;
  }
}

export class FakeSandbox implements E2BSandboxHandle {
  running = true;
  killCalls = 0;
  readonly runs: FakeCommand[] = [];
  readonly stored = new Map<string, string | ArrayBuffer>();
  readonly timeouts: number[] = [];
  /** What each command does; the adapter's own group kill marks its target killed. */
  handler: RunHandler = () => ({});
  /** Overrides for failure tests. */
  failWith: { run?: Error; read?: Error } = {};
  private nextPid = 1000;

  constructor(readonly sandboxId: string) {}

  readonly commands = {
    run: async (cmd: string, options: E2BRunOptions): Promise<E2BCommandHandle> => {
      this.assertRunning();
      if (this.failWith.run) throw this.failWith.run;
      const groupKill = /^kill -KILL -- -(\d+) /.exec(cmd);
      if (groupKill) void this.runs.find((command) => command.pid === Number(groupKill[1]))?.kill();
      const command = new FakeCommand((this.nextPid += 1), cmd, options, groupKill ? {} : this.handler(cmd, options));
      this.runs.push(command);
      return command;
    },
  };

  readonly files = {
    write: async (path: string, data: string | ArrayBuffer): Promise<unknown> => {
      this.assertRunning();
      this.stored.set(path, data);
      return { path };
    },
    read: (async (path: string, opts?: { format: "stream" }): Promise<string | ReadableStream<Uint8Array>> => {
      this.assertRunning();
      if (this.failWith.read) throw this.failWith.read;
      const data = this.stored.get(path);
      if (data === undefined) throw new FakeFileNotFoundError(`file ${path} not found`);
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data);
      if (opts?.format !== "stream") return bytes.toString("utf8");
      // Like the SDK's stream: the bytes in chunks, so a reader can stop part-way.
      return new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += 64 * 1024) controller.enqueue(bytes.subarray(offset, offset + 64 * 1024));
          controller.close();
        },
      });
    }) as E2BSandboxHandle["files"]["read"],
  };

  async setTimeout(timeoutMs: number): Promise<void> {
    this.assertRunning();
    this.timeouts.push(timeoutMs);
  }

  async isRunning(): Promise<boolean> {
    return this.running;
  }

  async kill(): Promise<boolean> {
    this.killCalls += 1;
    const wasRunning = this.running;
    this.running = false;
    return wasRunning;
  }

  /** Commands the adapter ran, without its housekeeping (mkdir at create, group kills). */
  get userRuns(): FakeCommand[] {
    return this.runs.filter((command) => !command.cmd.startsWith("kill -KILL") && !command.cmd.includes("'mkdir' '-p' '--' '/home/user/repo'"));
  }

  private assertRunning(): void {
    if (!this.running) throw new FakeSandboxNotFoundError(`sandbox ${this.sandboxId} not found`);
  }
}

export interface FakeE2BSdk extends E2BSdk {
  readonly created: { template: string; options: E2BCreateOptions; sandbox: FakeSandbox }[];
  readonly connected: { sandboxId: string; options: E2BConnectOptions }[];
  readonly sandboxes: Map<string, FakeSandbox>;
  /** Applied to each sandbox as it is created. */
  setup: (sandbox: FakeSandbox) => void;
}

export function createFakeE2BSdk(): FakeE2BSdk {
  let counter = 0;
  const sdk: FakeE2BSdk = {
    created: [],
    connected: [],
    sandboxes: new Map(),
    setup: () => undefined,
    errors: fakeErrors,
    async create(template, options) {
      const sandbox = new FakeSandbox(`sbx-${(counter += 1)}`);
      sdk.setup(sandbox);
      sdk.sandboxes.set(sandbox.sandboxId, sandbox);
      sdk.created.push({ template, options, sandbox });
      return sandbox;
    },
    async connect(sandboxId, options) {
      sdk.connected.push({ sandboxId, options });
      const sandbox = sdk.sandboxes.get(sandboxId);
      if (!sandbox?.running) throw new FakeSandboxNotFoundError(`Sandbox ${sandboxId} not found`);
      return sandbox;
    },
  };
  return sdk;
}
