// One E2B microVM as the Sandbox port sees it: commands as argv wrapped in `exec setsid -w --`
// (see e2b-sandbox.ts for why), files, timeouts, and SDK errors that mean "the sandbox is gone"
// translated into SandboxGoneError. It uses only the narrow SDK surface of e2b-sdk.ts.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { SandboxFileTooLargeError, SandboxGoneError, type ExecOptions, type ExecResult, type Sandbox } from "./sandbox.ts";
import { CommandAbortedError, TIMED_OUT_EXIT_CODE } from "./exec-outcome.ts";
import { OutputCapture } from "./output-capture.ts";
import { quoteShellArg, quoteShellCommand } from "./shell-quote.ts";
import type { E2BCommandHandle, E2BCommandResult, E2BSandboxHandle, E2BSdk } from "./e2b-sdk.ts";

/** The template's user (e2b.Dockerfile) and the directories every run uses. */
const HOME = "/home/user";
const WORKDIR = `${HOME}/repo`;
const SCRATCHDIR = `${HOME}/scratch`;
/** Bound on the adapter's own housekeeping commands (mkdir, kill). */
const CONTROL_COMMAND_TIMEOUT_MS = 30_000;
/** The SDK's deadline stays behind ours, so a timeout is always handled here (group killed) first. */
const SDK_DEADLINE_SLACK_MS = 10_000;

type Outcome = { kind: "exit"; result: E2BCommandResult } | { kind: "error"; error: unknown } | { kind: "timeout" } | { kind: "abort" };

export class E2BRunSandbox implements Sandbox {
  readonly id: string;
  readonly workdir = WORKDIR;
  readonly scratchdir = SCRATCHDIR;
  private gone = false;
  private killing: Promise<void> | undefined;

  constructor(
    private readonly handle: E2BSandboxHandle,
    private readonly sdk: E2BSdk,
    private readonly maxOutputBytes: number,
  ) {
    this.id = handle.sandboxId;
  }

  /** Makes the run's directories; the checkout is cloned into the empty workdir later. */
  async prepare(): Promise<void> {
    const result = await this.exec(["mkdir", "-p", "--", WORKDIR, SCRATCHDIR], { cwd: HOME, timeoutMs: CONTROL_COMMAND_TIMEOUT_MS });
    if (result.exitCode !== 0) throw new Error(`could not make ${WORKDIR} and ${SCRATCHDIR} in sandbox ${this.id}: ${result.stderr.trim()}`);
  }

  async exec(argv: string[], options: ExecOptions): Promise<ExecResult> {
    this.assertAlive();
    const command = quoteShellCommand(argv);
    if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError("timeoutMs must be a positive number");
    const { signal } = options;
    if (signal?.aborted) throw new CommandAbortedError({ cause: signal.reason });

    const stdinFile = options.stdin === undefined ? undefined : await this.stageStdin(options.stdin);
    const capture = new OutputCapture(this.maxOutputBytes, options.onOutput);
    const started = await this.guard(() =>
      this.handle.commands.run(`exec setsid -w -- ${command}${stdinFile ? ` < ${quoteShellArg(stdinFile)}` : ""}`, {
        background: true,
        cwd: options.cwd ?? this.workdir,
        envs: { ...options.env },
        timeoutMs: options.timeoutMs + SDK_DEADLINE_SLACK_MS,
        onStdout: (data) => capture.pushText("stdout", data),
        onStderr: (data) => capture.pushText("stderr", data),
      }),
    );

    const outcome = await settle(started, options.timeoutMs, signal);
    if (outcome.kind === "abort") {
      capture.seal();
      const stopError = await this.stopCommand(started).then(() => undefined, (error: unknown) => error);
      const cause = stopError === undefined ? signal?.reason : new AggregateError([signal?.reason, stopError], "aborted, but the command could not be stopped");
      throw new CommandAbortedError({ cause });
    }
    if (outcome.kind === "timeout") await this.stopCommand(started);
    capture.seal();
    if (capture.failure) throw capture.failure.error;
    if (outcome.kind === "timeout") return { exitCode: TIMED_OUT_EXIT_CODE, ...capture.result(), timedOut: true };
    if (outcome.kind === "exit") return { exitCode: outcome.result.exitCode, ...capture.result(), timedOut: false };
    // A non-zero exit is data, not a failure of the sandbox.
    if (outcome.error instanceof this.sdk.errors.CommandExitError) return { exitCode: outcome.error.exitCode, ...capture.result(), timedOut: false };
    throw await this.translate(outcome.error);
  }

