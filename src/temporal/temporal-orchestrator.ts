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

export async function connectTemporalOrchestrator(settings: TemporalSettings): Promise<Orchestrator & { close(): Promise<void> }> {
  const connection = await Connection.connect({ address: settings.address });
  const client = new Client({ connection, namespace: settings.namespace });
  return { ...createTemporalOrchestrator({ client, taskQueue: settings.taskQueue }), close: () => connection.close() };
}
