// Fails fast, with the fix in the message, when the PostgreSQL server the suite needs is down.
import { spawnSync } from "node:child_process";
import { postgresAdminUrl, testDatabases, withAdminClient } from "./helpers/databases.ts";

export default async function setup(): Promise<void> {
  // The local sandbox's tests run real bubblewrap; without it dozens fail with one cause.
  if (spawnSync("bwrap", ["--version"]).status !== 0) {
    throw new Error("bubblewrap (bwrap) is not installed; the local sandbox's tests need it: apt-get install bubblewrap (.ci/run does)");
  }
  if (!testDatabases.includes("postgres")) return;
  try {
    await withAdminClient((client) => client.query("SELECT 1"));
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${postgresAdminUrl} (${(error as Error).message}). ` +
        "Start it (`.ci/run` does: pg_ctlcluster --skip-systemctl-redirect 15 main start) or set TASKS_TEST_DATABASE_URL, " +
        "or run only the PGlite half with TASKS_TEST_DB=pglite.",
    );
  }
}
