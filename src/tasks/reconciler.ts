// No task is stuck forever (issue #10). A background loop in every web process, for either
// engine: a queued run no engine took (the engine was down, the process died before the
// hand-off) is handed over again with a growing pause between tries; a running run whose stage
// went quiet past its time limit (a worker lost, a step that never returned) is failed with a
// plain reason, so `/task retry` and new triggers work again. The database decides who acts
// (src/db/run-reconcile.ts), so several web processes never act twice on one run.
import type { Db } from "../db/client.ts";
import { claimStrandedRuns, databaseNow, failStaleRun, findStaleRunningRuns, type StageLimits, type StaleRun, type StartBackoff, type StrandedRun } from "../db/run-reconcile.ts";
import { appendTaskEvent } from "../db/task-events.ts";
import { setRunEngine } from "../db/task-runs.ts";
import { errorMessage } from "../lib/errors.ts";
import type { Logger } from "../lib/logger.ts";
import type { Orchestrator, RunRef } from "./orchestrator.ts";

export interface ReconcilerOptions {
  /** The pause between passes. */
  intervalMs: number;
  start: StartBackoff;
  stageLimits: StageLimits;
  /** Runs handled per kind in one pass; the rest wait for the next. */
  batch: number;
}

export const defaultReconcilerOptions: ReconcilerOptions = {
  intervalMs: 15_000,
  // 30 s, 1 min, 2 min, 4 min, 8 min, then every 10 min.
  start: { graceMs: 30_000, firstMs: 30_000, maxMs: 10 * 60_000 },
  stageLimits: { agentMs: 150 * 60_000, otherMs: 15 * 60_000, marginMs: 10 * 60_000 },
  batch: 20,
};

export interface ReconcilerSettings {
  intervalMs?: number;
  start?: Partial<StartBackoff>;
  stageLimits?: Partial<StageLimits>;
  batch?: number;
}

export interface ReconcilerDeps {
  db: Db;
  orchestrator: Orchestrator;
  log: Logger;
  options?: ReconcilerSettings;
}

export interface ReconcileOutcome {
  started: number;
  deferred: number;
  failed: number;
}

export interface Reconciler {
  /** One pass now: hand stranded runs over, fail stale ones. */
  reconcileOnce(): Promise<ReconcileOutcome>;
  /** Starts the loop; quiet time is counted from now at the earliest. */
  start(): Promise<void>;
  /** Stops the loop and waits for a pass in flight. */
  stop(): Promise<void>;
}

export function resolveReconcilerOptions(settings: ReconcilerSettings = {}): ReconcilerOptions {
  const defaults = defaultReconcilerOptions;
  return {
    intervalMs: settings.intervalMs ?? defaults.intervalMs,
    start: { ...defaults.start, ...settings.start },
    stageLimits: { ...defaults.stageLimits, ...settings.stageLimits },
    batch: settings.batch ?? defaults.batch,
  };
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

function formatDuration(ms: number): string {
  const minutes = Math.floor(ms / 60_000);
  if (minutes >= 1) return minutes === 1 ? "1 minute" : `${minutes} minutes`;
  const seconds = Math.max(1, Math.floor(ms / 1000));
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

/** What the task's log and `/task` users read when the reconciler fails a run. */
export function staleReason(run: Pick<StaleRun, "engine" | "stageName" | "quietMs">): string {
  const where = run.stageName ? ` in stage ${run.stageName}` : "";
  const why = run.engine === "temporal" ? "the worker running it was lost" : "the step it was running never finished";
  return `no progress for ${formatDuration(run.quietMs)}${where}; ${why}`;
}

export function createReconciler(deps: ReconcilerDeps): Reconciler {
  const { db, orchestrator } = deps;
  const log = deps.log;
  const options = resolveReconcilerOptions(deps.options);
  // Set by start(): a restart, when no engine here ran anything, does not count as a run's quiet time.
  let watchingSince: Date | null = null;
  let timer: NodeJS.Timeout | undefined;
  let pass: Promise<unknown> | undefined;
  let running = false;

  const nextDelayMs = (run: StrandedRun) => Math.min(options.start.firstMs * 2 ** Math.min(run.startAttempts - 1, 30), options.start.maxMs);

  async function handOver(run: StrandedRun): Promise<boolean> {
    const ref: RunRef = { taskId: run.taskId, runId: run.runId, attempt: run.attempt };
    try {
      const { engineId } = await orchestrator.start(ref);
      await setRunEngine(db, run.runId, orchestrator.engine, engineId);
      log.info({ taskId: run.taskId, runId: run.runId, tries: run.startAttempts }, "handed a stranded queued run to the engine");
      return true;
    } catch (error) {
      const wait = formatDuration(nextDelayMs(run));
      log.warn({ err: error, taskId: run.taskId, runId: run.runId, tries: run.startAttempts }, `engine did not accept the run; trying again in ${wait}`);
      // Tries 1, 2, 4, 8 …: the log says the run waits without filling up while an engine is down for days.
      if (isPowerOfTwo(run.startAttempts)) {
        await appendTaskEvent(db, {
          taskId: run.taskId,
          runId: run.runId,
          type: "run_start_deferred",
          message: `the ${orchestrator.engine} engine did not accept the run (try ${run.startAttempts}: ${errorMessage(error)}); trying again in ${wait}`,
          data: { tries: run.startAttempts, error: errorMessage(error) },
        });
      }
      return false;
    }
  }

  async function failStale(run: StaleRun): Promise<boolean> {
    const reason = staleReason(run);
    const message = `failed in ${run.stageName ?? "its stage"}: ${reason}`;
    const failed = await failStaleRun(db, { taskId: run.taskId, runId: run.runId, stage: run.stageKey, message, reason }, options.stageLimits, watchingSince);
    if (!failed) return false;
    log.warn({ taskId: run.taskId, runId: run.runId, engine: run.engine }, message);
    // The engine may still hold it (a worker that comes back, a step that returns at last): stop
    // it, so it cleans up instead of carrying on. Its late end does not undo the failure.
    try {
      await orchestrator.cancel({ taskId: run.taskId, runId: run.runId, attempt: run.attempt });
    } catch (error) {
      log.warn({ err: error, taskId: run.taskId, runId: run.runId }, "could not tell the engine to stop the failed run");
    }
    return true;
  }

  async function reconcileOnce(): Promise<ReconcileOutcome> {
    const outcome: ReconcileOutcome = { started: 0, deferred: 0, failed: 0 };
    for (const run of await claimStrandedRuns(db, options.start, options.batch)) {
      if (await handOver(run)) outcome.started += 1;
      else outcome.deferred += 1;
    }
    for (const run of await findStaleRunningRuns(db, options.stageLimits, watchingSince, options.batch)) {
      if (await failStale(run)) outcome.failed += 1;
    }
    return outcome;
  }

  function schedule(): void {
    if (!running) return;
    timer = setTimeout(() => {
      timer = undefined;
      pass = reconcileOnce()
        .catch((error: unknown) => log.error({ err: error }, "run reconciliation failed; trying again on the next pass"))
        .finally(() => {
          pass = undefined;
          schedule();
        });
    }, options.intervalMs);
    timer.unref();
  }

  return {
    reconcileOnce,
    async start() {
      if (running) return;
      watchingSince = await databaseNow(db);
      running = true;
      schedule();
    },
    async stop() {
      running = false;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await pass;
    },
  };
}
