// The inbox migration on a database that already recorded deliveries the old way (the id
// only, handled in memory): those rows become processed, so nothing runs them again.
import { describe, expect, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.ts";
import { testDatabases } from "../helpers/databases.ts";
import { cleanupsAfterEach, databaseBefore } from "../helpers/migration-databases.ts";

const inboxMigration = "20261129100000_webhook_inbox";
const cleanups = cleanupsAfterEach();

describe.each(testDatabases)("the webhook inbox migration on %s", (kind) => {
  it("turns deliveries recorded before the inbox into processed ones", async () => {
    const session = await databaseBefore(kind, inboxMigration, cleanups);
    await session.exec(`INSERT INTO webhook_deliveries (id, event, action, received_at) VALUES ('old', 'issues', 'labeled', '2026-11-20T10:00:00Z')`);

    expect(await applyMigrations(session)).toContain(inboxMigration);
    const [row] = await session.query<Record<string, unknown>>(`SELECT status::text, attempts, payload, processed_at = received_at AS processed_when_received FROM webhook_deliveries`);
    expect(row).toEqual({ status: "processed", attempts: 1, payload: null, processed_when_received: true });
    await session.exec(`INSERT INTO webhook_deliveries (id, event) VALUES ('new', 'issues')`);
    const [fresh] = await session.query<Record<string, unknown>>(`SELECT status::text, attempts FROM webhook_deliveries WHERE id = 'new'`);
    expect(fresh).toEqual({ status: "pending", attempts: 0 });
  });
});
