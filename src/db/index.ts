// db/ — the database: opening it (open-database.ts: PostgreSQL through @prisma/adapter-pg, or
// embedded PGlite), applying the hand-written SQL migrations (migrate.ts), and the repository
// functions every other room reads and writes through, one file per aggregate: teams, users,
// integrations, workflows, tasks, task-runs, task-events, api-keys, idempotency-keys and
// feature-flags for the domain; run-start, run-steps, run-progress, run-workspace,
// stage-outputs, engine-runs, tracking-comments and check-runs for the engines and their activities;
// run-model-usage for the model gateway (a run's token hash and the tokens it used);
// webhook-deliveries for the durable inbox (inbox/). A
// repository function is one query or one small transaction, takes the Prisma client or a
// transaction's client (client.ts: Db, Tx) and returns rows or small plain types. No domain
// rules here: validation, errors, numbering and permissions belong to tasks/; db/ only asks.
export {};
