// What both benchmarks need: a percentile, and dropping a run's PostgreSQL database safely.
import { dropPostgresDatabase, withAdminClient } from "../test/helpers/databases.ts";

/**
 * Drops the run's database once the server's connections have gone. pg-pool's end() resolves
 * before its clients' sockets are closed, and DROP DATABASE … WITH (FORCE) terminating a
 * connection still open makes the pool emit an 'error' nobody listens to, which kills the
 * process; so wait for the backends to leave first (FORCE stays as a last resort).
 */
export async function dropWhenDisconnected(name: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  await withAdminClient(async (admin) => {
    while (Date.now() < deadline) {
      const { rows } = await admin.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1", [name]);
      if (rows[0]?.n === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  });
  await dropPostgresDatabase(name);
}

/** Nearest-rank percentile of an ascending list. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
