// The model gateway migration on a database with runs from before it: every run starts with no
// token (nothing can call the gateway for it) and zero recorded usage.
import { describe, expect, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.ts";
import { testDatabases } from "../helpers/databases.ts";
import { cleanupsAfterEach, databaseBefore } from "../helpers/migration-databases.ts";

const modelGateway = "20261129300000_model_gateway";
const cleanups = cleanupsAfterEach();

describe.each(testDatabases)("the model gateway migration on %s", (kind) => {
  it("gives existing runs no token and zero usage", async () => {
    const session = await databaseBefore(kind, modelGateway, cleanups);
    await session.exec(`
      INSERT INTO teams (id, name, prefix) VALUES ('00000000-0000-4000-8000-000000000001', 'Old team', 'OLD');
      INSERT INTO workflows (id, team_id, name) VALUES ('00000000-0000-4000-8000-000000000002', '00000000-0000-4000-8000-000000000001', 'default');
      INSERT INTO tasks (id, team_id, number, slug, title, description, origin_product, repository, workflow_id, status, updated_at)
        VALUES ('00000000-0000-4000-8000-000000000003', '00000000-0000-4000-8000-000000000001', 1, 'OLD-1', 'Old', 'd', 'user_created', 'posthog/posthog', '00000000-0000-4000-8000-000000000002', 'running', now());
      INSERT INTO task_runs (id, task_id, attempt, kind, status) VALUES ('00000000-0000-4000-8000-000000000011', '00000000-0000-4000-8000-000000000003', 1, 'initial', 'running');
    `);

    expect(await applyMigrations(session)).toContain(modelGateway);
    expect(await session.query(`SELECT model_token_hash, input_tokens, output_tokens FROM task_runs`)).toEqual([{ model_token_hash: null, input_tokens: 0, output_tokens: 0 }]);
  });
});
