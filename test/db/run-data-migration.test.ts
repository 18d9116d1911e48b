// The run-data migration on a database that holds work from before it: follow-up instructions
// and completion notes move from the event log into task_runs columns, and every event's type
// becomes a value of the task_event_kind enum, unchanged.
import { describe, expect, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.ts";
import type { SqlSession } from "../../src/db/sql-session.ts";
import { testDatabases } from "../helpers/databases.ts";
import { cleanupsAfterEach, databaseBefore } from "../helpers/migration-databases.ts";

const runData = "20261129200000_run_data";
const cleanups = cleanupsAfterEach();

const ids = {
  team: "00000000-0000-4000-8000-000000000001",
  workflow: "00000000-0000-4000-8000-000000000002",
  task: "00000000-0000-4000-8000-000000000003",
  noChanges: "00000000-0000-4000-8000-000000000011",
  followup: "00000000-0000-4000-8000-000000000012",
  failed: "00000000-0000-4000-8000-000000000013",
};

/** A task as the old code left it: three runs, and their details only in task_events. */
async function seedOldShapedTask(session: SqlSession): Promise<void> {
  await session.exec(`
    INSERT INTO teams (id, name, prefix) VALUES ('${ids.team}', 'Old team', 'OLD');
    INSERT INTO workflows (id, team_id, name) VALUES ('${ids.workflow}', '${ids.team}', 'default');
    INSERT INTO tasks (id, team_id, number, slug, title, description, origin_product, repository, workflow_id, status, updated_at)
      VALUES ('${ids.task}', '${ids.team}', 1, 'OLD-1', 'Dark mode', 'd', 'user_created', 'posthog/posthog', '${ids.workflow}', 'failed', now());
    INSERT INTO task_runs (id, task_id, attempt, kind, status) VALUES
      ('${ids.noChanges}', '${ids.task}', 1, 'initial', 'completed'),
      ('${ids.followup}', '${ids.task}', 2, 'followup', 'completed'),
      ('${ids.failed}', '${ids.task}', 3, 'initial', 'failed');
    INSERT INTO task_events (task_id, run_id, type, message, data) VALUES
      ('${ids.task}', NULL, 'task_created', 'OLD-1 created', '{"source": "api"}'),
      ('${ids.task}', '${ids.noChanges}', 'run_queued', 'run 1 queued', '{"attempt": 1}'),
      ('${ids.task}', '${ids.noChanges}', 'agent_output', 'thinking', '{"stage": "plan", "lines": 1}'),
      ('${ids.task}', '${ids.noChanges}', 'run_completed', 'completed', '{"status": "completed", "prUrl": null, "note": "an earlier note"}'),
      ('${ids.task}', '${ids.noChanges}', 'run_completed', 'completed: no changes', '{"status": "completed", "prUrl": null, "note": "no changes: the coder left the repository unchanged"}'),
      ('${ids.task}', '${ids.followup}', 'followup_requested', 'follow-up requested by @octocat', '{"attempt": 2, "actor": "@octocat", "instructions": "also cover the header"}'),
      ('${ids.task}', '${ids.followup}', 'run_completed', 'completed: https://github.com/posthog/posthog/pull/5', '{"status": "completed", "prUrl": "https://github.com/posthog/posthog/pull/5", "note": null}'),
      ('${ids.task}', '${ids.failed}', 'run_failed', 'failed in Plan: boom', '{"status": "failed", "stage": "plan", "reason": "boom"}');
  `);
}

describe.each(testDatabases)("the run-data migration on %s", (kind) => {
  it("fills the new run columns from the events and turns every event type into the enum", async () => {
    const session = await databaseBefore(kind, runData, cleanups);
    await seedOldShapedTask(session);
    const typesBefore = await session.query<{ id: string; type: string }>(`SELECT id::text, type::text FROM task_events ORDER BY id`);

    expect(await applyMigrations(session)).toContain(runData);

    const runs = await session.query<{ attempt: number; followup_instructions: string | null; completion_note: string | null }>(
      `SELECT attempt, followup_instructions, completion_note FROM task_runs ORDER BY attempt`,
    );
    expect(runs).toEqual([
      { attempt: 1, followup_instructions: null, completion_note: "no changes: the coder left the repository unchanged" },
      { attempt: 2, followup_instructions: "also cover the header", completion_note: null },
      { attempt: 3, followup_instructions: null, completion_note: null },
    ]);
    const [column] = await session.query<{ udt_name: string }>(`SELECT udt_name FROM information_schema.columns WHERE table_name = 'task_events' AND column_name = 'type'`);
    expect(column?.udt_name).toBe("task_event_kind");
    expect(await session.query(`SELECT id::text, type::text FROM task_events ORDER BY id`)).toEqual(typesBefore);
    const [task] = await session.query<{ tracking_comment_id: string | null }>(`SELECT tracking_comment_id FROM tasks`);
    expect(task?.tracking_comment_id).toBeNull();
  });
});
