// Streams an agent's output into TaskEvents, so a task's log is live while the agent works.
// The agent runs in the untrusted sandbox and may print without end, so the log is bounded:
// - Cap per run (RUN_LOG_CAP, shared by the run's stages): lines are written live, in batches
//   (a write per second or once 50 lines wait), until the run has logged 5,000 lines or 1 MB.
// - Past the cap a stage keeps only its last 100 lines (at most 64 KB); when it ends, one event
//   says how many lines were omitted and the kept tail follows. So the end of each stage, which
//   says how it finished, is always there.
// - Bounded memory: one write at a time; lines waiting for it are capped (the oldest are dropped
//   and counted in the next batch) and each line is cut to MAX_LINE_CHARS.
// - Each batch goes through the secret scan before it is stored; a secret is replaced by
//   `[redacted: <rule>]` (never its value) and the event's data names the rules.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { appendTaskEvent } from "../db/task-events.ts";
import { truncateLine } from "../agent/process-output.ts";
import { redactSecrets } from "../publish/secret-scan.ts";
import { BoundedLines } from "./bounded-lines.ts";

export const RUN_LOG_CAP = { lines: 5_000, bytes: 1024 * 1024 } as const;
export const STAGE_TAIL = { lines: 100, bytes: 64 * 1024 } as const;
/** Lines that may wait while a write is in flight. */
export const PENDING_LIMIT = { lines: 2_000, bytes: 512 * 1024 } as const;
const BATCH_LINES = 50;
const BATCH_MS = 1_000;

/** What a run may still log live; one per run, handed to each of its stages' logs. */
export class RunLogBudget {
  private lines: number;
  private bytes: number;

  constructor(readonly cap: { lines: number; bytes: number } = RUN_LOG_CAP) {
    this.lines = cap.lines;
    this.bytes = cap.bytes;
  }

  /** Takes room for one line of `size` bytes, or says there is none left. */
  take(size: number): boolean {
    if (this.lines < 1 || this.bytes < size) return false;
    this.lines -= 1;
    this.bytes -= size;
    return true;
  }
}

export interface AgentLog {
  line(text: string): void;
  /** Writes what waits, then (past the cap) the omission summary and the stage's tail. */
  flush(): Promise<void>;
  /** The most lines and bytes that waited in memory at once (live and tail). */
  readonly peak: { pending: { lines: number; bytes: number }; tail: { lines: number; bytes: number } };
}

export interface AgentLogRef {
  taskId: string;
  runId: string;
  stage: string;
}

export function createAgentLog(db: PrismaClient, ref: AgentLogRef, budget = new RunLogBudget()): AgentLog {
  const pending = new BoundedLines(PENDING_LIMIT.lines, PENDING_LIMIT.bytes);
  const tail = new BoundedLines(STAGE_TAIL.lines, STAGE_TAIL.bytes);
  let overCap = false;
  let inFlight: Promise<void> | undefined;
  let failure: { error: unknown } | undefined;
  let timer: NodeJS.Timeout | undefined;

  const store = async (lines: string[], extra: Record<string, number> = {}) => {
    const { text, rules } = await redactSecrets(lines.join("\n"), `agent output (${ref.stage})`);
    const data = { stage: ref.stage, lines: lines.length, ...extra, ...(rules.length > 0 ? { redacted: rules } : {}) };
    await appendTaskEvent(db, { taskId: ref.taskId, runId: ref.runId, type: "agent_output", message: text, data });
  };

  const writePending = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (inFlight || pending.length === 0) return;
    const { lines, dropped } = pending.take();
    const batch = dropped > 0 ? [`[… ${dropped} lines omitted: the agent printed faster than the log could store them …]`, ...lines] : lines;
    inFlight = store(batch, dropped > 0 ? { omitted: dropped } : {})
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .then(() => {
        inFlight = undefined;
        if (pending.length >= BATCH_LINES) writePending();
        else if (pending.length > 0) timer ??= setTimeout(writePending, BATCH_MS);
      });
  };

  return {
    line(text) {
      const line = truncateLine(text);
      const size = Buffer.byteLength(line) + 1;
      overCap ||= !budget.take(size);
      if (overCap) {
        tail.push(line, size);
        return;
      }
      pending.push(line, size);
      if (pending.length >= BATCH_LINES) writePending();
      else timer ??= setTimeout(writePending, BATCH_MS);
    },

    async flush() {
      for (;;) {
        if (inFlight) await inFlight;
        else if (pending.length > 0) writePending();
        else break;
      }
      if (failure) throw failure.error;
      if (!overCap || tail.length === 0) return;
      const { lines, dropped } = tail.take();
      const { lines: capLines, bytes: capBytes } = budget.cap;
      if (dropped > 0) {
        const summary = `[… ${dropped} lines omitted: this run's agent log reached its cap of ${capLines} lines or ${Math.round(capBytes / 1024)} KB; the stage's last ${lines.length} lines follow …]`;
        await store([summary], { lines: 0, omitted: dropped });
      }
      await store(lines);
    },

    get peak() {
      return { pending: pending.peak, tail: tail.peak };
    },
  };
}
