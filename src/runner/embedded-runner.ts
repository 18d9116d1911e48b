// The embedded engine (default without TEMPORAL_ADDRESS): runs the pipeline inside the web
// process, TASKS_CONCURRENCY runs at once and the rest queued in order. It is durable through
// the database: resume() picks up every unfinished run after a restart.
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { PrismaClient } from "../generated/prisma/client.ts";
import { listUnfinishedRuns } from "../db/engine-runs.ts";
import type { PipelineActivities } from "../pipeline/activities.ts";
import type { RunRef } from "../pipeline/types.ts";
import type { Orchestrator } from "../tasks/orchestrator.ts";
import { executeRun } from "./execute-run.ts";
import type { RetryPolicy } from "./retry.ts";
import { RunMailbox } from "./run-mailbox.ts";

export interface EmbeddedRunnerDeps {
  db: PrismaClient;
  activities: PipelineActivities;
  concurrency: number;
  log: Logger;
  /** Retry pauses for failures that may pass; tests shorten them. */
  retries?: { bookkeeping: RetryPolicy; agent: RetryPolicy };
}

export interface EmbeddedRunner extends Orchestrator {
  /** Starts every queued or running run found in the database, oldest first. */
  resume(): Promise<number>;
  /** Resolves when nothing is running or queued. */
  idle(): Promise<void>;
  /** Runs executing now and runs queued behind the concurrency limit (for /metrics). */
  load(): { running: number; queued: number };
  /**
   * Stops taking new runs and parks the active ones; they resume on the next start. A step in
   * flight gets `graceMs` to finish (its result is then recorded and not repeated); after that it
   * is aborted and runs again, through idempotent activities, after the restart.
   */
  stop(options?: { graceMs?: number }): Promise<void>;
}

export function createEmbeddedRunner(deps: EmbeddedRunnerDeps): EmbeddedRunner {
  const queue: RunRef[] = [];
  const active = new Map<string, { mailbox: RunMailbox; done: Promise<void> }>();
  const queuedMoves = new Map<string, string[]>();
  let stopping = false;
  let idleWaiters: (() => void)[] = [];

  const engineId = (run: RunRef) => `embedded:${run.runId}`;

  function settleIdle(): void {
    if (active.size > 0 || queue.length > 0) return;
    for (const resolve of idleWaiters) resolve();
    idleWaiters = [];
  }

  function pump(): void {
    while (!stopping && active.size < deps.concurrency && queue.length > 0) launch(queue.shift()!);
    settleIdle();
  }

  function launch(run: RunRef): void {
    const mailbox = new RunMailbox();
    for (const stage of queuedMoves.get(run.runId) ?? []) mailbox.move(stage);
    queuedMoves.delete(run.runId);
    const log = deps.log.child({ taskId: run.taskId, runId: run.runId });
    const done = executeRun(deps, run, mailbox)
      .catch(async (error: unknown) => {
        log.error({ err: error }, "run failed in the engine");
        // The database must still say where the task is.
        await deps.activities
          .finish({ ...run, outcome: { status: "failed", stage: "engine", reason: `engine error: ${errorMessage(error)}` }, stageName: "engine" })
          .catch((finishError: unknown) => log.error({ err: finishError }, "could not record the engine failure"));
      })
      .finally(() => {
        active.delete(run.runId);
        pump();
      });
    active.set(run.runId, { mailbox, done });
  }

  return {
    engine: "embedded",

    async start(run) {
      if (!active.has(run.runId) && !queue.some((queued) => queued.runId === run.runId)) {
        queue.push(run);
        pump();
      }
      return { engineId: engineId(run) };
    },

    async cancel(run) {
      const index = queue.findIndex((queued) => queued.runId === run.runId);
      if (index >= 0) {
        // Not started yet: run it anyway so the pipeline records the cancel and cleans up.
        queue.splice(index, 1);
        queue.unshift(run);
      }
      active.get(run.runId)?.mailbox.stop("cancel");
      pump();
    },

    async stageMoved(run, stageKey) {
      const running = active.get(run.runId);
      if (running) running.mailbox.move(stageKey);
      else queuedMoves.set(run.runId, [...(queuedMoves.get(run.runId) ?? []), stageKey]);
    },

    async resume() {
      const runs = await listUnfinishedRuns(deps.db);
      for (const run of runs) await this.start(run);
      return runs.length;
    },

    load: () => ({ running: active.size, queued: queue.length }),

    idle() {
      return new Promise<void>((resolve) => {
        idleWaiters.push(resolve);
        settleIdle();
      });
    },

    async stop(options = {}) {
      stopping = true;
      const runs = [...active.values()];
      for (const { mailbox } of runs) mailbox.park();
      const parked = Promise.all(runs.map((entry) => entry.done));
      const graceMs = options.graceMs ?? 0;
      if (graceMs > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([parked, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
        clearTimeout(timer);
      }
      for (const { mailbox } of runs) mailbox.stop("shutdown");
      await parked;
      queue.length = 0;
      settleIdle();
    },
  };
}
