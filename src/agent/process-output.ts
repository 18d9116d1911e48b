// Shared plumbing for the agent runtimes: turning streamed chunks into lines, keeping the tail
// of a run's output for failure reasons, and the readable failures themselves. Everything here
// handles text produced inside the sandbox, so it is treated as untrusted: lengths are capped
// and nothing of it is ever interpreted.
import { PermanentFailure } from "../lib/errors.ts";
import type { ExecOptions, ExecResult, Sandbox } from "../sandbox/sandbox.ts";
import { SandboxGoneError } from "../sandbox/sandbox.ts";
import type { AgentRole } from "./agent-runtime.ts";

/** Longest line handed to onOutput or kept for a failure reason; longer lines are cut. */
export const MAX_LINE_CHARS = 2_000;
/** How many trailing output lines a failure reason carries. */
export const TAIL_LINES = 20;

export const truncateLine = (line: string, max = MAX_LINE_CHARS): string =>
  line.length > max ? `${line.slice(0, max)}… [${line.length - max} more characters]` : line;

/**
 * Longest line the splitter holds while waiting for its end (a stream-json event can be large);
 * the rest of a longer line is counted, not kept, so a line without end cannot fill memory.
 */
export const MAX_HELD_LINE_CHARS = 1024 * 1024;

/**
 * Splits a stream of chunks into complete lines (without their `\n` / `\r\n`). A partial line
 * is held until its end arrives or `flush()` is called when the stream ends. Only each new chunk
 * is searched and the held pieces are joined once, when the line ends: the work is linear in the
 * input however it is chunked (re-splitting the held text on every chunk would be quadratic).
 */
export class LineSplitter {
  private held: string[] = [];
  private heldChars = 0;
  private cutChars = 0;

  constructor(
    private readonly emit: (line: string) => void,
    private readonly maxLineChars = MAX_HELD_LINE_CHARS,
  ) {}

  push(chunk: string): void {
    let start = 0;
    for (let end = chunk.indexOf("\n"); end !== -1; end = chunk.indexOf("\n", start)) {
      this.hold(chunk.slice(start, end));
      this.emitHeld();
      start = end + 1;
    }
    if (start < chunk.length) this.hold(chunk.slice(start));
  }

  flush(): void {
    if (this.heldChars > 0 || this.cutChars > 0) this.emitHeld();
  }

  private hold(piece: string): void {
    const room = this.maxLineChars - this.heldChars;
    if (piece.length <= room) {
      if (piece !== "") this.held.push(piece);
      this.heldChars += piece.length;
      return;
    }
    if (room > 0) this.held.push(piece.slice(0, room));
    this.heldChars += Math.max(room, 0);
    this.cutChars += piece.length - Math.max(room, 0);
  }

  private emitHeld(): void {
    const line = this.held.join("");
    const cut = this.cutChars;
    this.held = [];
    this.heldChars = 0;
    this.cutChars = 0;
    this.emit(cut > 0 ? `${line}… [${cut} more characters]` : stripCarriageReturn(line));
  }
}

const stripCarriageReturn = (line: string): string => (line.endsWith("\r") ? line.slice(0, -1) : line);

/** Keeps the last `size` non-blank lines seen, in arrival order. */
export class TailBuffer {
  private readonly lines: string[] = [];

  constructor(private readonly size = TAIL_LINES) {}

  push(line: string): void {
    if (line.trim() === "") return;
    this.lines.push(truncateLine(line, 500));
    if (this.lines.length > this.size) this.lines.shift();
  }

  get isEmpty(): boolean {
    return this.lines.length === 0;
  }

  toString(): string {
    return this.lines.join("\n");
  }
}

/** The last `count` non-blank lines of a block of text. */
export function lastLines(text: string, count = TAIL_LINES): string {
  const tail = new TailBuffer(count);
  for (const line of text.split(/\r?\n/)) tail.push(line);
  return tail.toString();
}

/** "30 minutes", "90 seconds", "1500 ms": a timeout as people read it. */
export function formatDuration(ms: number): string {
  if (ms >= 60_000 && ms % 60_000 === 0) return `${ms / 60_000} minute${ms === 60_000 ? "" : "s"}`;
  if (ms >= 1_000 && ms % 1_000 === 0) return `${ms / 1_000} second${ms === 1_000 ? "" : "s"}`;
  return `${ms} ms`;
}

/**
 * Runs `argv` in the sandbox with the request's limits. Each complete output line (stdout and
 * stderr split separately, so lines never interleave mid-line) is turned into display lines by
 * `describe` (by default the line itself); those go to `onOutput`, length-capped, and the last
 * of them are kept as the tail a failure reason quotes.
 */
export async function execStreaming(
  sandbox: Sandbox,
  argv: string[],
  options: Omit<ExecOptions, "onOutput"> & {
    onOutput: (line: string) => void;
    describe?: (line: string, stream: "stdout" | "stderr") => string[];
  },
): Promise<{ result: ExecResult; tail: TailBuffer }> {
  const { onOutput, describe = (line: string) => [line], ...execOptions } = options;
  const tail = new TailBuffer();
  let streamed = false;
  const show = (line: string, stream: "stdout" | "stderr") => {
    for (const text of describe(line, stream)) {
      tail.push(text);
      onOutput(truncateLine(text));
    }
  };
  const splitters = {
    stdout: new LineSplitter((line) => show(line, "stdout")),
    stderr: new LineSplitter((line) => show(line, "stderr")),
  };
  const result = await sandbox.exec(argv, {
    ...execOptions,
    onOutput: (chunk, stream) => {
      streamed = true;
      splitters[stream].push(chunk);
    },
  });
  splitters.stdout.flush();
  splitters.stderr.flush();
  if (!streamed) {
    // The adapter did not stream: build the tail from the totals (nothing more is shown live).
    for (const stream of ["stdout", "stderr"] as const) {
      for (const line of result[stream].split("\n")) for (const text of describe(line, stream)) tail.push(text);
    }
  }
  return { result, tail };
}

/** Throws the abort reason when the run was cancelled: cancellation is not an agent failure. */
export function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) {
    throw signal.reason instanceof Error ? signal.reason : new Error("the agent run was cancelled", { cause: signal.reason });
  }
}

/**
 * The PermanentFailure for a run that timed out or exited non-zero, or null when it succeeded.
 * `what` names the process, e.g. "the coder command" or "Claude Code (reviewer)".
 */
export function exitFailure(what: string, result: ExecResult, tail: TailBuffer, timeoutMs: number): PermanentFailure | null {
  const output = tail.isEmpty ? "" : `:\n${tail.toString()}`;
  if (result.timedOut) return new PermanentFailure(`${what} timed out after ${formatDuration(timeoutMs)} and was stopped${output}`);
  if (result.exitCode !== 0) return new PermanentFailure(`${what} exited with status ${result.exitCode}${output}`);
  return null;
}

/**
 * Reads a file the agent was to write. It was created empty before the run, so a failure here
 * is not "the agent wrote nothing": it fails closed (an unreadable review must never count as an
 * approval). A vanished sandbox is passed through as itself so callers can tell it apart.
 */
export async function readAgentFile(sandbox: Sandbox, path: string, role: AgentRole): Promise<string> {
  try {
    return await sandbox.readFile(path);
  } catch (error) {
    if (error instanceof SandboxGoneError) throw error;
    throw new PermanentFailure(`the ${role}'s output file ${path} could not be read: ${(error as Error).message}`, { cause: error });
  }
}

/** Joins sandbox paths (always POSIX, whatever the host is). */
export const sandboxPath = (dir: string, name: string): string => `${dir.replace(/\/+$/, "")}/${name}`;
