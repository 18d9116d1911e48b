// Streams an agent's output into TaskEvents, so a task's log is live while the agent works.
// Lines are batched (a write per second or per 50 lines) to keep the database calm.
import type { PrismaClient } from "../generated/prisma/client.ts";
import { appendTaskEvent } from "../db/task-events.ts";

export interface AgentLog {
  line(text: string): void;
  flush(): Promise<void>;
}

export function createAgentLog(db: PrismaClient, ref: { taskId: string; runId: string; stage: string }): AgentLog {
  let pending: string[] = [];
  let writing: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;

  const write = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (pending.length === 0) return writing;
    const lines = pending;
    pending = [];
    writing = writing.then(async () => {
      await appendTaskEvent(db, { taskId: ref.taskId, runId: ref.runId, type: "agent_output", message: lines.join("\n"), data: { stage: ref.stage, lines: lines.length } });
    });
    return writing;
  };

  return {
    line(text) {
      pending.push(text);
      if (pending.length >= 50) void write();
      else timer ??= setTimeout(() => void write(), 1000);
    },
    async flush() {
      await write();
    },
  };
}
