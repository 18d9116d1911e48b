// Real databases for tests: every DB-backed suite runs once on PostgreSQL and once on PGlite
// (`describe.each(testDatabases)`), each test file on a database of its own.
import { randomBytes } from "node:crypto";
import pg from "pg";
import { openDatabase, type Database } from "../../src/db/open-database.ts";

export type TestDatabaseKind = "postgres" | "pglite";

/** Which databases to run against: both by default, or one through TASKS_TEST_DB. */
export const testDatabases: TestDatabaseKind[] =
  process.env["TASKS_TEST_DB"] === "postgres" ? ["postgres"] : process.env["TASKS_TEST_DB"] === "pglite" ? ["pglite"] : ["postgres", "pglite"];

/** The PostgreSQL server tests use; each test database is created on it and dropped after. */
export const postgresAdminUrl = process.env["TASKS_TEST_DATABASE_URL"] ?? "postgresql://postgres@127.0.0.1:5432/postgres";

export function databaseUrl(name: string): string {
  const url = new URL(postgresAdminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function withAdminClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: postgresAdminUrl });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Creates an empty PostgreSQL database and returns its name. */
export async function createEmptyPostgresDatabase(): Promise<string> {
  const name = `tasks_test_${process.pid}_${randomBytes(4).toString("hex")}`;
  await withAdminClient((client) => client.query(`CREATE DATABASE "${name}"`));
  return name;
}

export async function dropPostgresDatabase(name: string): Promise<void> {
  await withAdminClient((client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

export interface TestDatabase extends Database {
  /** Connection string for PostgreSQL databases (undefined for PGlite). */
  readonly url: string | undefined;
}

/** A fresh, migrated database of the given kind; close() also drops it. */
export async function openTestDatabase(kind: TestDatabaseKind): Promise<TestDatabase> {
  if (kind === "pglite") {
    const db = await openDatabase({ kind: "pglite", dataDir: "memory://" });
    return { ...db, url: undefined, close: db.close };
  }
  const name = await createEmptyPostgresDatabase();
  const url = databaseUrl(name);
  const db = await openDatabase({ kind: "postgres", url });
  return {
    ...db,
    url,
    close: async () => {
      await db.close();
      await dropPostgresDatabase(name);
    },
  };
}
