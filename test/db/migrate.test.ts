// The migrations runner (src/db/migrate.ts) on PostgreSQL and PGlite: it applies
// prisma/migrations in order, records them in `_prisma_migrations` the way `prisma migrate deploy`
// does, refuses edited migrations, rolls a failing one back completely, and serialises
// concurrent runs with an advisory lock.
import { createHash } from "node:crypto";
import { appendFile, cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { applyMigrations, defaultMigrationsDir, readMigrations } from "../../src/db/migrate.ts";
import { openDatabase } from "../../src/db/open-database.ts";
import { pgliteSession, pgSession, type SqlSession } from "../../src/db/sql-session.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, testDatabases, type TestDatabaseKind } from "../helpers/databases.ts";

const initMigration = "20261125000000_init";
/** Every migration in prisma/migrations, in the order they apply. */
const allMigrations = (await readMigrations()).map((m) => m.name);

interface MigrationRow {
  id: string;
  checksum: string;
  finished_at: Date | null;
  migration_name: string;
  logs: string | null;
  rolled_back_at: Date | null;
  started_at: Date;
  applied_steps_count: number;
}

const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A copy of prisma/migrations under os.tmpdir(), to edit or extend. */
async function copyOfMigrations(): Promise<string> {
  const dir = path.join(await tempDir("tasks-migrations-"), "migrations");
  await cp(defaultMigrationsDir, dir, { recursive: true });
  return dir;
}

async function emptyPostgresDatabase(): Promise<string> {
  const name = await createEmptyPostgresDatabase();
  cleanups.push(() => dropPostgresDatabase(name));
  return databaseUrl(name);
}

async function pgClient(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  cleanups.push(() => client.end());
  return client;
}

/** A raw session on an empty database of the given kind. */
async function emptyDatabase(kind: TestDatabaseKind): Promise<SqlSession> {
  if (kind === "postgres") return pgSession(await pgClient(await emptyPostgresDatabase()));
  const db = new PGlite();
  cleanups.push(() => db.close());
  return pgliteSession(db);
}

async function migrationRows(session: SqlSession): Promise<MigrationRow[]> {
  return session.query<MigrationRow>(`SELECT * FROM "_prisma_migrations" ORDER BY started_at, migration_name`);
}

async function tableExists(session: SqlSession, name: string): Promise<boolean> {
  const [row] = await session.query<{ exists: boolean }>(`SELECT to_regclass($1) IS NOT NULL AS exists`, [`public.${name}`]);
  return row?.exists === true;
}

async function advisoryLocksHeld(session: SqlSession): Promise<number> {
  const [row] = await session.query<{ count: number }>(`SELECT count(*)::int AS count FROM pg_locks WHERE locktype = 'advisory'`);
  return row?.count ?? -1;
}

const sha256OfFile = async (file: string): Promise<string> => createHash("sha256").update(await readFile(file)).digest("hex");

describe.each(testDatabases)("applyMigrations on %s", (kind) => {
  it("applies the init migration to a fresh database and records it like prisma migrate deploy", async () => {
    expect(allMigrations[0]).toBe(initMigration);
    expect([...allMigrations].sort()).toEqual(allMigrations);
    const session = await emptyDatabase(kind);

    expect(await applyMigrations(session)).toEqual(allMigrations);

    const rows = await migrationRows(session);
    expect(rows.map((r) => r.migration_name)).toEqual(allMigrations);
    expect(rows.every((r) => r.finished_at !== null && r.applied_steps_count === 1)).toBe(true);
    const [row] = rows;
    expect(row).toMatchObject({
      migration_name: initMigration,
      applied_steps_count: 1,
      rolled_back_at: null,
      logs: null,
      checksum: await sha256OfFile(path.join(defaultMigrationsDir, initMigration, "migration.sql")),
    });
    expect(row?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(row?.finished_at).toBeInstanceOf(Date);
    expect(row?.finished_at?.getTime()).toBeGreaterThanOrEqual(row?.started_at.getTime() ?? Infinity);
    expect(await tableExists(session, "tasks")).toBe(true);
    expect(await advisoryLocksHeld(session)).toBe(0);
  });

  it("re-opening a migrated database applies nothing", async () => {
    const settings =
      kind === "postgres"
        ? ({ kind: "postgres", url: await emptyPostgresDatabase() } as const)
        : ({ kind: "pglite", dataDir: path.join(await tempDir("tasks-pglite-"), "data") } as const);

    const first = await openDatabase(settings);
    expect(first.migrated).toEqual(allMigrations);
    await first.close();

    const second = await openDatabase(settings);
    try {
      expect(second.migrated).toEqual([]);
      const rows = await second.prisma.$queryRawUnsafe<{ migration_name: string }[]>(`SELECT migration_name FROM "_prisma_migrations"`);
      expect(rows.map((r) => r.migration_name).sort()).toEqual(allMigrations);
    } finally {
      await second.close();
    }
  });

  it("applying again on the same session is a no-op", async () => {
    const session = await emptyDatabase(kind);
    await applyMigrations(session);
    const before = await migrationRows(session);

    expect(await applyMigrations(session)).toEqual([]);
    expect(await migrationRows(session)).toEqual(before);
  });

  it("refuses a migration that was edited after it was applied, naming it (line endings alone are no edit)", async () => {
    const dir = await copyOfMigrations();
    const file = path.join(dir, initMigration, "migration.sql");
    const session = await emptyDatabase(kind);
    expect(await applyMigrations(session, dir)).toEqual(allMigrations);
    const applied = await migrationRows(session);

    // A CRLF checkout of the same script still matches, as with Prisma's schema engine.
    const original = await readFile(file, "utf8");
    expect(original).not.toContain("\r\n");
    await writeFile(file, original.replaceAll("\n", "\r\n"));
    expect(await applyMigrations(session, dir)).toEqual([]);

    await appendFile(file, "\r\n-- edited after it was applied\r\n");

    await expect(applyMigrations(session, dir)).rejects.toThrow(`migration ${initMigration} was edited after it was applied (checksum differs)`);
    expect(await migrationRows(session)).toEqual(applied);
    // The lock is released on the way out, and the unedited migrations are still accepted.
    expect(await advisoryLocksHeld(session)).toBe(0);
    expect(await applyMigrations(session)).toEqual([]);
  });

  it("rolls a failing migration back completely and records nothing for it", async () => {
    const dir = await copyOfMigrations();
    const broken = "29991231000000_broken";
    const brokenFile = path.join(dir, broken, "migration.sql");
    await mkdir(path.dirname(brokenFile));
    const goodPart = `CREATE TABLE "partial_table" ("id" INTEGER);\nINSERT INTO "partial_table" VALUES (1);\nALTER TABLE "tasks" ADD COLUMN "partial_column" TEXT;\n`;
    await writeFile(brokenFile, `${goodPart}SELECT * FROM "no_such_table";\n`);
    const session = await emptyDatabase(kind);

    await expect(applyMigrations(session, dir)).rejects.toThrow(new RegExp(`^migration ${broken} failed: .*no_such_table`));

    // The init migration before it committed; nothing of the broken one survived.
    expect(await tableExists(session, "tasks")).toBe(true);
    expect(await tableExists(session, "partial_table")).toBe(false);
    const columns = await session.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'tasks' AND column_name = 'partial_column'`);
    expect(columns).toEqual([]);
    const rows = await migrationRows(session);
    expect(rows.map((r) => [r.migration_name, r.finished_at !== null])).toEqual(allMigrations.map((name) => [name, true]));
    expect(await advisoryLocksHeld(session)).toBe(0);

    // Not recorded as failed either: once fixed, it applies normally.
    await writeFile(brokenFile, goodPart);
    expect(await applyMigrations(session, dir)).toEqual([broken]);
    expect(await tableExists(session, "partial_table")).toBe(true);
  });
});

describe.runIf(testDatabases.includes("postgres"))("applyMigrations from concurrent PostgreSQL connections", () => {
  it("applies the migration once while the other runs wait and then find nothing to do", async () => {
    const url = await emptyPostgresDatabase();
    const sessions = await Promise.all([1, 2, 3].map(async () => pgSession(await pgClient(url))));

    const results = await Promise.all(sessions.map((session) => applyMigrations(session)));

    expect(results.filter((r) => r.length > 0)).toEqual([allMigrations]);
    expect(results.filter((r) => r.length === 0)).toHaveLength(sessions.length - 1);
    const [first] = sessions;
    if (!first) throw new Error("no session");
    const rows = await migrationRows(first);
    expect(rows.map((r) => [r.migration_name, r.applied_steps_count])).toEqual(allMigrations.map((name) => [name, 1]));
    expect(await tableExists(first, "tasks")).toBe(true);
    expect(await advisoryLocksHeld(first)).toBe(0);
  });
});
