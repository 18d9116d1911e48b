// runner/ — the embedded engine (the default without TEMPORAL_ADDRESS). It drives the pipeline
// in the web process with TASKS_CONCURRENCY runs at once, records every step's command and result
// in run_steps so a restarted process replays instead of repeating, retries failures that may pass
// with bounded pauses, and turns cancel and operator moves into pipeline results (run-mailbox.ts).
// Entry: embedded-runner.ts.
export {};