  async writeFile(file: string, content: string | Uint8Array): Promise<void> {
    this.assertAlive();
    // A copy, so the SDK gets a plain ArrayBuffer of exactly these bytes.
    const data = typeof content === "string" ? content : new Uint8Array(content).buffer;
    await this.guard(() => this.handle.files.write(this.absolute(file), data));
  }

  async readFile(file: string): Promise<string> {
    this.assertAlive();
    return this.guard(() => this.handle.files.read(this.absolute(file)));
  }

  async readBytes(file: string, maxBytes: number): Promise<Uint8Array> {
    this.assertAlive();
    const stream = await this.guard(() => this.handle.files.read(this.absolute(file), { format: "stream" }));
    // Streamed and counted, so a file the agent keeps growing is cut off at the limit, not downloaded.
    const chunks: Uint8Array[] = [];
    let total = 0;
    const reader = stream.getReader();
    try {
      for (let next = await reader.read(); !next.done; next = await reader.read()) {
        total += next.value.byteLength;
        if (total > maxBytes) throw new SandboxFileTooLargeError(file, maxBytes);
        chunks.push(next.value);
      }
    } finally {
      await reader.cancel().catch(() => undefined);
    }
    return Buffer.concat(chunks, total);
  }

  async extend(timeoutMs: number): Promise<void> {
    this.assertAlive();
    await this.guard(() => this.handle.setTimeout(timeoutMs));
  }

  kill(): Promise<void> {
    this.killing ??= this.handle.kill().then(
      () => {
        this.gone = true;
      },
      async (error: unknown) => {
        const translated = await this.translate(error);
        if (translated instanceof SandboxGoneError) {
          this.gone = true; // already gone: that is what kill() wanted
          return;
        }
        this.killing = undefined; // let a later kill() try again
        throw translated;
      },
    );
    return this.killing;
  }

  /**
   * Kills the command's whole process group, then envd's handle (which also stops its output).
   * The group id is a number from envd, never text; 1 or less would address every process.
   */
  private async stopCommand(command: E2BCommandHandle): Promise<void> {
    if (!Number.isSafeInteger(command.pid) || command.pid <= 1) throw new Error(`sandbox ${this.id} reported an impossible pid ${command.pid}`);
    try {
      const groupKill = await this.handle.commands.run(`kill -KILL -- -${command.pid} 2>/dev/null || true`, {
        background: true,
        cwd: HOME,
        timeoutMs: CONTROL_COMMAND_TIMEOUT_MS,
      });
      await groupKill.wait();
      await command.kill();
    } catch (error) {
      const translated = await this.translate(error);
      if (translated instanceof SandboxGoneError) return; // nothing runs in a sandbox that is gone
      throw translated;
    }
  }

  private async stageStdin(stdin: string): Promise<string> {
    const file = `${SCRATCHDIR}/.stdin-${randomUUID()}`;
    await this.guard(() => this.handle.files.write(file, stdin));
    return file;
  }

  private absolute(file: string): string {
    return path.posix.resolve(this.workdir, file);
  }

  private async guard<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw await this.translate(error);
    }
  }

  /** SDK errors that mean the sandbox no longer exists become SandboxGoneError. */
  private async translate(error: unknown): Promise<unknown> {
    const { errors } = this.sdk;
    if (error instanceof errors.FileNotFoundError) return error;
    if (error instanceof errors.NotFoundError) return new SandboxGoneError(this.id, { cause: error });
    // The SDK reports a sandbox that timed out (or was killed) mid-request as TimeoutError, and a
    // slow request the same way: ask the API which it was. If even that fails, the original
    // error is the best account of what happened.
    if (error instanceof errors.TimeoutError && !(await this.handle.isRunning().catch(() => true))) {
      return new SandboxGoneError(this.id, { cause: error });
    }
    return error;
  }

  private assertAlive(): void {
    if (this.gone) throw new SandboxGoneError(this.id);
  }
}

/** Waits for the command to end, its time to run out, or the caller to abort — whichever is first. */
function settle(command: E2BCommandHandle, timeoutMs: number, signal: AbortSignal | undefined): Promise<Outcome> {
  return new Promise((resolve) => {
    const finish = (outcome: Outcome) => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", onAbort);
      resolve(outcome);
    };
    const onAbort = () => finish({ kind: "abort" });
    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    if (signal?.aborted) return finish({ kind: "abort" });
    signal?.addEventListener("abort", onAbort, { once: true });
    command.wait().then(
      (result) => finish({ kind: "exit", result }),
      (error: unknown) => finish({ kind: "error", error }),
    );
  });
}
