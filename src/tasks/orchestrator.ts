// The port through which the domain hands runs to an engine (ARCHITECTURE.md, "Engines").
// Temporal and the embedded runner implement it; until they land, the recording orchestrator
// leaves runs queued in the database, where an engine will find them.

export interface RunRef {
  taskId: string;
  runId: string;
  /** 1 for a task's first run, then 2, 3 … */
  attempt: number;
}

export interface Orchestrator {
  readonly engine: string;
  /** Starts (or attaches to) the run; must be idempotent for the same run. */
  start(run: RunRef): Promise<{ engineId: string }>;
  cancel(run: RunRef): Promise<void>;
  /** An operator moved the task to another stage while the run may be waiting. */
  stageMoved(run: RunRef, stageKey: string): Promise<void>;
}

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
