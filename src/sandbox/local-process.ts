// Runs one command of the local sandbox: no shell, its own session and process group, a hard
// timeout, prompt abort, output capped, and nothing of it left running once it is reported done.
import { spawn, type ChildProcess } from "node:child_process";
import { constants as osConstants } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import type { ExecResult } from "./sandbox.ts";
import { CommandAbortedError, NOT_FOUND_EXIT_CODE, STOPPED_AT_LIMIT_EXIT_CODE, TIMED_OUT_EXIT_CODE } from "./exec-outcome.ts";
import { OutputCapture, type OutputListener } from "./output-capture.ts";
import { terminateSession } from "./process-session.ts";

/** How long to wait for the pipes to close once every process is gone (an escaped process may hold them). */
const PIPE_CLOSE_WAIT_MS = 500;

export interface RunProcessOptions {
  cwd: string;
  /** The complete environment: nothing else is inherited. */
  env: Record<string, string>;
  timeoutMs: number;
  signal?: AbortSignal;
  onOutput?: OutputListener;
  stdin?: string;
  killGraceMs: number;
  maxOutputBytes: number;
  /** Told about each session while it may have processes running, so the sandbox can kill it. */
  sessions: Set<number>;
  /** The sandbox's limits, watched while the command runs and used to explain how it ended. */
  limits?: LimitWatch;
}

/** How a sandbox keeps a command within its limits; each note becomes the last line of stderr. */
export interface LimitWatch {
  everyMs: number;
  /** Polled while the command runs (given its session): a note stops the command. */
  check(sessionId: number): Promise<string | undefined>;
  /** Once it ended by itself: a note explaining how the limits shaped its end, if they did. */
  explain(exitCode: number, stderr: string): Promise<string | undefined>;
}

type Exit = { code: number | null; signal: NodeJS.Signals | null };

export async function runProcess(argv: readonly string[], options: RunProcessOptions): Promise<ExecResult> {
  const [program, ...args] = argv;
  if (program === undefined) throw new TypeError("a command needs at least its program");
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) throw new RangeError("timeoutMs must be a positive number");
  const { signal } = options;
  if (signal?.aborted) throw new CommandAbortedError({ cause: signal.reason });

  const child = spawn(program, args, {
    cwd: options.cwd,
    env: options.env,
    shell: false,
    detached: true, // setsid: its own session and process group, so it can be killed as a whole
    stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"],
  });
  const exited = new Promise<Exit>((resolve, reject) => {
    child.once("exit", (code, exitSignal) => resolve({ code, signal: exitSignal }));
    child.once("error", reject);
  });
  const closed = new Promise<void>((resolve) => child.once("close", () => resolve()));
  const sessionId = child.pid;
  if (sessionId === undefined) return spawnFailure(program, await exited.then(() => undefined, (error: unknown) => error));

  options.sessions.add(sessionId);
  const capture = new OutputCapture(options.maxOutputBytes, options.onOutput);
  child.stdout!.on("data", (chunk: Buffer) => capture.pushBytes("stdout", chunk));
  child.stderr!.on("data", (chunk: Buffer) => capture.pushBytes("stderr", chunk));
  if (options.stdin !== undefined) {
    // A program that exits without reading its input closes the pipe: EPIPE is expected then.
    child.stdin!.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code !== "EPIPE") capture.pushText("stderr", `[stdin: ${error.message}]\n`);
    });
    child.stdin!.end(options.stdin);
  }

  let ending: "timeout" | "abort" | "limit" | undefined;
  let stopping: Promise<void> | undefined;
  let limitNote: string | undefined;
  const stop = (reason?: "timeout" | "abort" | "limit"): Promise<void> => {
    ending ??= reason;
    stopping ??= terminateSession(sessionId, options.killGraceMs);
    return stopping;
  };
  // Rejections of these early stops surface below, where the same promise is awaited.
  const timer = setTimeout(() => void stop("timeout").catch(() => undefined), options.timeoutMs);
  const onAbort = () => void stop("abort").catch(() => undefined);
  signal?.addEventListener("abort", onAbort, { once: true });
  const watchdog = options.limits ? watchLimits(options.limits, sessionId, (note) => {
    limitNote ??= note;
    void stop("limit").catch(() => undefined);
  }) : undefined;
  try {
    const exit = await exited.catch(async (error: unknown) => {
      await stop();
      throw error;
    });
    // The leader is done; whatever it left running in its session goes with it.
    await stop();
    options.sessions.delete(sessionId);
    await drainPipes(child, closed);
    watchdog?.stop();
    if (ending === undefined && options.limits) limitNote = await options.limits.explain(exitCode(exit), capture.result().stderr).catch(() => undefined);
    if (limitNote !== undefined && ending !== "abort") capture.pushText("stderr", `[sandbox] ${limitNote}\n`);
    capture.seal();
    if (ending === "abort") throw new CommandAbortedError({ cause: signal?.reason });
    if (capture.failure) throw capture.failure.error;
    const output = capture.result();
    if (ending === "timeout") return { exitCode: TIMED_OUT_EXIT_CODE, ...output, timedOut: true };
    if (ending === "limit") return { exitCode: STOPPED_AT_LIMIT_EXIT_CODE, ...output, timedOut: false };
    return { exitCode: exitCode(exit), ...output, timedOut: false };
  } finally {
    watchdog?.stop();
    clearTimeout(timer);
    signal?.removeEventListener("abort", onAbort);
  }
}

/** Polls the limits until stopped; the first note is handed to `onReached`. */
function watchLimits(limits: LimitWatch, sessionId: number, onReached: (note: string) => void): { stop(): void } {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const poll = async () => {
    // A failed check (a cgroup file gone as the command ends) is no reason to stop the command.
    const note = await limits.check(sessionId).catch(() => undefined);
    if (stopped) return;
    if (note !== undefined) onReached(note);
    else timer = setTimeout(() => void poll(), limits.everyMs);
  };
  timer = setTimeout(() => void poll(), limits.everyMs);
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

async function drainPipes(child: ChildProcess, closed: Promise<void>): Promise<void> {
  const gaveUp = Symbol("gave up");
  const outcome = await Promise.race([closed, sleep(PIPE_CLOSE_WAIT_MS, gaveUp, { ref: false })]);
  if (outcome === gaveUp) {
    child.stdout?.destroy();
    child.stderr?.destroy();
  }
}

function exitCode(exit: Exit): number {
  if (exit.code !== null) return exit.code;
  const number = exit.signal ? osConstants.signals[exit.signal] : undefined;
  return number === undefined ? 1 : 128 + number;
}

/** A program that cannot be started is reported like a shell would: data, not an exception. */
function spawnFailure(program: string, error: unknown): ExecResult {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === "ENOENT") return { exitCode: NOT_FOUND_EXIT_CODE, stdout: "", stderr: `${program}: command not found\n`, timedOut: false };
  if (code === "EACCES") return { exitCode: 126, stdout: "", stderr: `${program}: permission denied\n`, timedOut: false };
  throw error ?? new Error(`${program} could not be started`);
}
