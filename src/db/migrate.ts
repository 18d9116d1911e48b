// Applies prisma/migrations/<name>/migration.sql in order and records each in
// `_prisma_migrations` exactly as Prisma does (sha256 of the file as checksum), so an operator
// can switch to `prisma migrate deploy` wherever Prisma's schema engine is available.
// Prisma's CLI cannot run here offline (../shared/ENVIRONMENT.md), hence this runner.
import { createHash, randomUUID } from "node:crypto";
import { readdir, readFile } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { SqlSession } from "./sql-session.ts";

export const defaultMigrationsDir = fileURLToPath(new URL("../../prisma/migrations", import.meta.url));

// The same table `prisma migrate deploy` creates.
const createMigrationsTable = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
);`;

export interface Migration {
  name: string;
  sql: string;
  checksum: string;
}

const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

export async function readMigrations(dir = defaultMigrationsDir): Promise<Migration[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const names = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name).sort();
  return Promise.all(
    names.map(async (name) => {
      const sql = await readFile(path.join(dir, name, "migration.sql"), "utf8");
      return { name, sql, checksum: sha256Hex(sql) };
    }),
  );
}

/**
 * Whether a recorded checksum is this migration's. Like Prisma's schema engine
 * (`script_matches_checksum`), the script also matches with its line endings converted either
 * way, since git may check a migration out with CRLF where it was applied with LF (or back).
 */
function checksumMatches(migration: Migration, recorded: string): boolean {
  if (migration.checksum === recorded) return true;
  return [migration.sql.replaceAll("\r\n", "\n"), migration.sql.replaceAll("\n", "\r\n")].some((sql) => sha256Hex(sql) === recorded);
}

interface AppliedRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
}

/**
 * Applies pending migrations; returns the names applied. Each migration runs in its own
 * transaction together with its bookkeeping row, so a failure leaves nothing half-applied.
 * An advisory lock keeps two processes from migrating one database at once.
 */
export async function applyMigrations(session: SqlSession, dir = defaultMigrationsDir): Promise<string[]> {
  const migrations = await readMigrations(dir);
  await session.exec("SELECT pg_advisory_lock(72707369)");
  try {
    await session.exec(createMigrationsTable);
    const rows = await session.query<AppliedRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations"`,
    );
    const applied = new Map(rows.filter((row) => row.rolled_back_at === null).map((row) => [row.migration_name, row]));
    const done: string[] = [];
    for (const migration of migrations) {
      const row = applied.get(migration.name);
      if (row) {
        if (row.finished_at === null) {
          throw new Error(`migration ${migration.name} failed earlier and must be resolved by an operator`);
        }
        if (!checksumMatches(migration, row.checksum)) {
          throw new Error(`migration ${migration.name} was edited after it was applied (checksum differs)`);
        }
        continue;
      }
      await applyOne(session, migration);
      done.push(migration.name);
    }
    return done;
  } finally {
    await session.exec("SELECT pg_advisory_unlock(72707369)");
  }
}

async function applyOne(session: SqlSession, migration: Migration): Promise<void> {
  await session.exec("BEGIN");
  try {
    const id = randomUUID();
    await session.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
      [id, migration.checksum, migration.name],
    );
    await session.exec(migration.sql);
    await session.query(`UPDATE "_prisma_migrations" SET finished_at = now(), applied_steps_count = 1 WHERE id = $1`, [id]);
    await session.exec("COMMIT");
  } catch (error) {
    await session.exec("ROLLBACK");
    throw new Error(`migration ${migration.name} failed: ${(error as Error).message}`, { cause: error });
  }
}
