// The port through which the domain hands runs to an engine (ARCHITECTURE.md, "Engines").
// Temporal and the embedded runner implement it; tests record the calls (test/helpers).

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
