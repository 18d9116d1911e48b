// temporal/ — the Temporal engine. workflows.ts is the workflow (a thin loop over pipeline/,
// workflow-safe: only @temporalio/workflow and types), activities.ts wraps the pipeline's
// activities for the worker (heartbeats, non-retryable permanent failures), worker.ts is the
// `npm run worker` entry point and temporal-orchestrator.ts the web process's client (start,
// cancel, signal). Lint keeps workflow files free of I/O imports.
export {};
