// The hand-kept SQL migrations must create exactly what prisma/schema.prisma declares: this
// compares Prisma's DMMF of the schema with the catalog of a freshly migrated database, on
// PostgreSQL and on PGlite. See test/helpers/schema-compare.ts for what is compared.
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { applyMigrations } from "../../src/db/migrate.ts";
import { pgliteSession, pgSession, type SqlSession } from "../../src/db/sql-session.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, testDatabases, type TestDatabaseKind } from "../helpers/databases.ts";
import {
  compareSchema,
  describePrismaSchema,
  introspectDatabase,
  loadPrismaDmmf,
  type SchemaDescription,
  type TableDescription,
} from "../helpers/schema-compare.ts";

let expected: SchemaDescription;

beforeAll(() => {
  expected = describePrismaSchema(loadPrismaDmmf());
});

function table(schema: SchemaDescription, name: string): TableDescription {
  const found = schema.tables.find((t) => t.name === name);
  if (!found) throw new Error(`no table ${name} in ${schema.tables.map((t) => t.name).join(", ")}`);
  return found;
}

describe("the schema description taken from Prisma's DMMF", () => {
  // Pins the DMMF → PostgreSQL mapping, so an agreement below cannot come from both sides being empty.
  it("covers every model and enum with db names, native types, defaults, keys and relations", () => {
    expect(expected.tables.map((t) => t.name).sort()).toEqual(
      [
        "api_keys",
        "check_runs",
        "feature_flags",
        "github_integrations",
        "idempotency_keys",
        "run_model_usage",
        "run_steps",
        "stage_outputs",
        "stages",
        "task_events",
        "task_runs",
        "tasks",
        "team_members",
        "teams",
        "trigger_throttles",
        "users",
        "webhook_deliveries",
        "workflows",
      ].sort(),
    );
    expect(expected.enums.map((e) => e.name).sort()).toEqual(["agent_role", "run_status", "task_event_kind", "task_source", "task_status", "webhook_delivery_status"]);

    const tasks = table(expected, "tasks");
    const column = (t: TableDescription, name: string) => t.columns.find((c) => c.name === name);
    expect(column(tasks, "id")).toEqual({ name: "id", type: "uuid", isArray: false, nullable: false, default: null });
    expect(column(tasks, "branch")).toEqual({ name: "branch", type: "text", isArray: false, nullable: true, default: null });
    expect(column(tasks, "status")).toEqual({ name: "status", type: "enum task_status", isArray: false, nullable: false, default: "'queued'::task_status" });
    expect(column(tasks, "trigger_snapshot")?.type).toBe("jsonb");
    expect(column(tasks, "created_at")).toMatchObject({ type: "timestamp(3) with time zone", default: "CURRENT_TIMESTAMP" });
    expect(column(tasks, "updated_at")).toMatchObject({ type: "timestamp(3) with time zone", default: null });
    expect(column(table(expected, "task_events"), "id")).toMatchObject({ type: "bigint", default: "autoincrement()" });
    expect(column(table(expected, "github_integrations"), "repositories")).toMatchObject({ type: "text", isArray: true });
    expect(column(table(expected, "api_keys"), "secret_hash")?.type).toBe("bytea");
    expect(column(table(expected, "teams"), "task_counter")).toMatchObject({ type: "integer", default: "0" });

    expect(table(expected, "team_members").primaryKey).toMatchObject({ name: "team_members_pkey", columns: ["team_id", "user_id"] });
    expect(tasks.uniques.map((u) => u.columns)).toEqual([["team_id", "number"]]);
    expect(tasks.indexes.map((i) => i.name).sort()).toEqual(["tasks_repository_issue_number_idx", "tasks_team_id_status_created_at_idx"]);
    expect(tasks.foreignKeys.find((fk) => fk.columns[0] === "workflow_id")).toMatchObject({
      referencedTable: "workflows",
      referencedColumns: ["id"],
      onDelete: "RESTRICT",
      onUpdate: "CASCADE",
    });
  });
});

interface RawDatabase {
  session: SqlSession;
  close(): Promise<void>;
}

/** An empty database of the given kind with a raw session on it (migrations not applied). */
async function openEmptyDatabase(kind: TestDatabaseKind): Promise<RawDatabase> {
  if (kind === "pglite") {
    const db = new PGlite();
    return { session: pgliteSession(db), close: () => db.close() };
  }
  const name = await createEmptyPostgresDatabase();
  const client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  return {
    session: pgSession(client),
    close: async () => {
      await client.end();
      await dropPostgresDatabase(name);
    },
  };
}

