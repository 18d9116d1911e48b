// Opens the database the configuration names: PostgreSQL through @prisma/adapter-pg when
// DATABASE_URL is set, otherwise embedded PGlite under TASKS_DATA_DIR. Migrations are applied
// before the Prisma client is handed out, so callers always see the current schema.
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Config } from "../config.ts";
import type { Logger } from "../lib/logger.ts";
import { PrismaClient } from "../generated/prisma/client.ts";
import type { Db } from "./client.ts";
import { applyMigrations } from "./migrate.ts";
import { pgliteSession, pgSession } from "./sql-session.ts";

export interface Database {
  readonly prisma: Db;
  readonly kind: "postgres" | "pglite";
  /** Migrations applied by this open (empty when the schema was already current). */
  readonly migrated: string[];
  close(): Promise<void>;
}

/** `dataDir: "memory://"` opens an in-memory PGlite (tests). */
export async function openDatabase(settings: Config["database"], log?: Logger): Promise<Database> {
  return settings.kind === "postgres" ? openPostgres(settings.url, log) : openPglite(settings.dataDir);
}

async function openPostgres(url: string, log: Logger | undefined): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  // An idle connection the server drops (restart, failover, DROP DATABASE … FORCE) makes the pool
  // emit 'error'; unheard, that would crash the process. The pool replaces the connection itself.
  pool.on("error", (error) => log?.warn({ err: error }, "an idle PostgreSQL connection was closed by the server"));
  let migrated: string[];
  const client = await pool.connect();
  try {
    migrated = await applyMigrations(pgSession(client));
  } finally {
    client.release();
  }
  const prisma = new PrismaClient({ adapter: new PrismaPg(pool) });
  return {
    prisma,
    kind: "postgres",
    migrated,
    close: async () => {
      await prisma.$disconnect();
      await pool.end();
    },
  };
}

async function openPglite(dataDir: string): Promise<Database> {
  if (!dataDir.startsWith("memory://")) await mkdir(dataDir, { recursive: true });
  const db = await PGlite.create(dataDir);
  const migrated = await applyMigrations(pgliteSession(db));
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(db) });
  return {
    prisma,
    kind: "pglite",
    migrated,
    close: async () => {
      await prisma.$disconnect();
      await db.close();
    },
  };
}
