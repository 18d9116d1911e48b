// A test double for the Orchestrator port: it records what the domain asked of the engine and
// leaves runs queued in the database, so API and trigger tests see the domain without an engine.
import type { Orchestrator, RunRef } from "../../src/tasks/orchestrator.ts";

export interface RecordingOrchestrator extends Orchestrator {
  readonly started: RunRef[];
  readonly cancelled: RunRef[];
  readonly moves: { run: RunRef; stageKey: string }[];
}

export function createRecordingOrchestrator(): RecordingOrchestrator {
  const started: RunRef[] = [];
  const cancelled: RunRef[] = [];
  const moves: { run: RunRef; stageKey: string }[] = [];
  return {
    engine: "recorded",
    started,
    cancelled,
    moves,
    async start(run) {
      started.push(run);
      return { engineId: `recorded:${run.runId}` };
    },
    async cancel(run) {
      cancelled.push(run);
    },
    async stageMoved(run, stageKey) {
      moves.push({ run, stageKey });
    },
  };
}
