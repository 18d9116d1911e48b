// For migration tests: an empty database of either kind with a raw SQL session, and a copy of
// prisma/migrations as it was before a given migration, to migrate a database "from the past".
import { cp, mkdtemp, readdir, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { afterEach } from "vitest";
import { applyMigrations, defaultMigrationsDir } from "../../src/db/migrate.ts";
import { pgliteSession, pgSession, type SqlSession } from "../../src/db/sql-session.ts";
import { createEmptyPostgresDatabase, databaseUrl, dropPostgresDatabase, type TestDatabaseKind } from "./databases.ts";

/** What a test runs afterwards, last first, to release what these helpers made. */
export type Cleanups = (() => Promise<unknown>)[];

/** A file's cleanups, run after each of its tests, last first. */
export function cleanupsAfterEach(): Cleanups {
  const cleanups: Cleanups = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return cleanups;
}

/** A database of either kind migrated up to, not including, `migration`: the past a migration meets. */
export async function databaseBefore(kind: TestDatabaseKind, migration: string, cleanups: Cleanups): Promise<SqlSession> {
  const session = await emptyDatabase(kind, cleanups);
  await applyMigrations(session, await migrationsBefore(migration, cleanups));
  return session;
}

export async function emptyDatabase(kind: TestDatabaseKind, cleanups: Cleanups): Promise<SqlSession> {
  if (kind === "pglite") {
    const db = new PGlite();
    cleanups.push(() => db.close());
    return pgliteSession(db);
  }
  const name = await createEmptyPostgresDatabase();
  cleanups.push(() => dropPostgresDatabase(name));
  const client = new pg.Client({ connectionString: databaseUrl(name) });
  await client.connect();
  cleanups.push(() => client.end());
  return pgSession(client);
}

/** A copy of prisma/migrations without `migration` and every one after it. */
export async function migrationsBefore(migration: string, cleanups: Cleanups): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "tasks-migrations-"));
  cleanups.push(() => rm(root, { recursive: true, force: true }));
  const dir = path.join(root, "migrations");
  await cp(defaultMigrationsDir, dir, { recursive: true });
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory() && entry.name >= migration) await rm(path.join(dir, entry.name), { recursive: true });
  }
  return dir;
}