describe.each(testDatabases)("migrations versus schema.prisma on %s", (kind) => {
  let opened: RawDatabase | undefined;

  afterEach(async () => {
    await opened?.close();
    opened = undefined;
  });

  async function freshlyMigrated(): Promise<SqlSession> {
    opened = await openEmptyDatabase(kind);
    expect(await applyMigrations(opened.session)).not.toEqual([]);
    return opened.session;
  }

  it("a freshly migrated database has exactly the tables, columns, keys, indexes, relations and enums the schema declares", async () => {
    const actual = await introspectDatabase(await freshlyMigrated());

    expect(compareSchema(expected, actual)).toEqual([]);
    // And the comparison had something to compare.
    expect(actual.tables).toHaveLength(expected.tables.length);
    expect(actual.tables.flatMap((t) => t.foreignKeys)).toHaveLength(expected.tables.flatMap((t) => t.foreignKeys).length);
  });

  it("reports every change made to a migrated database, precisely (the check is not vacuous)", async () => {
    const session = await freshlyMigrated();
    expect(compareSchema(expected, await introspectDatabase(session))).toEqual([]);

    const changes = [
      `ALTER TABLE "tasks" DROP COLUMN "branch"`,
      `ALTER TABLE "tasks" ALTER COLUMN "pr_url" SET NOT NULL`,
      `ALTER TABLE "task_runs" ALTER COLUMN "attempt" TYPE BIGINT`,
      `ALTER TABLE "teams" ALTER COLUMN "created_at" TYPE TIMESTAMPTZ(6)`,
      `ALTER TABLE "stages" ALTER COLUMN "agent_role" TYPE TEXT USING "agent_role"::text`,
      `ALTER TABLE "github_integrations" ALTER COLUMN "repositories" TYPE TEXT USING array_to_string("repositories", ',')`,
      `ALTER TABLE "stages" ALTER COLUMN "requires_approval" DROP DEFAULT`,
      `ALTER TABLE "users" ADD COLUMN "nickname" TEXT`,
      `DROP INDEX "tasks_repository_issue_number_idx"`,
      `CREATE INDEX "task_runs_status_idx" ON "task_runs"("status")`,
      `ALTER INDEX "api_keys_lookup_key" RENAME TO "api_keys_lookup_idx"`,
      `ALTER TABLE "team_members" DROP CONSTRAINT "team_members_pkey", ADD CONSTRAINT "team_members_pkey" PRIMARY KEY ("team_id")`,
      `ALTER TABLE "tasks" DROP CONSTRAINT "tasks_workflow_id_fkey",
         ADD CONSTRAINT "tasks_workflow_id_fkey" FOREIGN KEY ("workflow_id") REFERENCES "workflows"("id") ON DELETE CASCADE ON UPDATE CASCADE`,
      `ALTER TABLE "api_keys" DROP CONSTRAINT "api_keys_team_id_fkey"`,
      `ALTER TYPE "task_status" ADD VALUE 'paused' AFTER 'running'`,
      `CREATE TABLE "stray" ("id" INTEGER)`,
    ];
    for (const change of changes) await session.exec(change);

    const differences = compareSchema(expected, await introspectDatabase(session));

    expect([...differences].sort()).toEqual(
      [
        "column tasks.branch: declared in schema, missing in database",
        "column tasks.pr_url: nullable in schema, NOT NULL in database",
        "column task_runs.attempt: type integer in schema, bigint in database",
        "column teams.created_at: type timestamp(3) with time zone in schema, timestamp(6) with time zone in database",
        "column stages.agent_role: type enum agent_role in schema, text in database",
        "column github_integrations.repositories: a list in schema (text[]), not an array in database (text)",
        "column stages.requires_approval: default false in schema, none in database",
        "column users.nickname: in database, not declared in schema",
        "index tasks(repository, issue_number): declared in schema, missing in database",
        "index task_runs(status): in database, not declared in schema",
        "unique index api_keys(lookup): named api_keys_lookup_key in schema, api_keys_lookup_idx in database",
        "primary key of team_members: (team_id, user_id) in schema, (team_id) in database",
        "foreign key tasks(workflow_id): ON DELETE RESTRICT in schema, CASCADE in database",
        "foreign key api_keys(team_id): declared in schema, missing in database",
        "enum task_status: values (queued, running, waiting_approval, completed, failed, cancelled) in schema, " +
          "(queued, running, paused, waiting_approval, completed, failed, cancelled) in database",
        "table stray: in database, not declared in schema",
      ].sort(),
    );
  });
});
