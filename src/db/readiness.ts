// What /readyz and /metrics ask the database: whether it answers, whether every migration this
// build ships is applied (compared with `_prisma_migrations`, as migrate.ts records them), and
// how many webhook deliveries wait to be handled.
import type { ReadinessCheck } from "../lib/readiness.ts";
import type { Db } from "./client.ts";
import { readMigrations } from "./migrate.ts";

/** A trivial query: the database is reachable and answering. */
export async function pingDatabase(db: Db): Promise<void> {
  await db.$queryRaw`SELECT 1`;
}

/** The migrations of this build that the database has not finished applying, in order. */
export async function pendingMigrations(db: Db, dir?: string): Promise<string[]> {
  const [shipped, applied] = await Promise.all([
    readMigrations(dir),
    db.$queryRaw<{ migration_name: string }[]>`
      SELECT migration_name FROM "_prisma_migrations" WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL`,
  ]);
  const done = new Set(applied.map((row) => row.migration_name));
  return shipped.map((migration) => migration.name).filter((name) => !done.has(name));
}

/** Deliveries stored and not yet handled: waiting for a run or a retry, or being handled now. */
export async function countUnhandledDeliveries(db: Db): Promise<number> {
  return db.webhookDelivery.count({ where: { status: { in: ["pending", "processing"] } } });
}

/** /readyz's database checks: it answers, and its schema is this build's. */
export function databaseReadiness(db: Db, kind: "postgres" | "pglite"): ReadinessCheck[] {
  return [
    {
      name: "database",
      probe: async () => {
        await pingDatabase(db);
        return { kind };
      },
    },
    {
      name: "migrations",
      probe: async () => {
        const pending = await pendingMigrations(db);
        if (pending.length > 0) throw new Error(`not applied: ${pending.join(", ")}`);
      },
    },
  ];
}
