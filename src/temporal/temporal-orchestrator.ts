// The Orchestrator port (src/tasks/orchestrator.ts) on Temporal: one workflow execution per run,
// named by the run (workflow-id.ts), so starting a run twice attaches to the same execution.
import { Client, Connection, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError } from "@temporalio/client";
import type { Orchestrator, RunRef } from "../tasks/orchestrator.ts";
import { taskWorkflowId } from "./workflow-id.ts";
import { moveStageSignal, taskWorkflow } from "./workflows.ts";

export interface TemporalSettings {
  address: string;
  namespace: string;
  taskQueue: string;
}

/** Only the ids travel through Temporal, whatever else the caller's object carries. */
const refOf = (run: RunRef): RunRef => ({ taskId: run.taskId, runId: run.runId, attempt: run.attempt });

/** A run that has already ended (or never reached Temporal) has nothing left to cancel or move. */
async function unlessEnded(action: () => Promise<void>): Promise<void> {
  try {
    await action();
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error;
  }
}

export function createTemporalOrchestrator(deps: { client: Client; taskQueue: string }): Orchestrator {
  const { client, taskQueue } = deps;
  return {
    engine: "temporal",
    async start(run) {
      const workflowId = taskWorkflowId(run);
      try {
        await client.workflow.start(taskWorkflow, {
          workflowId,
          taskQueue,
          args: [refOf(run)],
          // Running: attach to it. Closed: never run the same attempt again (a retry is a new attempt).
          workflowIdConflictPolicy: "USE_EXISTING",
          workflowIdReusePolicy: "REJECT_DUPLICATE",
        });
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error;
      }
      return { engineId: workflowId };
    },
    async cancel(run) {
      await unlessEnded(() => client.workflow.getHandle(taskWorkflowId(run)).cancel().then(() => undefined));
    },
    async stageMoved(run, stageKey) {
      await unlessEnded(() => client.workflow.getHandle(taskWorkflowId(run)).signal(moveStageSignal, stageKey));
    },
  };
}

/** How long one call to the server may take, its gRPC retries included, before it counts as failed. */
export const callDeadlineMs = 5_000;

/** Longer than the SDK's longest pause between gRPC retries (5 s and jitter). */
const retiredConnectionCloseMs = 15_000;

/**
 * The web process's Temporal client. The connection is made on first use, not at start-up, so
 * the web process starts (and takes tasks, which stay queued) while Temporal is down; the run
 * reconciler hands them over once it is back. A call that fails drops the connection, so the
 * next one dials afresh instead of waiting out the old channel's reconnect backoff.
 */
export function connectTemporalOrchestrator(
  settings: TemporalSettings,
  options: { deadlineMs?: number } = {},
): Orchestrator & { close(): Promise<void>; ping(deadlineMs: number): Promise<void> } {
  const deadlineMs = options.deadlineMs ?? callDeadlineMs;
  let current: { connection: Connection; orchestrator: Orchestrator } | undefined;
  const open = () => {
    if (!current) {
      const connection = Connection.lazy({ address: settings.address });
      const client = new Client({ connection, namespace: settings.namespace });
      current = { connection, orchestrator: createTemporalOrchestrator({ client, taskQueue: settings.taskQueue }) };
    }
    return current;
  };
  const drop = (failed: Connection) => {
    if (current?.connection !== failed) return;
    current = undefined;
    // Not at once: the SDK's gRPC retry may still have a try scheduled on it (the deadline ended
    // the call, not its timer), and a try on a closed channel throws outside any caller.
    setTimeout(() => void failed.close().catch(() => undefined), retiredConnectionCloseMs).unref();
  };
  async function call<T>(action: (orchestrator: Orchestrator, connection: Connection) => Promise<T>, callDeadline = deadlineMs): Promise<T> {
    const { connection, orchestrator } = open();
    try {
      return await connection.withDeadline(Date.now() + callDeadline, () => action(orchestrator, connection));
    } catch (error) {
      drop(connection);
      throw error;
    }
  }
  return {
    engine: "temporal",
    start: (run) => call((orchestrator) => orchestrator.start(run)),
    cancel: (run) => call((orchestrator) => orchestrator.cancel(run)),
    stageMoved: (run, stageKey) => call((orchestrator) => orchestrator.stageMoved(run, stageKey)),
    // /readyz: the cheapest call the frontend answers, on the same connection the runs use.
    ping: (pingDeadlineMs) => call((_orchestrator, connection) => connection.workflowService.getSystemInfo({}).then(() => undefined), pingDeadlineMs),
    close: async () => {
      const open = current;
      current = undefined;
      await open?.connection.close();
    },
  };
}
