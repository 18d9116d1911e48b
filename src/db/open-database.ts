// Opens the database the configuration names: PostgreSQL through @prisma/adapter-pg when
// DATABASE_URL is set, otherwise embedded PGlite under TASKS_DATA_DIR. Migrations are applied
// before the Prisma client is handed out, so callers always see the current schema.
import { mkdir } from "node:fs/promises";
import { PGlite } from "@electric-sql/pglite";
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaPGlite } from "pglite-prisma-adapter";
import type { Config } from "../config.ts";
import { AppError } from "../lib/errors.ts";
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

/** PostgreSQL's connection pool. */
export interface PoolSettings {
  /** Connections open at once. */
  max: number;
  /**
   * How long a query waits for a free connection before it fails as `unavailable` (503 with
   * Retry-After in the API). pg waits forever by default, so a burst would hang every request.
   */
  connectionTimeoutMillis: number;
}

export const defaultPoolSettings: PoolSettings = { max: 10, connectionTimeoutMillis: 5_000 };

/** `dataDir: "memory://"` opens an in-memory PGlite (tests). `pool` applies to PostgreSQL only. */
export async function openDatabase(settings: Config["database"], log?: Logger, pool: Partial<PoolSettings> = {}): Promise<Database> {
  return settings.kind === "postgres" ? openPostgres(settings.url, log, { ...defaultPoolSettings, ...pool }) : openPglite(settings.dataDir);
}

async function openPostgres(url: string, log: Logger | undefined, settings: PoolSettings): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, ...settings });
  failAsUnavailableWhenBusy(pool);
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

type ConnectCallback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;

/**
 * Turns "no connection within connectionTimeoutMillis" into an `unavailable` AppError, which
 * Prisma passes through unchanged: the API answers 503 with Retry-After, the runners retry.
 * pg's own queries take a connection through the callback form of connect(), Prisma's
 * transactions through the promise form; both are covered.
 */
function failAsUnavailableWhenBusy(pool: pg.Pool): void {
  const connect = pool.connect.bind(pool) as (callback?: ConnectCallback) => Promise<pg.PoolClient> | undefined;
  const asUnavailable = (error: unknown) =>
    error instanceof Error && /timeout exceeded when trying to connect|connection timeout/i.test(error.message)
      ? new AppError("unavailable", "database_busy", "no database connection came free in time; try again shortly", { cause: error })
      : error;
  pool.connect = ((callback?: ConnectCallback) => {
    if (callback) return connect((error, client, done) => callback(error ? (asUnavailable(error) as Error) : error, client, done));
    return connect()!.catch((error: unknown) => {
      throw asUnavailable(error);
    });
  }) as typeof pool.connect;
}
