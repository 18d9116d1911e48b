import type { Logger } from "../lib/logger.ts";
import type { Db } from "../db/client.ts";
import { appendTaskEvent } from "../db/task-events.ts";
import { setRunEngine } from "../db/task-runs.ts";
import type { Orchestrator, RunRef } from "./orchestrator.ts";

/**
 * Gives a committed, queued run to the engine. If the engine cannot take it now, the run stays
 * queued in the database (engines pick up queued runs when they start) and the task's log
 * says why: the caller's task is created either way, never lost or half-written.
 */
export async function handOffRun(deps: { db: Db; orchestrator: Orchestrator; log: Logger }, run: RunRef): Promise<void> {
  const { db, orchestrator, log } = deps;
  try {
    const { engineId } = await orchestrator.start(run);
    await setRunEngine(db, run.runId, orchestrator.engine, engineId);
  } catch (error) {
    log.error({ err: error, taskId: run.taskId, runId: run.runId }, "engine did not accept the run; it stays queued");
    await appendTaskEvent(db, {
      taskId: run.taskId,
      runId: run.runId,
      type: "run_start_deferred",
      message: `the ${orchestrator.engine} engine did not accept the run yet; it stays queued`,
    });
  }
}
