// tasks/ — the domain: creating a task and its first run (gapless numbers per team), cancel,
// retry, approve, move and follow-ups, teams, users, integrations, API keys, feature flags and
// the Orchestrator port through which runs are handed to an engine. Rules live here; queries live
// in db/. service.ts is the one entry point app/, api/ and cli/ use.
export {};
