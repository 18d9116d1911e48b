// activities/ — the side effects the pipeline asks for, for real: bookkeeping of stages, status
// and events in the database (create-activities.ts) and the GitHub progress a change of state
// shows (github-progress.ts: the tracking comment). The agent's and the pull request's work is
// delegated to the StageWork port (stage-work/). Every activity is idempotent: engines may run
// one again after a crash.
export {};
